"""Conversation threads: the LangGraph checkpointer, in the same database as the orders.

SQLite: a `SqliteSaver` on the app's database file (its own connection, safe across
threads). PostgreSQL: a `PostgresSaver` over a small psycopg 3 pool that, like the
engine's pre-ping, checks each connection before handing it out, so a server restart or
a terminated backend costs no turn. Either way a thread (messages, a pending approval)
survives restarts and is shared by every process that uses the same database.

The saver's tables are part of the schema `python -m db.migrate` makes (it calls
`setup_checkpointer`, once, under the schema lock); a process that opens a saver never
creates them - several workers doing so at once on a fresh PostgreSQL database deadlock.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url

from config import Settings

RECONNECT_TIMEOUT_S = 5.0  # how long the pool retries a failed connection in the background

# The savers' own tables (langgraph-checkpoint-sqlite / -postgres); not in our models.
SQLITE_CHECKPOINTER_TABLES = frozenset({"checkpoints", "writes"})
POSTGRES_CHECKPOINTER_TABLES = frozenset(
    {"checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"}
)
CHECKPOINTER_TABLES = SQLITE_CHECKPOINTER_TABLES | POSTGRES_CHECKPOINTER_TABLES


def open_checkpointer(settings: Settings, *, url: URL | str | None = None) -> Any:
    """A checkpointer for `url` (default: DATABASE_URL), on the tables db.migrate made."""
    url = make_url(url or settings.database_url)
    if url.get_backend_name() == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        connection = sqlite3.connect(
            url.database or "",
            check_same_thread=False,
            timeout=settings.sqlite_busy_timeout_ms / 1000,
        )
        connection.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(connection)
        # SqliteSaver would run its CREATE TABLEs on first use; db.migrate has done that.
        saver.is_setup = True
    else:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            _conninfo(url),
            min_size=1,
            max_size=max(2, settings.db_pool_size),
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            # Test each connection as it leaves the pool: one the server dropped (a restart,
            # pg_terminate_backend, a failover) is replaced instead of failing the turn.
            check=ConnectionPool.check_connection,
            timeout=settings.db_pool_timeout,
            # Give up a failed reconnection after a few seconds instead of backing off for
            # minutes: the next request then connects at once when the server is back.
            reconnect_timeout=RECONNECT_TIMEOUT_S,
            open=True,
        )
        saver = PostgresSaver(pool)  # type: ignore[arg-type]
    return saver


def close_checkpointer(saver: Any) -> None:
    """Close what `open_checkpointer` opened (a SQLite connection or a psycopg pool)."""
    connection = getattr(saver, "conn", None)
    if connection is not None and hasattr(connection, "close"):
        connection.close()


def setup_checkpointer(url: URL | str, *, timeout_s: float = 30.0) -> None:
    """Create or upgrade the saver's tables (its own `setup()`). For db.migrate only.

    SqliteSaver creates its tables if missing; PostgresSaver applies the migrations it
    has not recorded in `checkpoint_migrations` yet.
    """
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        with closing(sqlite3.connect(url.database or "", timeout=timeout_s)) as connection:
            SqliteSaver(connection).setup()
        return
    from langgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(_conninfo(url)) as saver:
        saver.setup()


def checkpointer_version(connection: Connection) -> int | None:
    """How far the saver's tables are set up on `connection`'s database; None: not at all.

    PostgreSQL: the last migration recorded in `checkpoint_migrations` (None while any
    of its tables is missing). SQLite (whose saver keeps no record): 1 when its tables
    and their newest column exist.
    """
    inspector = inspect(connection)
    if connection.dialect.name == "sqlite":
        if not (inspector.has_table("checkpoints") and inspector.has_table("writes")):
            return None
        columns = {column["name"] for column in inspector.get_columns("writes")}
        return 1 if "task_path" in columns else 0
    if not POSTGRES_CHECKPOINTER_TABLES <= set(inspector.get_table_names()):
        return None
    return connection.scalar(text("SELECT max(v) FROM checkpoint_migrations"))


def checkpointer_head(dialect: str) -> int:
    """The `checkpointer_version` the installed saver sets up."""
    if dialect == "sqlite":
        return 1
    from langgraph.checkpoint.postgres.base import MIGRATIONS

    return len(MIGRATIONS) - 1


def _conninfo(url: URL) -> str:
    # psycopg 3 takes a libpq URL: the SQLAlchemy driver suffix (+psycopg2) must go.
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
