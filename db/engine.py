"""The database engine, built from Settings, and one unit of work on it.

`create_db_engine(settings)` builds a pooled engine. The composition root
(`bootstrap.build_services`) makes one per process and hands it down; nothing disposes it
between calls (only `Services.close()` at shutdown). It never creates tables: the schema
comes from `python -m db.migrate`, run once before any worker starts (workers creating
tables at once deadlock on PostgreSQL). PostgreSQL gets a QueuePool with pre-ping, so
connections the server dropped are replaced silently. SQLite gets WAL, foreign keys, a
busy timeout and connections usable from any thread (Streamlit runs each session's script
in its own thread). A forked child never uses a connection its parent opened: its pool
starts empty (SQLAlchemy's pooling guide, "Using Connection Pools with Multiprocessing or
os.fork()").
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from config import Settings

log = logging.getLogger(__name__)


def create_db_engine(settings: Settings) -> Engine:
    """A new pooled engine for `settings` (one per process: see the module docstring)."""
    if settings.is_sqlite:
        engine = _create_sqlite_engine(settings)
    else:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            pool_pre_ping=True,
            echo=settings.db_echo,
        )
    _not_across_forks(engine)
    log.debug("database engine created for %s", settings.database_url_safe)
    return engine


def _not_across_forks(engine: Engine) -> None:
    """In a forked child, drop the pooled connections the parent opened, without closing
    them (closing would end the parent's connections too): SQLAlchemy's pooling guide.

    The hook holds the engine weakly, so an engine that is gone costs the fork nothing.
    """
    engine_ref = weakref.ref(engine)

    def _in_child() -> None:
        alive = engine_ref()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=_in_child)


def _create_sqlite_engine(settings: Settings) -> Engine:
    database = make_url(settings.database_url).database
    if database and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        settings.database_url,
        # Streamlit and the API hand work to many threads; the pool serialises use of
        # each connection, so sharing across threads is safe.
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        echo=settings.db_echo,
    )
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work on `engine`: commit on success, roll back on any error, always close.

    Domain functions that own their transaction (orders.confirm.confirm_draft) may commit
    inside it; the final commit then has nothing left to do.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def init_schema(engine: Engine) -> None:
    """Bring `engine`'s database to the whole current schema (as `python -m db.migrate`).

    For tests, evaluations and benchmarks that make a store of their own; processes
    that serve requests check the schema (`db.migrate.check_current`) instead.
    """
    from db.migrate import upgrade

    upgrade(engine)
