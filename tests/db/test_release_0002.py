"""A store made by release ec699c2 (schema at 0002_one_open_draft_outbox) migrates in
place to head (0003 thread activity, 0004 order header and audit trail) and keeps
everything, on SQLite and PostgreSQL.

The stores in tests/db/fixtures/release_0002.{db,sql} were made by that release's own
code (make_release_0002.py, whose facts are release_0002.json): a confirmed order
(r-confirmed), an open two-line draft (r-open), a confirmed then cancelled order
(r-cancelled), and two threads claimed by one API key's owner before 0003 existed.
Checked here: `python -m db.migrate` says so in one line and the schema is then the
models; the orders, the threads' histories, the stock the cancellation returned and the
claims are all there; the open draft has its lines and an empty header, takes a header
through today's desk and confirms into an order carrying it, with a trail of what
happened after the migration (nothing before it was recorded); the owner's
conversation list shows the claimed threads, last active when they were claimed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from config import get_settings, normalize_database_url
from db.engine import create_db_engine
from db.migrate import check_current, current_revision, head_revision
from db.models import Order, OrderEvent, OrderStatus, Product, ThreadOwner
from orders.audit import order_events
from rag.embeddings import MiniLMEmbeddingFunction
from tests.agents.conftest import open_desk
from tests.conftest import scratch_database
from tests.db.test_migrate import differences, migrate_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RELEASE = json.loads((FIXTURES / "release_0002.json").read_text())
REVISION = RELEASE["revision"]
HEADER = ("customer_po", "requested_date", "ship_to", "notes")
FIRST_NEW_ORDER = 11078  # Northwind's orders end at 11077; the drive's came after


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def release_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A copy of the store release ec699c2 made (tests/db/fixtures), its URL; not migrated."""
    if request.param == "sqlite":
        path = tmp_path / "release_0002.db"
        shutil.copyfile(FIXTURES / "release_0002.db", path)
        yield f"sqlite:///{path}"
        return
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: cannot restore the PostgreSQL fixture")
    with scratch_database(
        request.getfixturevalue("pg_server_url"), prefix="orderdesk_release_0002"
    ) as url:
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq, "-f", "-"],
            input=(FIXTURES / "release_0002.sql").read_text(),
            capture_output=True,
            text=True,
            check=True,
        )
        yield url


@pytest.fixture
def facts(release_store: str) -> dict[str, Any]:
    """What the release's drive made on this backend."""
    backend = make_url(release_store).get_backend_name()
    return RELEASE["postgresql" if backend == "postgresql" else "sqlite"]


@pytest.fixture
def migrated(release_store: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The release's store after `python -m db.migrate`: the product's engine on it."""
    done = migrate_cli(release_store)
    assert done.returncode == 0, done.stderr
    where = make_url(normalize_database_url(release_store)).render_as_string()
    assert done.stdout.splitlines() == [
        f"Database {where} at revision {head_revision()} (upgraded from {REVISION})."
    ]
    assert done.stderr == ""
    monkeypatch.setenv("DATABASE_URL", release_store)
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    yield engine
    engine.dispose()


def test_the_fixture_is_the_release_schema(release_store: str) -> None:
    # Guards the premise: the store is at 0002, without 0003's or 0004's columns.
    engine = create_engine(release_store, poolclass=NullPool)
    try:
        assert current_revision(engine) == REVISION
        inspector = inspect(engine)
        assert "order_events" not in inspector.get_table_names()
        assert "customer_po" not in {c["name"] for c in inspector.get_columns("drafts")}
        assert "last_active_at" not in {c["name"] for c in inspector.get_columns("thread_owners")}
    finally:
        engine.dispose()


def test_the_store_reaches_head_and_matches_the_models(
    migrated: Engine, release_store: str
) -> None:
    check_current(migrated)
    assert differences(migrated) == []
    again = migrate_cli(release_store)
    assert again.returncode == 0 and "already current" in again.stdout, again.stderr


def test_orders_stock_histories_and_claims_are_kept(
    migrated: Engine, facts: dict[str, Any], embedder: MiniLMEmbeddingFunction
) -> None:
    threads = facts["threads"]
    with Session(migrated) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == facts["orders"]
        kept = {
            order.thread_id: (
                order.order_id,
                order.status,
                {str(line.product_id): line.quantity for line in order.lines},
                {name: getattr(order, name) for name in HEADER},
            )
            for order in session.scalars(select(Order).where(Order.order_id >= FIRST_NEW_ORDER))
        }
        stock = dict(
            session.execute(
                select(Product.product_id, Product.units_in_stock).where(
                    Product.product_id.in_([int(p) for p in facts["stock_after"]])
                )
            ).all()
        )
        claims = {
            claim.thread_id: (
                claim.owner,
                _utc(claim.created_at),
                claim.last_active_at,
                claim.title,
            )
            for claim in session.scalars(select(ThreadOwner))
        }
        assert session.scalar(select(func.count()).select_from(OrderEvent)) == 0
    empty = dict.fromkeys(HEADER)
    assert kept == {
        "r-confirmed": (
            threads["r-confirmed"]["order_id"],
            OrderStatus.CONFIRMED,
            threads["r-confirmed"]["order_lines"],
            empty,
        ),
        "r-cancelled": (
            threads["r-cancelled"]["order_id"],
            OrderStatus.CANCELLED,
            threads["r-cancelled"]["order_lines"],
            empty,
        ),
    }
    # The cancellation gave its stock back: only r-confirmed's order is out of stock.
    assert {str(p): units for p, units in stock.items()} == facts["stock_after"]
    sold = threads["r-confirmed"]["order_lines"]
    assert facts["stock_after"] == {
        p: units - sold.get(p, 0) for p, units in facts["stock_before"].items()
    }
    # 0003's backfill: a thread claimed before it counts as last active when claimed.
    assert set(claims) == set(facts["claims"])
    for thread, (owner, created_at, last_active_at, title) in claims.items():
        wanted = facts["claims"][thread]
        assert owner == wanted["owner"] and title is None
        assert created_at == _utc(datetime.fromisoformat(wanted["created_at"]))
        assert last_active_at is not None and _utc(last_active_at) == created_at

    desk = open_desk(migrated, embedder=embedder)
    try:
        for thread, fact in threads.items():
            history = [[message.type, message.content] for message in desk.history(thread)]
            assert history == fact["messages"], thread
        assert desk.current_draft("r-confirmed") is None
        assert desk.current_draft("r-cancelled") is None
        draft = desk.current_draft("r-open")
        wanted = threads["r-open"]["open_draft"]
        assert draft is not None and draft.draft_id == wanted["draft_id"]
        assert draft.customer_id == wanted["customer_id"]
        assert {str(line.product_id): line.quantity for line in draft.lines} == wanted["lines"]
        assert {name: getattr(draft, name) for name in HEADER} == empty
        assert draft.ship_to_effective is not None  # the customer's address stands in

        listed = desk.conversations(facts["owner"])
        assert [c.thread_id for c in listed] == ["r-open", "r-confirmed"]  # newest claim first
        assert [c.title for c in listed] == ["r-open", "r-confirmed"]  # no title: the id
        assert listed[0].draft is not None and listed[0].draft.draft_id == wanted["draft_id"]
        assert listed[1].draft is None
        assert desk.conversations("key:someone-else") == []
    finally:
        desk.close()


def test_the_open_draft_takes_a_header_and_confirms_with_a_trail(
    migrated: Engine, facts: dict[str, Any], embedder: MiniLMEmbeddingFunction
) -> None:
    draft_id = facts["threads"]["r-open"]["open_draft"]["draft_id"]
    desk = open_desk(migrated, embedder=embedder)
    try:
        headed = desk.set_header("r-open", customer_po="7781", user="clerk@today")
        assert headed.error is None, headed.reply
        assert headed.draft is not None and headed.draft.customer_po == "7781"
        confirmed = desk.approve("r-open", user="clerk@today")
        assert confirmed.order_id is not None, confirmed.reply
        assert desk.current_draft("r-open") is None
        listed = desk.conversations(facts["owner"])
        assert [c.thread_id for c in listed] == ["r-open", "r-confirmed"]
        assert listed[0].draft is None and listed[0].last_active_at is not None
    finally:
        desk.close()

    with Session(migrated) as session:
        order = session.get(Order, confirmed.order_id)
        assert order is not None and order.status is OrderStatus.CONFIRMED
        assert order.draft_id == draft_id and order.thread_id == "r-open"
        assert order.customer_po == "7781" and order.created_by == "clerk@today"
        lines = {str(line.product_id): line.quantity for line in order.lines}
        assert lines == facts["threads"]["r-open"]["open_draft"]["lines"]
        trail = order_events(session, confirmed.order_id)
        # The draft's life before the migration was never recorded; from then on it is.
        assert [event.kind for event in trail] == ["header_changed", "confirmed"]
        assert trail[0].detail["field"] == "customer_po"
        assert (trail[0].detail["before"], trail[0].detail["after"]) == (None, "7781")
        assert {event.actor for event in trail} == {"clerk@today"}
        assert trail[1].order_id == confirmed.order_id
        # The orders the release made still have no trail, and no event names them.
        for thread in ("r-confirmed", "r-cancelled"):
            assert order_events(session, facts["threads"][thread]["order_id"]) == []
