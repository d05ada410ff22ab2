"""Fixtures for the agent-loop tests: a real OrderDesk around a `ScriptedChatModel`.

Everything but the chat model is real: a freshly seeded store on SQLite and PostgreSQL
(the `engine` fixture), the real embedding model and a Chroma catalog collection synced
from SQL, the customer index, the checkpointer in the same database, the prompt file.
The Chroma client is a PersistentClient in a session temp directory rather than an
EphemeralClient: Chroma allows one ephemeral instance per process settings, and other
test packages create theirs with different settings. Test modules import these fixtures
(`from tests.agents.fixtures_loop import make_desk_fixture`); each fixture's
function is named `<fixture>_fixture` so the import does not shadow the test's argument.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from agents.desk import OrderDesk, load_prompt
from config import Settings, get_settings
from db.models import Draft, DraftLine, Order, OrderLine, Product
from db.seed import seed
from memory.threads import open_checkpointer
from orders.customers import CustomerIndex
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.chroma import create_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction
from rag.search import CatalogSearch
from tests.fakes import ScriptedChatModel

DeskFactory = Callable[[ScriptedChatModel], OrderDesk]


@pytest.fixture(scope="session", name="loop_collection")
def loop_collection_fixture(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbeddingFunction
) -> Collection:
    """One catalog collection for the session; products keep their ids on both backends."""
    settings = Settings(_env_file=None, chroma_path=tmp_path_factory.mktemp("loop_chroma"))  # type: ignore[call-arg]
    client = create_chroma_client(settings)
    return get_catalog_collection(client, embedder=embedder, name="loop_catalog")


@pytest.fixture(name="store")
def store_fixture(engine: Engine) -> Engine:
    """The test's database, seeded with Northwind."""
    seed(engine=engine)
    return engine


@pytest.fixture(name="catalog")
def catalog_fixture(
    store: Engine, loop_collection: Collection, embedder: MiniLMEmbeddingFunction
) -> CatalogSearch:
    """Hybrid search over the seeded catalog (the index is embedded once per session)."""
    sync_catalog(engine=store, collection=loop_collection, embedder=embedder)
    return CatalogSearch(engine=store, collection=loop_collection, embedder=embedder)


@pytest.fixture(name="make_desk")
def make_desk_fixture(store: Engine, catalog: CatalogSearch) -> Iterator[DeskFactory]:
    """Builds OrderDesks with the real constructor around a given scripted model.

    Each desk gets its own checkpointer on the test's database, as a new process would;
    they are closed when the test ends.
    """
    savers: list[Any] = []

    def build(model: ScriptedChatModel) -> OrderDesk:
        with Session(store) as session:
            customers = CustomerIndex.load(session=session)
        saver = open_checkpointer(get_settings(), url=store.url)
        savers.append(saver)
        return OrderDesk(
            engine=store,
            model=model,
            catalog=catalog,
            customers=customers,
            checkpointer=saver,
            prompt=load_prompt(),
        )

    yield build
    for saver in savers:
        close_saver(saver)


@pytest.fixture(name="thread_id")
def thread_id_fixture() -> str:
    """A fresh conversation id (checkpoint tables outlive one test on PostgreSQL)."""
    return f"loop-{uuid.uuid4().hex[:12]}"


def close_saver(saver: Any) -> None:
    """Close a checkpointer's SQLite connection or psycopg pool."""
    connection = getattr(saver, "conn", None)
    if connection is not None and hasattr(connection, "close"):
        connection.close()


# --- reading the store --------------------------------------------------------------


def thread_orders(
    engine: Engine, thread_id: str
) -> list[tuple[int, list[tuple[int, int, Decimal, Decimal]]]]:
    """Orders committed for `thread_id`: (order_id, [(product_id, qty, unit_price, discount)])."""
    with Session(engine) as session:
        orders = session.scalars(
            select(Order).where(Order.thread_id == thread_id).order_by(Order.order_id)
        ).all()
        return [
            (
                order.order_id,
                [
                    (line.product_id, line.quantity, line.unit_price, line.discount)
                    for line in sorted(order.lines, key=lambda line: line.product_id)
                ],
            )
            for order in orders
        ]


def stock(engine: Engine, product_id: int) -> int:
    with Session(engine) as session:
        product = session.get(Product, product_id)
        assert product is not None
        return product.units_in_stock


def store_snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of drafts and orders and every product's stock."""
    with Session(engine) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Draft, DraftLine, Order, OrderLine)
        }
        levels = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
    return {"counts": counts, "stock": levels}


def draft_lines(desk: OrderDesk, thread_id: str) -> list[tuple[int, int, Decimal]]:
    """The thread's open draft as (product_id, quantity, unit_price), or [] without one."""
    draft = desk.current_draft(thread_id)
    if draft is None:
        return []
    return [(line.product_id, line.quantity, line.unit_price) for line in draft.lines]


def interrupted(desk: OrderDesk, thread_id: str) -> bool:
    """True while the thread waits for a human decision on confirm_order."""
    state = desk.agent.get_state({"configurable": {"thread_id": thread_id}})
    return bool(state.interrupts)
