"""Shared fixtures: real SQLite files and a real PostgreSQL database for every DB test.

PostgreSQL comes from TEST_DATABASE_URL when it is set (CI points it at the server on
127.0.0.1:5432); otherwise an embedded PostgreSQL 16 is started from the `pgserver`
wheel, so the suite passes on a machine with no server installed. Either way the suite
creates its own database and drops it at the end.

Each test starts on an empty store with the whole schema (`python -m db.migrate`'s), made
once per run, not per test: a SQLite test gets a copy of a migrated template file, and
the PostgreSQL database is migrated once and emptied between tests with DELETE (or
rebuilt, when a test left its schema changed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from chromadb.api import ClientAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import get_settings, load_settings, normalize_database_url
from db.engine import create_db_engine
from db.migrate import VERSION_TABLE, current_revision, head_revision, upgrade
from db.models import Base
from memory.threads import POSTGRES_CHECKPOINTER_TABLES
from rag.chroma import create_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Settings come from each test's own environment, never a developer's .env file.
    monkeypatch.setenv("ORDERDESK_ENV_FILE", "")
    for name in ("DATABASE_URL", "LLM_PROVIDER", "OPENAI_API_KEY", "API_KEYS", "CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbeddingFunction:
    """The real all-MiniLM-L6-v2 model, loaded once for the whole run."""
    return MiniLMEmbeddingFunction(batch_size=64)


@pytest.fixture(scope="session")
def chroma_client() -> ClientAPI:
    """One in-memory Chroma for the run (Chroma allows one per process); tests name
    their own collections."""
    return create_chroma_client(load_settings(), ephemeral=True)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL on a PostgreSQL server the suite may create databases on."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield normalize_database_url(configured)
        return
    with embedded_postgres() as server:
        yield normalize_database_url(server.get_uri())


@contextmanager
def embedded_postgres() -> Iterator[Any]:
    """A PostgreSQL server of our own (the `pgserver` wheel), deleted when done.

    Its data lives in a mkdtemp directory, not under pytest's tmp_path: as root, pgserver
    runs postgres as the user "pgserver", who must traverse the parents, and every pytest
    start resets /tmp/pytest-of-root to 0700 and prunes old trees.
    """
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="orderdesk-pg-"))
    server = pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A database of the suite's own on that server, dropped when the suite ends."""
    with scratch_database(pg_server_url, prefix="orderdesk_test") as url:
        upgrade(url)
        yield url


def release_holds(engine: Engine) -> None:
    """Let every open draft's stock hold run out now (orders.stock), as HOLD_MINUTES would:
    for stores shared by a module's or session's tests, so one test's drafts left open do
    not lower the stock the next test finds. The drafts themselves stay as they were."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE drafts SET hold_until = NULL WHERE status = 'open'"))


@contextmanager
def scratch_database(server_url: str, *, prefix: str = "orderdesk_scratch") -> Iterator[str]:
    """A new, empty PostgreSQL database on `server_url`'s server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def terminate_every_connection(url: str) -> list[bool]:
    """pg_terminate_backend on every other connection to `url`'s database; one result each."""
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        terminated = connection.scalars(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    admin.dispose()
    return list(terminated)


PG_SCHEMA_TABLES = frozenset(Base.metadata.tables) | POSTGRES_CHECKPOINTER_TABLES | {VERSION_TABLE}
# Every row but the schema versions, dependents first; then every sequence back to 1. On
# tables this small DELETE takes a few ms, TRUNCATE (new files for each table) ~60.
_EMPTY_ROWS = "; ".join(
    [f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)]
    + [
        f'DELETE FROM "{table}"'
        for table in sorted(POSTGRES_CHECKPOINTER_TABLES)
        if table != "checkpoint_migrations"
    ]
    + [
        "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
        "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
    ]
)


def _empty_schema(url: str) -> None:
    """Empty every table of `url`'s migrated database, keeping the schema.

    A test that changed the schema (dropped a table, a stamp) gets it rebuilt instead.
    """
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            tables = set(
                connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            )
            intact = tables == PG_SCHEMA_TABLES and current_revision(connection) == head_revision()
            if intact:
                connection.exec_driver_sql(_EMPTY_ROWS)
            else:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        if not intact:
            upgrade(url)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; tests get copies (`sqlite_store`)."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    upgrade(f"sqlite:///{path}")
    assert not Path(f"{path}-wal").exists(), "the template must be checkpointed to copy"
    return path


def sqlite_store(template: Path, path: Path) -> str:
    """A new SQLite store at `path` with the whole schema and no rows: its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each backend: the whole schema, no rows, at the start of the test."""
    if request.param == "sqlite":
        yield sqlite_store(request.getfixturevalue("sqlite_template"), tmp_path / "orderdesk.db")
        return
    url = request.getfixturevalue("pg_url")
    _empty_schema(url)
    yield url


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The product's engine (`create_db_engine`, as the composition root makes it) on this
    test's database, which is also DATABASE_URL; disposed when the test ends."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Like `engine`, on PostgreSQL only (for checks that need a server)."""
    _empty_schema(pg_url)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    yield engine
    engine.dispose()
