"""One turn per conversation thread at a time, across every process on the database.

A turn (or an approval) of a thread reads the draft and the checkpoint, runs the agent
and writes both back; two of them interleaved - a double submit, two tabs, a retry that
lands on another API replica - fork the history and can order one draft twice. So the
whole turn holds a lock named after the thread, in the one place every process shares:

- PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`), waited for
  at most `wait_s` (`lock_timeout`). The server releases it when the transaction ends -
  or when the process dies. A held lock holds a connection for the whole turn, so
  `ThreadLocks` keeps those in a pool of their own: turns waiting for (or holding) a
  lock never starve the turns' own queries of the engine's connections.
- SQLite (a file, so one machine): an exclusive `flock` on a lock file beside the
  database (`filelock`), one of `BUCKETS` per database; the kernel releases it when the
  process dies. An in-memory SQLite database is private to its process: a thread lock.

A lock not granted within `wait_s` raises `ThreadBusy`, and the caller says the
conversation is busy instead of waiting without end.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc

from config import Settings

BUCKETS = 1024  # lock files per SQLite database; two threads share one 1 time in 1,024
_NAMESPACE = "orderdesk.thread:"

_local_locks: dict[tuple[int, str], threading.Lock] = {}
_local_guard = threading.Lock()


class ThreadBusy(Exception):
    """Another turn of the same thread held its lock for longer than the wait."""

    def __init__(self, thread_id: str, wait_s: float) -> None:
        super().__init__(f"conversation {thread_id!r} is busy (waited {wait_s:g} s)")
        self.thread_id, self.wait_s = thread_id, wait_s


class ThreadLocks:
    """The thread locks of one database, for one process (see the module docstring)."""

    def __init__(self, engine: Engine, *, wait_s: float, pool_size: int = 10) -> None:
        self.wait_s = wait_s
        self._engine = engine
        self._own: Engine | None = None
        if engine.dialect.name == "postgresql":
            self._own = create_engine(
                engine.url,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=wait_s,
                pool_pre_ping=True,
            )

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> ThreadLocks:
        """THREAD_LOCK_WAIT_S to wait; MAX_CONCURRENT_TURNS lock connections."""
        return cls(
            engine, wait_s=settings.thread_lock_wait_s, pool_size=settings.max_concurrent_turns
        )

    @contextmanager
    def hold(self, thread_id: str) -> Iterator[None]:
        """Hold `thread_id`'s lock for the body; ThreadBusy when not granted in time."""
        with thread_lock(self._own or self._engine, thread_id, wait_s=self.wait_s):
            yield

    def close(self) -> None:
        if self._own is not None:
            self._own.dispose()


@contextmanager
def thread_lock(engine: Engine, thread_id: str, *, wait_s: float) -> Iterator[None]:
    """Hold the lock of `thread_id` for the body; ThreadBusy when not granted in `wait_s`."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, thread_id, wait_s):
            yield
        return
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        with _process_lock(engine, thread_id, wait_s):
            yield
        return
    with _file_lock(Path(database), thread_id, wait_s):
        yield


def _key(thread_id: str) -> int:
    """A signed 64-bit advisory-lock key for the thread (PostgreSQL's bigint)."""
    digest = hashlib.blake2b((_NAMESPACE + thread_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(engine: Engine, thread_id: str, wait_s: float) -> Iterator[None]:
    try:
        connection = engine.connect()
    except sa_exc.TimeoutError as error:  # every lock connection is held by another turn
        raise ThreadBusy(thread_id, wait_s) from error
    with connection, connection.begin():
        # Transaction-local (SET LOCAL): the timeout never leaks into the pool.
        connection.execute(
            text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{int(wait_s * 1000)}ms"}
        )
        try:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(thread_id)})
        except sa_exc.OperationalError as error:
            code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
            if code == "55P03":  # lock_not_available (psycopg 3: sqlstate; psycopg2: pgcode)
                raise ThreadBusy(thread_id, wait_s) from error
            raise
        yield


@contextmanager
def _file_lock(database: Path, thread_id: str, wait_s: float) -> Iterator[None]:
    folder = database.with_name(database.name + ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    bucket = int.from_bytes(hashlib.blake2b(thread_id.encode(), digest_size=4).digest()) % BUCKETS
    lock = filelock.FileLock(folder / f"{bucket:04d}.lock", timeout=wait_s)
    try:
        lock.acquire()
    except filelock.Timeout as error:
        raise ThreadBusy(thread_id, wait_s) from error
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _process_lock(engine: Engine, thread_id: str, wait_s: float) -> Iterator[None]:
    with _local_guard:
        lock = _local_locks.setdefault((id(engine), thread_id), threading.Lock())
    if not lock.acquire(timeout=wait_s):
        raise ThreadBusy(thread_id, wait_s)
    try:
        yield
    finally:
        lock.release()
