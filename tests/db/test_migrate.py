"""The schema comes from `python -m db.migrate`: Alembic for our tables, the saver's setup
for its own, on SQLite and PostgreSQL.

Checked here: the migrations build exactly what the models describe; a second run
changes nothing; a store made by the previous release (a real one, tests/db/fixtures/)
keeps its orders, drafts, threads and pending approval and still confirms through
today's desk; stores of every earlier shape reach head; two migrations at once both
succeed; a failure is one line and exit status 1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from config import PROJECT_ROOT, Settings, get_settings, normalize_database_url
from db.engine import create_db_engine
from db.migrate import (
    SchemaNotCurrent,
    check_current,
    current_revision,
    head_revision,
    include_object,
    schema_state,
    upgrade,
)
from db.models import Base, Draft, DraftStatus, Order
from tests.agents.conftest import open_desk
from tests.conftest import scratch_database

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FACTS = json.loads((FIXTURES / "previous_release.json").read_text())
BASELINE = "0001_baseline"
# Every shape db/models.py has had before migrations (git log -- db/models.py); f2de414,
# the previous release, has ad992bb's models.
EARLIER_MODELS = ["9fdcdbc", "90fee2f", "db0ced6", "5b3a261", "0b548d7", "ad992bb"]


# --- helpers ----------------------------------------------------------------------------


def differences(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    """What autogenerate would change to make the database match `metadata`."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, metadata)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys and indexes, and the schema versions."""
    inspector = inspect(engine)
    tables = {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(map(_plain, inspector.get_foreign_keys(table))),
            "indexes": sorted(map(_plain, inspector.get_indexes(table))),
            "uniques": sorted(map(_plain, inspector.get_unique_constraints(table))),
        }
        for table in sorted(inspector.get_table_names())
    }
    return {"tables": tables, "state": schema_state(engine)}


def _plain(reflected: dict[str, Any]) -> str:
    # str() of a partial index's WHERE clause is its SQL (its repr is an address).
    return json.dumps(reflected, default=str, sort_keys=True)


def migrate_cli(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m db.migrate` in a process of its own, as the launch scripts run it."""
    return subprocess.run(
        [sys.executable, "-m", "db.migrate", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url, "ORDERDESK_ENV_FILE": ""},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def models_at(commit: str, folder: Path) -> ModuleType:
    """db/models.py as it was at `commit`, imported under a name of its own."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:db/models.py"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"the git history (commit {commit}) is not available")
    path = folder / f"models_{commit}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # SQLAlchemy resolves the annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables at all) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_database(
        request.getfixturevalue("pg_server_url"), prefix="orderdesk_migrate"
    ) as url:
        yield url


@contextmanager
def scratch_store(db_url: str) -> Iterator[str]:
    """An empty database beside `db_url`'s (a new file, or a new PostgreSQL database)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        yield url.set(database=f"{url.database}.scratch.db").render_as_string()
        return
    with scratch_database(
        url.set(database="postgres").render_as_string(hide_password=False)
    ) as scratch:
        yield scratch


both = pytest.mark.parametrize("fresh_url", ["sqlite", "postgresql"], indirect=True)


# --- the migrations and the models ------------------------------------------------------


def test_models_and_migrations_agree(engine: Engine) -> None:
    # `engine` is on a store the migrations made (the suite's template), on each backend.
    assert current_revision(engine) == head_revision()
    assert differences(engine) == []


def test_the_baseline_is_the_previous_release_schema(db_url: str, tmp_path: Path) -> None:
    previous = models_at("f2de414", tmp_path)
    with scratch_store(db_url) as url:
        upgrade(url, revision=BASELINE)
        engine = create_engine(url, poolclass=NullPool)
        try:
            assert current_revision(engine) == BASELINE
            assert differences(engine, previous.Base.metadata) == []
        finally:
            engine.dispose()


@both
def test_a_second_run_changes_nothing(fresh_url: str) -> None:
    first = upgrade(fresh_url)
    assert first.changed and first.before.empty
    assert first.after.revision == head_revision() and first.after.checkpointer is not None
    engine = create_engine(fresh_url, poolclass=NullPool)
    try:
        before = snapshot(engine)
        second = upgrade(fresh_url)
        assert not second.changed and second.before == second.after == first.after
        assert snapshot(engine) == before
        check_current(engine)
    finally:
        engine.dispose()


@both
def test_check_current_names_the_revisions_and_the_command(fresh_url: str) -> None:
    engine = create_engine(fresh_url, poolclass=NullPool)
    try:
        with pytest.raises(SchemaNotCurrent, match=r"is at nothing, code needs 0005_.*db\.migrate"):
            check_current(engine)
        upgrade(fresh_url, revision=BASELINE)
        with pytest.raises(SchemaNotCurrent, match=f"is at {BASELINE}, code needs 0005_"):
            check_current(engine)
        upgrade(fresh_url)
        check_current(engine)
        with engine.begin() as connection:  # the checkpointer's tables are the schema too
            connection.execute(text("DROP TABLE checkpoints"))
        with pytest.raises(SchemaNotCurrent, match="checkpointer tables"):
            check_current(engine)
    finally:
        engine.dispose()


# --- every earlier store ----------------------------------------------------------------


@pytest.mark.parametrize("commit", EARLIER_MODELS)
def test_a_store_of_any_earlier_shape_reaches_head(
    commit: str, db_url: str, tmp_path: Path
) -> None:
    old = models_at(commit, tmp_path)
    with scratch_store(db_url) as url:
        engine = create_engine(url, poolclass=NullPool)
        try:
            old.Base.metadata.create_all(engine)  # what that release's start-up did
            old_drafts = old.Base.metadata.tables.get("drafts")
            drafts_named_orders = old_drafts is not None and "order_id" in old_drafts.c
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO customers (customer_id, company_name) VALUES ('ALFKI', 'A')")
                )
                connection.execute(
                    text(
                        "INSERT INTO products (product_id, name, category, unit_price, "
                        "units_in_stock, discontinued, updated_at) "
                        "VALUES (14, 'Tofu', 'Produce', 23.25, 35, false, CURRENT_TIMESTAMP)"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO orders (order_id, customer_id, status, created_at, total) "
                        "VALUES (1, 'ALFKI', 'confirmed', CURRENT_TIMESTAMP, 23.25)"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO order_lines (order_id, product_id, quantity, unit_price, "
                        "discount) VALUES (1, 14, 1, 23.25, 0)"
                    )
                )
                if drafts_named_orders:
                    connection.execute(
                        text(
                            "INSERT INTO drafts (draft_id, thread_id, status, created_at, "
                            "updated_at, order_id) VALUES (7, 't', 'confirmed', "
                            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                        )
                    )

            upgrade(url)

            assert current_revision(engine) == head_revision()
            assert differences(engine) == []
            with Session(engine) as session:
                order = session.get(Order, 1)
                assert order is not None and [line.quantity for line in order.lines] == [1]
                assert order.draft_id == (7 if drafts_named_orders else None)
        finally:
            engine.dispose()


def test_duplicate_open_drafts_are_closed_before_the_index(db_url: str) -> None:
    with scratch_store(db_url) as url:
        upgrade(url, revision=BASELINE)
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                for draft_id, thread, day in [(1, "a", 1), (2, "a", 3), (3, "a", 2), (4, "b", 1)]:
                    connection.execute(
                        text(
                            "INSERT INTO drafts (draft_id, thread_id, status, created_at, "
                            "updated_at) VALUES (:id, :thread, 'open', :at, :at)"
                        ),
                        {"id": draft_id, "thread": thread, "at": f"2026-01-0{day} 10:00:00"},
                    )
            upgrade(url)
            with Session(engine) as session:
                statuses = dict(session.execute(select(Draft.draft_id, Draft.status)).all())
        finally:
            engine.dispose()
    # Thread a keeps its newest open draft (2, created on the 3rd); b had only one.
    assert statuses == {
        1: DraftStatus.DISCARDED,
        2: DraftStatus.OPEN,
        3: DraftStatus.DISCARDED,
        4: DraftStatus.OPEN,
    }


# --- the previous release's store -------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def previous_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A copy of the store the previous release made (tests/db/fixtures), its URL."""
    if request.param == "sqlite":
        path = tmp_path / "previous.db"
        shutil.copyfile(FIXTURES / "previous_release.db", path)
        yield f"sqlite:///{path}"
        return
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: cannot restore the PostgreSQL fixture")
    with scratch_database(
        request.getfixturevalue("pg_server_url"), prefix="orderdesk_migrate"
    ) as url:
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq, "-f", "-"],
            input=(FIXTURES / "previous_release.sql").read_text(),
            capture_output=True,
            text=True,
            check=True,
        )
        yield url


def test_a_store_made_by_the_previous_release_keeps_everything(
    previous_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = make_url(previous_store).get_backend_name()
    facts = FACTS["postgresql" if backend == "postgresql" else "sqlite"]

    done = migrate_cli(previous_store)
    assert done.returncode == 0, done.stderr
    assert "upgraded from a store made before migrations" in done.stdout
    assert "Traceback" not in done.stderr

    settings = Settings(_env_file=None, database_url=previous_store, llm_provider="offline")  # type: ignore[call-arg]
    engine = create_db_engine(settings)
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    get_settings.cache_clear()
    desk = open_desk(engine)
    try:
        check_current(engine)
        assert differences(engine) == []
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 832
            kept = {
                o.thread_id: (o.order_id, {line.product_id: line.quantity for line in o.lines})
                for o in session.scalars(select(Order).where(Order.order_id > 11077))
            }
        assert kept == {
            "t-confirmed-1": (facts["t-confirmed-1"]["order_id"], {14: 5}),
            "t-confirmed-2": (facts["t-confirmed-2"]["order_id"], {14: 20, 10: 3}),
        }
        for thread, fact in facts.items():
            assert len(desk.history(thread)) == fact["messages"], thread
            draft = desk.current_draft(thread)
            wanted = fact["open_draft"]
            if wanted is None:
                assert draft is None, thread
                continue
            assert draft is not None and draft.draft_id == wanted["draft_id"], thread
            assert {str(line.product_id): line.quantity for line in draft.lines} == wanted["lines"]
            assert len(draft.open_items) == wanted["open_items"]
        # t-race had two open drafts; the older one was closed, the newer is the draft.
        with Session(engine) as session:
            race = dict(
                session.execute(
                    select(Draft.draft_id, Draft.status).where(Draft.thread_id == "t-race")
                ).all()
            )
        assert sorted(race.values()) == [DraftStatus.DISCARDED, DraftStatus.OPEN]
        assert race[facts["t-race"]["open_draft"]["draft_id"]] is DraftStatus.OPEN

        # The pending approval still waits, and today's desk resumes it into an order.
        state = desk.agent.get_state({"configurable": {"thread_id": "t-pending"}})
        assert state.interrupts and "confirm_order" in str(state.interrupts[0].value)
        approved = desk.approve("t-pending")
        assert approved.order_id is not None, approved.reply
        # The open draft with an open item: answered, then confirmed.
        desk.chat("t-open", "skip flux capacitors")
        desk.chat("t-open", "make the tofu 5")
        confirmed = desk.approve("t-open")
        assert confirmed.order_id is not None, confirmed.reply
        with Session(engine) as session:
            assert session.get(Order, approved.order_id).customer_id == "QUICK"
            lines = {
                line.product_id: line.quantity
                for line in session.get(Order, confirmed.order_id).lines
            }
            assert lines == {14: 5, 10: 3}
    finally:
        desk.close()
        engine.dispose()

    again = migrate_cli(previous_store)
    assert again.returncode == 0 and "already current" in again.stdout, again.stderr


# --- the command ------------------------------------------------------------------------


@both
def test_two_migrations_at_once_both_succeed(fresh_url: str) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: migrate_cli(fresh_url), range(2)))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    outputs = sorted(run.stdout for run in runs)
    assert "already current" in outputs[0] and "created at revision" in outputs[1], outputs
    engine = create_engine(fresh_url, poolclass=NullPool)
    try:
        check_current(engine)
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_the_command_says_what_it_did_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'new.db'}"  # var/ does not exist yet
    first, second, check = migrate_cli(url), migrate_cli(url), migrate_cli(url, "--check")
    assert [first.returncode, second.returncode, check.returncode] == [0, 0, 0]
    where, head = make_url(normalize_database_url(url)).render_as_string(), head_revision()
    assert first.stdout.splitlines() == [f"Database {where} created at revision {head}."]
    assert second.stdout.splitlines() == [f"Database {where} already current at revision {head}."]
    assert check.stdout.splitlines() == [f"Database {where} is current at revision {head}."]
    assert first.stderr == second.stderr == check.stderr == ""


def test_an_unreachable_database_is_one_line_and_exit_1() -> None:
    done = migrate_cli("postgresql://orders:secret-pw@127.0.0.1:1/nowhere", timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Cannot migrate postgresql+psycopg2://orders:***@127.0.0.1:1/nowhere:")
    assert "refused" in line.lower() and "secret-pw" not in done.stderr
    verbose = migrate_cli("postgresql://orders:secret-pw@127.0.0.1:1/nowhere", "--verbose")
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr


def test_check_refuses_a_schema_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, revision=BASELINE)
    done = migrate_cli(url, "--check")
    assert done.returncode == 1
    assert f"is at {BASELINE}, code needs {head_revision()}: run python -m db.migrate" in (
        done.stderr
    )
