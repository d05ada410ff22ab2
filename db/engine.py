"""The process's one database engine and its session factory.

`get_db_engine()` builds the engine from Settings on first use (thread-safe) and returns
the same pooled engine on every later call; nothing disposes it between calls. It never
creates tables: the schema comes from `python -m db.migrate`, run once before any worker
starts (workers creating tables at once deadlock on PostgreSQL). PostgreSQL
gets a QueuePool with pre-ping, so connections the server dropped are replaced silently.
SQLite gets WAL, foreign keys, a busy timeout and connections usable from any thread
(Streamlit runs each session's script in its own thread). `dispose_engine()` exists for
shutdown and tests only.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, get_settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def create_db_engine(settings: Settings) -> Engine:
    """Build a new engine for `settings`. Application code calls get_db_engine() instead."""
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
    log.debug("database engine created for %s", settings.database_url_safe)
    return engine


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


def get_db_engine() -> Engine:
    """Return the process-wide engine, creating it on first call (never the schema)."""
    global _engine, _sessionmaker
    engine = _engine
    if engine is not None:
        return engine
    with _lock:
        if _engine is None:
            new_engine = create_db_engine(get_settings())
            _sessionmaker = sessionmaker(new_engine, expire_on_commit=False)
            _engine = new_engine
        return _engine


def get_sessionmaker() -> sessionmaker[Session]:
    """The session factory bound to the process-wide engine."""
    get_db_engine()
    assert _sessionmaker is not None
    return _sessionmaker


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close.

    On the process-wide engine unless another `engine` is given (a desk on its own store).
    Domain functions that own their transaction (orders.confirm.confirm_draft) may commit
    inside it; the final commit then has nothing left to do.
    """
    if engine is None:
        session = get_sessionmaker()()
    else:
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


def dispose_engine() -> None:
    """Close every pooled connection and forget the engine. For shutdown and tests only."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None


def _after_fork_in_child() -> None:
    # A forked worker must not reuse the parent's sockets; drop them without closing
    # (closing would end the parent's connections too), per SQLAlchemy's pooling guide.
    if _engine is not None:
        _engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
