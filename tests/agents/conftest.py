"""Agent fixtures: a real OrderDesk (offline model) on a freshly seeded store per backend.

Real parts throughout: the seeded SQLite / PostgreSQL database, the real embedding model,
a Chroma catalog collection (in memory, synced from SQL), a customer memory collection
of the desk's own and the LangGraph checkpointer in the same database as the orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import chromadb
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents.desk import OrderDesk
from bootstrap import build_services
from config import Settings, get_settings
from db.engine import create_db_engine, init_schema
from db.models import Order, Product
from db.seed import seed
from memory.store import MemoryStore, open_memory_store
from rag.catalog_index import get_catalog_collection
from rag.chroma import create_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction, create_embedder
from tests.agents.order_generator import Catalog, load_catalog


@pytest.fixture
def seeded_engine(engine: Engine) -> Engine:
    seed(engine=engine)
    return engine


def open_desk(
    engine: Engine,
    memory: MemoryStore | None = None,
    *,
    embedder: MiniLMEmbeddingFunction | None = None,
) -> OrderDesk:
    """An offline desk from the composition root on `engine`, with a catalog index of its
    own (in memory, synced on open); without `memory`, a fresh (empty, in-memory) memory
    store. `embedder`: the session's; a process of its own (a child) makes one.

    The engine is the caller's, so `desk.close()` releases all the services built here.
    """
    settings = get_settings()
    embedder = embedder or create_embedder(settings)
    client = chromadb.EphemeralClient()
    collection = get_catalog_collection(
        client, embedder=embedder, name=f"catalog_{uuid.uuid4().hex[:8]}"
    )
    if memory is None:
        memory = open_memory_store(client, embedder=embedder, name=f"mem_{uuid.uuid4().hex[:8]}")
    services = build_services(
        settings,
        provider="offline",
        engine=engine,
        embedder=embedder,
        catalog_collection=collection,
        memory=memory,
    )
    return services.desk


@pytest.fixture
def desk(seeded_engine: Engine, embedder: MiniLMEmbeddingFunction) -> Iterator[OrderDesk]:
    """An offline OrderDesk on the seeded store (catalog index synced on open)."""
    opened = open_desk(seeded_engine, embedder=embedder)
    yield opened
    opened.close()


@pytest.fixture
def thread() -> Callable[[], str]:
    return lambda: f"t-{uuid.uuid4().hex[:12]}"


def stock_of(engine: Engine, product_id: int) -> int:
    with Session(engine) as session:
        return session.get(Product, product_id).units_in_stock


def new_orders(engine: Engine) -> list[Order]:
    with Session(engine) as session:
        return list(session.scalars(select(Order).where(Order.order_id > 11077)))


# --- one offline desk on a seeded SQLite store, for the reading properties -----------


@dataclass
class Northwind:
    desk: OrderDesk
    catalog: Catalog


@pytest.fixture(autouse=True)
def _no_holds_on_the_shared_desk(request: pytest.FixtureRequest) -> None:
    """The session's `northwind` desk serves thousands of generated orders, each in a
    thread of its own and left open: they would hold its stock for HOLD_MINUTES and turn
    later lines short. Its tests are about reading, so they run with holds off (holds
    have their own tests on fresh stores)."""
    if "northwind" in request.fixturenames:
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("HOLD_MINUTES", "0")
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def northwind(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbeddingFunction
) -> Iterator[Northwind]:
    """An offline desk on a seeded SQLite store, with its catalog as the generator sees it."""
    folder: Path = tmp_path_factory.mktemp("northwind_offline")
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{folder / 'northwind.db'}",
        chroma_path=folder / "chroma",
    )
    engine = create_db_engine(config)
    init_schema(engine)
    seed(engine=engine)
    client = create_chroma_client(config)
    services = build_services(
        config,
        engine=engine,
        embedder=embedder,
        catalog_collection=get_catalog_collection(client, embedder=embedder, name="catalog"),
        provider="offline",
        memory=open_memory_store(client, embedder=embedder, name="memories"),
    )
    yield Northwind(services.desk, load_catalog(engine))
    services.close()
    engine.dispose()
