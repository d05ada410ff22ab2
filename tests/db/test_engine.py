"""The pooled engine: one per process, connections reused, never disposed between calls.

These are the four pool checks the product began with (its first report claimed them
while `engine.dispose()` after every call defeated the pool), now run on SQLite and
PostgreSQL, plus recovery from a server that dropped every connection.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, inspect, text

from config import get_settings
from db.engine import dispose_engine, get_db_engine, session_scope
from db.seed import seed
from orders.catalog import list_products
from tests.conftest import terminate_every_connection


def count_pool_events(engine: Engine) -> Counter[str]:
    """Live counts of new DBAPI connections ("connect") and closed ones ("close")."""
    counts: Counter[str] = Counter()
    for name in ("connect", "close", "checkout"):
        event.listen(engine.pool, name, lambda *_args, _n=name: counts.update([_n]))
    return counts


def dbapi_connection_of_next_unit_of_work() -> object:
    with session_scope() as session:
        return session.connection().connection.dbapi_connection


def test_same_engine_on_every_call(engine: Engine) -> None:
    assert all(get_db_engine() is engine for _ in range(100))


def test_same_engine_from_50_threads_racing_to_create_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    dispose_engine()
    start = threading.Barrier(50)

    def first_call(_: int) -> int:
        start.wait()
        return id(get_db_engine())

    with ThreadPoolExecutor(max_workers=50) as pool:
        identities = set(pool.map(first_call, range(50)))
    assert len(identities) == 1


def test_connection_returns_to_the_pool_and_is_reused(engine: Engine) -> None:
    first = dbapi_connection_of_next_unit_of_work()
    assert engine.pool.checkedout() == 0
    second = dbapi_connection_of_next_unit_of_work()
    assert engine.pool.checkedout() == 0
    assert second is first


def test_no_dispose_and_no_new_connection_between_calls(engine: Engine) -> None:
    seed(engine=engine)
    counts = count_pool_events(engine)
    with session_scope() as session:
        first_load = list_products(session=session)
    opened_after_first_load = counts["connect"]
    with session_scope() as session:
        second_load = list_products(session=session)
    assert len(first_load) == len(second_load) == 77
    assert counts["checkout"] == 2
    assert counts["connect"] == opened_after_first_load <= 1
    assert counts["close"] == 0
    assert get_db_engine() is engine


def test_the_engine_never_creates_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The schema is db.migrate's, made once before any worker starts; never a side effect.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    get_settings.cache_clear()
    with session_scope() as session:
        session.execute(text("SELECT 1"))
    assert inspect(get_db_engine()).get_table_names() == []


def test_many_threads_share_the_pool(engine: Engine) -> None:
    seed(engine=engine)

    def load(_: int) -> int:
        with session_scope() as session:
            return len(list_products(session=session))

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(load, range(200))) == {77}
    assert engine.pool.checkedout() == 0


def test_dispose_engine_is_for_shutdown_and_gives_a_new_engine_after(engine: Engine) -> None:
    dispose_engine()
    assert get_db_engine() is not engine


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/pragmas.db")
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "4321")
    get_settings.cache_clear()
    with get_db_engine().connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert connection.scalar(text("PRAGMA busy_timeout")) == 4321


def test_sqlite_file_directory_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/new/dir/app.db")
    get_settings.cache_clear()
    with get_db_engine().connect():  # SQLite makes the file on the first connection
        pass
    assert (tmp_path / "new" / "dir" / "app.db").exists()


def test_postgres_pool_is_sized_from_settings(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    get_settings.cache_clear()
    engine = get_db_engine()
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
        list(pool.map(lambda _: dbapi_connection_of_next_unit_of_work(), range(8)))
    counts = count_pool_events(pg_engine)

    terminated = terminate_every_connection(pg_url)
    assert terminated and all(terminated)

    with session_scope() as session:
        assert len(list_products(session=session)) == 77
    assert counts["connect"] == 1  # pre-ping found the dead connection and replaced it


def test_engine_creation_never_logs_the_password(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(password="never-log-this-pw")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    monkeypatch.setenv("DB_ECHO", "true")
    get_settings.cache_clear()
    caplog.set_level("DEBUG")
    engine = get_db_engine()  # trust auth: the server ignores the password
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert "database engine created for postgresql+psycopg2://" in caplog.text
    assert "never-log-this-pw" not in caplog.text
    assert "never-log-this-pw" not in repr(engine)
