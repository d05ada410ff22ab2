"""The composition root: every client Order Desk runs on, built once from Settings.

`build_services(settings)` makes the parts in order - the database engine, the embedder,
the Chroma connection, catalog search (its index synced), customer memory and its outbox
relay, the chat model, the checkpointer, and the `OrderDesk` over them - and returns them
as one `Services`, whose `close()` releases what it built. Each program builds it once
and hands the parts down: the Streamlit app keeps it in one `st.cache_resource`
(ui/resources.py), the HTTP API in its lifespan (api/main.py), the CLI for its one turn.
No module keeps a client of its own; the seeders, `db.migrate` and the benchmarks that
need one part only use the plain factories (`create_db_engine`, `create_chroma_client`,
`create_embedder`).

Chroma is optional at run time: when it cannot be reached the desk still starts, search
uses spelling only and customer memory is off, each said in the log; the connection keeps
trying, so search and the outbox relay use Chroma again once it is back.

The overrides build the same wiring on a private store (tests, the evaluation runner):
`engine` (not disposed by `close()`: it is the caller's), `chroma` (a client to use as
the process's), `embedder` (one model shared by many builds), `catalog_collection` (a
catalog index of the caller's: then nothing touches the process's Chroma, and memory,
unless given, is a private in-memory store) and `memory`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.language_models import BaseChatModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from agents.desk import OrderDesk, load_prompt
from agents.models import build_chat_model
from config import Settings
from db.engine import create_db_engine
from db.locks import ThreadLocks
from db.migrate import MigrationError, check_current
from memory.outbox import OutboxRelay
from memory.store import MemoryStore, open_memory_store, private_memory_store
from memory.threads import close_checkpointer, open_checkpointer
from orders.book import OrderBook
from orders.catalog import list_products
from orders.customers import CustomerIndex
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.chroma import ChromaConnection
from rag.embeddings import MiniLMEmbeddingFunction, create_embedder
from rag.search import CatalogSearch

log = logging.getLogger(__name__)

Step = Callable[[str], AbstractContextManager[Any]]  # e.g. st.spinner: shown while a part is made


@dataclass(eq=False)
class Services:
    """What `build_services` made, for the caller to hand down; `close()` when done."""

    settings: Settings
    engine: Engine
    chroma_connection: ChromaConnection | None  # None on a private catalog index
    embedder: MiniLMEmbeddingFunction
    catalog: CatalogSearch
    memory: MemoryStore | None  # None while Chroma was unreachable at start
    relay: OutboxRelay | None  # the background relay, on the process's memory only
    model: BaseChatModel
    checkpointer: Any
    desk: OrderDesk
    orders: OrderBook  # what pages and routes read about orders, customers, products
    _release: ExitStack = field(repr=False)

    @property
    def chroma(self) -> ClientAPI | None:
        """The Chroma client, once Chroma has answered (None: unavailable so far)."""
        return self.chroma_connection.client if self.chroma_connection else None

    def close(self) -> None:
        """Release what was built, last made first: the desk (checkpointer, locks), the
        relay, then the engine if it was ours. Safe to call twice."""
        self._release.close()


def build_services(
    settings: Settings,
    *,
    provider: str | None = None,
    prompt_path: Path | None = None,
    engine: Engine | None = None,
    chroma: ClientAPI | None = None,
    embedder: MiniLMEmbeddingFunction | None = None,
    catalog_collection: Collection | None = None,
    memory: MemoryStore | None = None,
    sync_catalog: bool = True,
    start_relay: bool = True,
    step: Step | None = None,
) -> Services:
    """Every part from `settings` (see the module docstring for the overrides).

    `provider` overrides LLM_PROVIDER; `sync_catalog` embeds new or changed products
    first; `start_relay` starts the background outbox relay on the process's memory
    store; `step(text)` wraps each stage (the UI shows it as a spinner). If a stage fails,
    what was built before it is released and the error is raised.
    """
    stage = step or (lambda _text: nullcontext())
    release = ExitStack()
    try:
        with stage("Opening the database…"):
            if engine is None:
                engine = create_db_engine(settings)
                release.callback(engine.dispose)
            # No process creates tables: one on a schema the code does not match stops
            # here with the command that fixes it (SchemaNotCurrent).
            check_current(engine)
        with stage("Loading the embedding model…"):
            embedder = embedder or create_embedder(settings)
        with stage("Connecting to Chroma…"):
            connection, catalog = _catalog_search(
                settings, engine, embedder, chroma, catalog_collection, sync_catalog
            )
            shared = memory is None and catalog_collection is None
            source = (
                _MemorySource(connection, embedder) if shared and connection is not None else None
            )
            if memory is None:
                memory = _default_memory(settings, embedder, source)
            # On the process's store a background relay delivers every process's backlog
            # (and retries a Chroma that was down); a private store only ever gets this
            # desk's own orders, which the desk delivers itself.
            relay = OutboxRelay(engine, source) if source is not None else None
            if relay is not None and start_relay:
                relay.start()
                release.callback(relay.stop)
        with stage("Starting the order desk…"):
            with Session(engine) as session:
                customers = CustomerIndex.load(session=session)
                names = [product.name for product in list_products(session=session)]
            model = build_chat_model(
                settings, provider=provider, customers=customers, product_names=names
            )
            checkpointer = open_checkpointer(settings, url=engine.url)
            try:
                desk = OrderDesk(
                    engine=engine,
                    model=model,
                    catalog=catalog,
                    customers=customers,
                    checkpointer=checkpointer,
                    prompt=load_prompt(prompt_path),
                    memory=memory,
                    locks=ThreadLocks.from_settings(engine, settings),
                    relay=relay,
                )
            except BaseException:
                close_checkpointer(checkpointer)
                raise
            release.callback(desk.close)
    except BaseException:
        release.close()
        raise
    return Services(
        settings=settings,
        engine=engine,
        chroma_connection=connection,
        embedder=embedder,
        catalog=catalog,
        memory=memory,
        relay=relay,
        model=model,
        checkpointer=checkpointer,
        desk=desk,
        orders=OrderBook(engine),
        _release=release,
    )


def _catalog_search(
    settings: Settings,
    engine: Engine,
    embedder: MiniLMEmbeddingFunction,
    chroma: ClientAPI | None,
    collection: Collection | None,
    sync: bool,
) -> tuple[ChromaConnection | None, CatalogSearch]:
    """Search over `collection`, or over the process's catalog collection on Chroma (made
    when first needed); the index synced with SQL first when `sync`."""
    if collection is not None:
        if sync:
            _sync_catalog_index(engine, embedder, lambda: collection)
        return None, CatalogSearch(engine=engine, collection=collection, embedder=embedder)
    connection = ChromaConnection(settings, client=chroma)

    def catalog_collection() -> Collection:
        return get_catalog_collection(connection.connect(), embedder=embedder)

    if sync:
        _sync_catalog_index(engine, embedder, catalog_collection)
    search = CatalogSearch(engine=engine, embedder=embedder, connect=catalog_collection)
    return connection, search


def _sync_catalog_index(
    engine: Engine, embedder: MiniLMEmbeddingFunction, collection: Callable[[], Collection]
) -> None:
    """Embed new or changed products so semantic search sees the current catalog."""
    try:
        sync_catalog(engine=engine, collection=collection(), embedder=embedder)
    except Exception as error:  # noqa: BLE001 - search falls back to lexical and says so
        log.warning("catalog index not synced (Chroma unavailable?): %s", error)


class _MemorySource:
    """The memory store on the process's Chroma, made once Chroma answers (raises until
    then): what the outbox relay asks for on each pass."""

    def __init__(self, connection: ChromaConnection, embedder: MiniLMEmbeddingFunction) -> None:
        self._connection = connection
        self._embedder = embedder
        self._store: MemoryStore | None = None
        self._lock = threading.Lock()

    def __call__(self) -> MemoryStore:
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    client = self._connection.connect()
                    self._store = open_memory_store(client, embedder=self._embedder)
                store = self._store
        return store


def _default_memory(
    settings: Settings, embedder: MiniLMEmbeddingFunction, source: _MemorySource | None
) -> MemoryStore | None:
    """The process's memory store (`source`), or a private one beside a private catalog;
    None if Chroma is unavailable."""
    try:
        return source() if source is not None else private_memory_store(settings, embedder=embedder)
    except Exception as error:  # noqa: BLE001 - the desk works without memory, and says so
        log.warning("customer memory unavailable (Chroma down?): %s", error)
        return None


# --- start-up checks and outages, for the programs that serve -------------------------

# What the domain's calls raise while the database is down or refuses connections: the
# HTTP API answers these with a 503 (api/errors.py) without knowing SQLAlchemy.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError,)


def database_problem(settings: Settings, *, schema: bool = True) -> str | None:
    """Why a process must not start on DATABASE_URL, in one line that says what to do;
    None when the database answers and (with `schema`) holds the schema this code needs.

    `schema=False` only connects: a launcher's check before it migrates.
    """
    try:
        engine = create_db_engine(settings)
    except OSError as error:  # e.g. a SQLite directory that cannot be made
        return _unavailable(settings, error)
    try:
        if schema:
            check_current(engine)  # SchemaNotCurrent names the command that fixes it
        else:
            with engine.connect():
                pass
    except MigrationError as error:
        return str(error)
    except (DBAPIError, OSError) as error:
        return _unavailable(settings, error)
    finally:
        engine.dispose()
    return None


def _unavailable(settings: Settings, error: BaseException) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = lines[0] if lines else type(error).__name__
    return (
        f"the database {settings.database_url_safe} cannot be used ({reason}): start it, "
        "or set DATABASE_URL to one that runs"
    )
