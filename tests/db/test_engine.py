"""The pooled engine: connections reused, never disposed between calls, safe across forks.

These are the pool checks the product began with (its first report claimed them while
`engine.dispose()` after every call defeated the pool), now run on SQLite and PostgreSQL,
plus recovery from a server that dropped every connection and a forked child that must
not use its parent's connections. That a process has one engine, shared by every part,
is the composition root's (tests/test_bootstrap.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, inspect, text

from config import get_settings
from db.engine import create_db_engine, session_scope
from db.seed import seed
from orders.catalog import list_products
from tests.conftest import terminate_every_connection


def count_pool_events(engine: Engine) -> Counter[str]:
    """Live counts of new DBAPI connections ("connect") and closed ones ("close")."""
    counts: Counter[str] = Counter()
    for name in ("connect", "close", "checkout"):
        event.listen(engine.pool, name, lambda *_args, _n=name: counts.update([_n]))
    return counts


def dbapi_connection_of_next_unit_of_work(engine: Engine) -> object:
    with session_scope(engine) as session:
        return session.connection().connection.dbapi_connection


@pytest.fixture
def engine_from_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Engine]]:
    """`create_db_engine` from the environment after setting `env`; disposed at the end."""
    made: list[Engine] = []

    def make(**env: str) -> Engine:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        made.append(create_db_engine(get_settings()))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def test_connection_returns_to_the_pool_and_is_reused(engine: Engine) -> None:
    first = dbapi_connection_of_next_unit_of_work(engine)
    assert engine.pool.checkedout() == 0
    second = dbapi_connection_of_next_unit_of_work(engine)
    assert engine.pool.checkedout() == 0
    assert second is first


def test_no_dispose_and_no_new_connection_between_calls(engine: Engine) -> None:
    seed(engine=engine)
    counts = count_pool_events(engine)
    with session_scope(engine) as session:
        first_load = list_products(session=session)
    opened_after_first_load = counts["connect"]
    with session_scope(engine) as session:
        second_load = list_products(session=session)
    assert len(first_load) == len(second_load) == 77
    assert counts["checkout"] == 2
    assert counts["connect"] == opened_after_first_load <= 1
    assert counts["close"] == 0


def test_the_engine_never_creates_tables(
    tmp_path: Path, engine_from_env: Callable[..., Engine]
) -> None:
    # The schema is db.migrate's, made once before any worker starts; never a side effect.
    engine = engine_from_env(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db")
    with session_scope(engine) as session:
        session.execute(text("SELECT 1"))
    assert inspect(engine).get_table_names() == []


def test_many_threads_share_the_pool(engine: Engine) -> None:
    seed(engine=engine)

    def load(_: int) -> int:
        with session_scope(engine) as session:
            return len(list_products(session=session))

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(load, range(200))) == {77}
    assert engine.pool.checkedout() == 0


def test_a_forked_child_never_uses_its_parents_connections(pg_engine: Engine) -> None:
    def backend_pid() -> int:
        with pg_engine.connect() as connection:
            return int(connection.scalar(text("SELECT pg_backend_pid()")))

    parents = backend_pid()  # now idle in the pool, where the child finds it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, str(backend_pid()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as reader:
        childs = int(reader.read() or 0)
    os.waitpid(child, 0)
    assert childs and childs != parents  # a connection of its own
    assert backend_pid() == parents  # and the parent's is still open, still pooled


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(
    tmp_path: Path, engine_from_env: Callable[..., Engine]
) -> None:
    engine = engine_from_env(
        DATABASE_URL=f"sqlite:///{tmp_path}/pragmas.db", SQLITE_BUSY_TIMEOUT_MS="4321"
    )
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert connection.scalar(text("PRAGMA busy_timeout")) == 4321


def test_sqlite_file_directory_is_created(
    tmp_path: Path, engine_from_env: Callable[..., Engine]
) -> None:
    engine = engine_from_env(DATABASE_URL=f"sqlite:///{tmp_path}/new/dir/app.db")
    with engine.connect():  # SQLite makes the file on the first connection
        pass
    assert (tmp_path / "new" / "dir" / "app.db").exists()


def test_postgres_pool_is_sized_from_settings(
    pg_url: str, engine_from_env: Callable[..., Engine]
) -> None:
    engine = engine_from_env(DATABASE_URL=pg_url, DB_POOL_SIZE="3", DB_MAX_OVERFLOW="2")
    assert engine.pool.size() == 3
    assert engine.pool._max_overflow == 2  # type: ignore[attr-defined]
    assert engine.pool._pre_ping is True  # type: ignore[attr-defined]


def test_default_postgres_pool_is_10_plus_20(pg_engine: Engine) -> None:
    assert pg_engine.pool.size() == 10
    assert pg_engine.pool._max_overflow == 20  # type: ignore[attr-defined]


def test_next_call_succeeds_after_the_server_terminates_every_connection(
    pg_engine: Engine, pg_url: str
) -> None:
    seed(engine=pg_engine)
    with ThreadPoolExecutor(max_workers=4) as pool:  # fill the pool with several connections
        list(pool.map(lambda _: dbapi_connection_of_next_unit_of_work(pg_engine), range(8)))
    counts = count_pool_events(pg_engine)

    terminated = terminate_every_connection(pg_url)
    assert terminated and all(terminated)

    with session_scope(pg_engine) as session:
        assert len(list_products(session=session)) == 77
    assert counts["connect"] == 1  # pre-ping found the dead connection and replaced it


def test_engine_creation_never_logs_the_password(
    pg_url: str, engine_from_env: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(password="never-log-this-pw")
    caplog.set_level("DEBUG")
    engine = engine_from_env(  # trust auth: the server ignores the password
        DATABASE_URL=url.render_as_string(hide_password=False), DB_ECHO="true"
    )
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert "database engine created for postgresql+psycopg2://" in caplog.text
    assert "never-log-this-pw" not in caplog.text
    assert "never-log-this-pw" not in repr(engine)
