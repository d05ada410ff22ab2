"""Conversation threads: the LangGraph checkpointer, in the same database as the orders.

SQLite: a `SqliteSaver` on the app's database file (its own connection, safe across
threads). PostgreSQL: a `PostgresSaver` over a small psycopg 3 pool that, like the
engine's pre-ping, checks each connection before handing it out, so a server restart or
a terminated backend costs no turn. Either way a thread (messages, a pending approval)
survives restarts and is shared by every process that uses the same database.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import URL, make_url

from config import Settings

RECONNECT_TIMEOUT_S = 5.0  # how long the pool retries a failed connection in the background


def open_checkpointer(settings: Settings, *, url: URL | str | None = None) -> Any:
    """A ready (tables created) checkpointer for `url` (default: DATABASE_URL)."""
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
    else:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = ConnectionPool(
            conninfo,
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
    saver.setup()
    return saver


def close_checkpointer(saver: Any) -> None:
    """Close what `open_checkpointer` opened (a SQLite connection or a psycopg pool)."""
    connection = getattr(saver, "conn", None)
    if connection is not None and hasattr(connection, "close"):
        connection.close()
