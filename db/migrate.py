"""The whole schema, made once before any worker starts: `python -m db.migrate`.

It upgrades DATABASE_URL to the newest Alembic revision (`db/migrations/`), then runs
the LangGraph checkpointer's own `setup()` (its tables version themselves in
`checkpoint_migrations`). A second run changes nothing and says so. Two runs at once are
safe: everything happens under one schema lock - a session advisory lock on a
connection of its own on PostgreSQL, a file lock beside the database file on SQLite -
so the second waits, then finds the schema current. Processes that serve requests
never create tables; they call `check_current()` at start-up and refuse to run on a
schema the code does not match.

Stores made before migrations existed (tables, no `alembic_version`) are brought to the
baseline revision and stamped by that revision itself (see 0001_baseline.py).

Python API (tests, tools): `upgrade(engine_or_url)`, `current_revision(engine)`,
`schema_state(engine)`, `check_current(engine)`, `head_revision()`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import filelock
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    column,
    create_engine,
    event,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock(int, int): the two-key form, a key space apart from db.locks' one-key locks.
LOCK_KEYS = (0x4F444553, 0x4D494752)  # "ODES", "MIGR"
VERSION_TABLE = "alembic_version"
_VERSION = table(VERSION_TABLE, column("version_num"))
LOCK_WAIT_S = 300.0
LOCK_POLL_S = 0.2
SQLITE_BUSY_S = 30.0


class MigrationError(RuntimeError):
    """The schema could not be brought to head; the message is for people."""


class SchemaNotCurrent(MigrationError):
    """The database's schema is not the one this code needs."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands: our Alembic revision and the saver's tables."""

    revision: str | None
    checkpointer: int | None
    empty: bool = False  # no tables at all


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade()` found and left."""

    before: SchemaState
    after: SchemaState

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def summary(self, where: str) -> str:
        if not self.changed:
            return f"Database {where} already current at revision {self.after.revision}."
        if self.before.revision == self.after.revision:
            return (
                f"Database {where} at revision {self.after.revision}; checkpointer tables set up."
            )
        if self.before.empty:
            return f"Database {where} created at revision {self.after.revision}."
        origin = self.before.revision or "a store made before migrations"
        return f"Database {where} at revision {self.after.revision} (upgraded from {origin})."


# --- Alembic ----------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The revision this code's models correspond to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "db/migrations/versions holds no revision"
    return head


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the checkpointer's tables (and their indexes) out of autogenerate."""
    from memory.threads import CHECKPOINTER_TABLES

    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in CHECKPOINTER_TABLES


# --- reading the state ------------------------------------------------------------------


def current_revision(engine: Engine | Connection) -> str | None:
    """The Alembic revision `engine`'s database is at (None: unversioned or empty)."""
    with _connected(engine) as connection:
        return _revision(connection)


def schema_state(engine: Engine | Connection) -> SchemaState:
    """Our revision and the checkpointer's version, read in one connection."""
    from memory.threads import checkpointer_version

    with _connected(engine) as connection:
        return SchemaState(
            _revision(connection),
            checkpointer_version(connection),
            empty=not inspect(connection).get_table_names(),
        )


def _revision(connection: Connection) -> str | None:
    # What MigrationContext.get_current_revision() reads, without its INFO log lines.
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.scalars(select(_VERSION.c.version_num)).all()
    if len(versions) > 1:
        raise MigrationError(f"{VERSION_TABLE} names several heads: {sorted(versions)}")
    return versions[0] if versions else None


def check_current(engine: Engine | Connection) -> None:
    """Raise SchemaNotCurrent unless the whole schema is the one this code needs.

    Cheap (two small queries): the API lifespan and the UI call it at start-up instead
    of creating tables.
    """
    from memory.threads import checkpointer_head

    state = schema_state(engine)
    head = head_revision()
    if state.revision != head:
        raise SchemaNotCurrent(
            f"database schema is at {state.revision or 'nothing'}, code needs {head}: "
            "run python -m db.migrate"
        )
    wanted = checkpointer_head(_dialect(engine))
    if state.checkpointer is None or state.checkpointer < wanted:
        raise SchemaNotCurrent(
            f"checkpointer tables are at {state.checkpointer}, code needs {wanted}: "
            "run python -m db.migrate"
        )


# --- upgrading --------------------------------------------------------------------------


def upgrade(
    target: Engine | URL | str, *, revision: str = "head", wait_s: float = LOCK_WAIT_S
) -> Upgrade:
    """Bring `target`'s database to `revision` and set up the checkpointer's tables.

    `target` may be the application's engine: the work runs on an engine of its own
    (no pool, and on SQLite foreign keys off and real transactions, which rebuilding a
    table in batch mode needs), so the caller's connections are never reconfigured.
    """
    from memory.threads import setup_checkpointer

    url = target.url if isinstance(target, Engine) else make_url(target)
    engine = _migration_engine(url)
    try:
        with _schema_lock(engine, wait_s):
            before = schema_state(engine)
            with engine.connect() as connection, connection.begin():
                command.upgrade(alembic_config(connection), revision)
            setup_checkpointer(url, timeout_s=SQLITE_BUSY_S)
            after = schema_state(engine)
    finally:
        engine.dispose()
    if before != after:
        log.debug("schema of %s: %s -> %s", _safe(url), before, after)
    return Upgrade(before, after)


def _migration_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise MigrationError("an in-memory SQLite database has no schema to migrate")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, say where transactions begin (so DDL is inside
        # them); foreign keys off, or rebuilding a referenced table would cascade.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def _schema_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """One migration at a time per database, across processes and machines."""
    if engine.dialect.name == "sqlite":
        path = Path(f"{engine.url.database}.migrate.lock")
        try:
            with filelock.FileLock(path, timeout=wait_s):
                yield
        except filelock.Timeout as error:
            raise MigrationError(
                f"another python -m db.migrate has held {path} for over {wait_s:.0f} s"
            ) from error
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Polled, not waited for in one statement: a waiting statement holds a snapshot,
        # and the holder's checkpointer setup (CREATE INDEX CONCURRENTLY) waits for every
        # snapshot in the database to go - the two would wait for each other for ever.
        deadline = time.monotonic() + wait_s
        try_lock = text("SELECT pg_try_advisory_lock(:a, :b)")
        while not connection.scalar(try_lock, _lock_params()):
            if time.monotonic() > deadline:
                raise MigrationError(
                    f"another python -m db.migrate has held the schema lock for over {wait_s:.0f} s"
                )
            time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), _lock_params())


def _lock_params() -> dict[str, int]:
    return {"a": LOCK_KEYS[0], "b": LOCK_KEYS[1]}


@contextmanager
def _connected(engine: Engine | Connection) -> Iterator[Connection]:
    if isinstance(engine, Connection):
        yield engine
        return
    with engine.connect() as connection:
        yield connection


def _dialect(engine: Engine | Connection) -> str:
    return engine.dialect.name


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


# --- command line -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from config import ConfigError, configure_logging, get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 unless the schema is current",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=LOCK_WAIT_S,
        metavar="SECONDS",
        help="how long to wait for another migration to finish (default: %(default).0f)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log each step; tracebacks on failure"
    )
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(settings)
    logging.getLogger("alembic").setLevel(logging.INFO if args.verbose else logging.WARNING)
    where = settings.database_url_safe
    started = time.perf_counter()
    try:
        if args.check:
            engine = create_engine(settings.database_url, poolclass=NullPool)
            try:
                check_current(engine)
            finally:
                engine.dispose()
            summary = f"Database {where} is current at revision {head_revision()}."
        else:
            summary = upgrade(settings.database_url, wait_s=args.wait).summary(where)
    except SchemaNotCurrent as error:
        print(f"Database {where}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - every failure is one line and exit 1
        if args.verbose:
            traceback.print_exc()
        print(f"Cannot migrate {where}: {_reason(error)}", file=sys.stderr)
        return 1
    print(summary)
    log.debug("migration took %.2f s", time.perf_counter() - started)
    return 0


def _reason(error: BaseException) -> str:
    """The first line of what went wrong, without the driver's noise."""
    if isinstance(error, MigrationError):
        return str(error)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return reason[0] if reason else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
