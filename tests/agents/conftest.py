"""Agent fixtures: a real OrderDesk (offline model) on a freshly seeded store per backend.

Real parts throughout: the seeded SQLite / PostgreSQL database, the real embedding model,
a Chroma catalog collection (in memory, synced from SQL), a customer memory collection
of the desk's own and the LangGraph checkpointer in the same database as the orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import chromadb
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents.desk import OrderDesk
from db.models import Order, Product
from db.seed import seed
from memory.store import MemoryStore, get_memories_collection
from rag.catalog_index import get_catalog_collection


@pytest.fixture
def seeded_engine(engine: Engine) -> Engine:
    seed(engine=engine)
    return engine


def open_desk(engine: Engine, memory: MemoryStore | None = None) -> OrderDesk:
    """An offline desk; without `memory`, a fresh (empty, in-memory) memory store."""
    client = chromadb.EphemeralClient()
    collection = get_catalog_collection(client, name=f"catalog_{uuid.uuid4().hex[:8]}")
    if memory is None:
        memory = MemoryStore(get_memories_collection(client, name=f"mem_{uuid.uuid4().hex[:8]}"))
    return OrderDesk.open(engine=engine, collection=collection, provider="offline", memory=memory)


@pytest.fixture
def desk(seeded_engine: Engine) -> Iterator[OrderDesk]:
    """An offline OrderDesk on the seeded store (catalog index synced on open)."""
    opened = open_desk(seeded_engine)
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
