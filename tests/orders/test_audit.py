"""The audit trail (orders.audit), on both backends: every draft change and order event
recorded once, with before/after and who, in the change's own transaction.

Real parts: the seeded store, the real offline desk (its tools run on LangGraph's executor
threads), real threads racing for one draft, and a child process that imports only the
domain to show the listeners are on wherever the domain is used.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, delete, event, func, insert, select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from agents.desk import OrderDesk
from db.engine import session_scope
from db.models import Draft, DraftLine, OrderEvent
from orders import audit
from orders.audit import EventView, acting_as, draft_events, order_events, recorded_actor
from orders.book import OrderBook
from orders.confirm import confirm_draft
from orders.drafts import create_draft, set_customer, set_header, set_line
from orders.errors import AlreadyCancelled, DraftAlreadyOpen, OrderError
from orders.history import cancel_order
from orders.threads import confirm_thread_draft
from rag.embeddings import MiniLMEmbeddingFunction
from tests.agents.conftest import open_desk
from ui.audit import trail_rows

ALFREDS = (
    "Alfreds Futterkiste wants 12 Queso Cabrales, a dozen of the cajun seasoning and 5 mozzarella"
)
AMY, BOB = "amy@example.com", "bob@example.com"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def desk(seeded: Engine, embedder: MiniLMEmbeddingFunction) -> Iterator[OrderDesk]:
    opened = open_desk(seeded, embedder=embedder)
    yield opened
    opened.close()


def kinds(events: list[EventView]) -> list[tuple[str, str | None]]:
    return [(e.kind, e.actor) for e in events]


def of_draft(engine: Engine, draft_id: int) -> list[EventView]:
    with Session(engine) as session:
        return draft_events(session, draft_id)


def of_order(engine: Engine, order_id: int) -> list[EventView]:
    with Session(engine) as session:
        return order_events(session, order_id)


def event_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(OrderEvent)) or 0


# --- through the desk -----------------------------------------------------------------


def test_a_draft_through_the_desk_is_on_its_trail(desk: OrderDesk) -> None:
    t = "t-audit-draft"
    draft_id = desk.chat(t, ALFREDS, user=AMY).draft.draft_id
    desk.chat(t, "make the mozzarella 10", user=AMY)
    desk.chat(t, "add 3 konbu", user=AMY)
    desk.chat(t, "drop the cajun seasoning", user=AMY)
    assert desk.chat(t, "it's for Ernst Handel", user=AMY).draft.customer_id == "ERNSH"
    assert desk.reject(t, user=BOB).draft is None

    events = of_draft(desk.engine, draft_id)
    assert kinds(events) == [
        ("drafted", AMY),
        ("line_changed", AMY),
        ("line_added", AMY),
        ("line_removed", AMY),
        ("customer_changed", AMY),
        ("discarded", BOB),
    ]
    drafted, changed, added, removed, customer, _discarded = (e.detail for e in events)
    assert drafted["customer_id"] == "ALFKI" and drafted["customer"] == "Alfreds Futterkiste"
    assert [(line["product_id"], line["quantity"]) for line in drafted["lines"]] == [
        (11, 12),
        (4, 12),
        (72, 5),
    ]
    assert changed == {
        "product_id": 72,
        "product": "Mozzarella di Giovanni",
        "before": 5,
        "after": 10,
    }
    assert (added["product"], added["quantity"]) == ("Konbu", 3)
    assert (removed["product_id"], removed["quantity"]) == (4, 12)
    assert (customer["before"], customer["after"]) == ("ALFKI", "ERNSH")
    assert customer["after_name"] == "Ernst Handel"
    assert all(e.created_at.tzinfo is not None for e in events)
    assert [e.event_id for e in events] == sorted(e.event_id for e in events)


def test_confirm_and_cancel_through_the_desk(desk: OrderDesk) -> None:
    t, browser = "t-audit-order", "ui:0123456789abcdef0123456789abcdef"
    desk.chat(t, "Alfreds Futterkiste: 5 Queso Cabrales and 2 tofu", user=browser)
    order_id = desk.approve(t, user=browser).order_id
    assert order_id is not None
    desk.cancel_order(order_id, user=BOB)
    with pytest.raises(AlreadyCancelled):
        desk.cancel_order(order_id, user=AMY)  # refused: nothing recorded

    events = of_order(desk.engine, order_id)
    session_actor = recorded_actor(browser)
    assert kinds(events) == [
        ("drafted", session_actor),
        ("confirmed", session_actor),
        ("cancelled", BOB),
    ]
    # The browser's key opens its conversations: the trail keeps only a digest of it.
    assert session_actor.startswith("ui:") and browser[3:] not in session_actor
    confirmed, cancelled = events[1], events[2]
    assert (confirmed.order_id, confirmed.draft_id) == (order_id, events[0].draft_id)
    assert confirmed.detail["total"] == "151.50" and confirmed.detail["customer_id"] == "ALFKI"
    assert (cancelled.order_id, cancelled.detail) == (order_id, {"before": "confirmed"})
    assert OrderBook(desk.engine).events(order_id) == events
    assert [row["what"] for row in trail_rows(events)] == [
        "drafted for Alfreds Futterkiste: 5 Queso Cabrales, 2 Tofu",
        "confirmed ($151.50)",
        "cancelled",
    ]


def test_a_refused_table_edit_records_nothing(desk: OrderDesk) -> None:
    t = "t-audit-refused"
    draft_id = desk.chat(t, ALFREDS, user=AMY).draft.draft_id
    before = of_draft(desk.engine, draft_id)
    # The first quantity is flushed (and its event written) before the second is refused:
    # the rollback takes both.
    turn = desk.set_quantities(t, {72: 10, 11: "lots"}, user=AMY)
    assert turn.error
    assert of_draft(desk.engine, draft_id) == before
    desk.set_quantities(t, {72: 10, 11: 0}, user=AMY)
    after = of_draft(desk.engine, draft_id)[len(before) :]
    assert [(e.kind, e.detail["product_id"]) for e in after] == [
        ("line_changed", 72),
        ("line_removed", 11),
    ]


def test_tools_on_executor_threads_record_the_turns_actor(desk: OrderDesk) -> None:
    """LangGraph runs tools on executor threads it copies the context into: a flush made
    by a tool sees the actor the turn was entered with."""
    seen: list[tuple[int, str | None]] = []

    def spy(session: Session, _context: object) -> None:
        if any(isinstance(obj, Draft) for obj in session.new):
            seen.append((threading.get_ident(), audit.current_actor()))

    event.listen(Session, "after_flush", spy)
    try:
        t = "t-audit-threads"
        draft_id = desk.chat(t, ALFREDS, user=AMY).draft.draft_id
        order_id = desk.chat(t, "yes, confirm it", user=AMY).order_id  # the confirm_order tool
        streamed = "t-audit-stream"  # chat_stream runs the turn on a thread of its own
        events = list(desk.chat_stream(streamed, "Ernst Handel: 3 tofu", user=BOB))
    finally:
        event.remove(Session, "after_flush", spy)
    assert seen and all(actor in (AMY, BOB) for _thread, actor in seen)
    assert threading.get_ident() not in {thread for thread, _actor in seen}
    assert kinds(of_order(desk.engine, order_id)) == [("drafted", AMY), ("confirmed", AMY)]
    assert of_order(desk.engine, order_id)[0].draft_id == draft_id
    streamed_draft = events[-1].turn.draft.draft_id
    assert kinds(of_draft(desk.engine, streamed_draft)) == [("drafted", BOB)]


# --- the domain directly --------------------------------------------------------------


def test_header_and_customer_changes_with_before_and_after(session: Session) -> None:
    today = date.today()
    with acting_as(AMY):
        draft = create_draft(
            session=session, customer_id=None, lines=[{"product_id": 14, "quantity": 2}]
        )
        set_customer(session=session, draft_id=draft.draft_id, customer_id="ALFKI")
        set_header(session=session, draft_id=draft.draft_id, customer_po="7781", today=today)
        set_header(
            session=session,
            draft_id=draft.draft_id,
            customer_po="7782",
            requested_date=today + timedelta(days=10),
            notes="use the back door, dock 3",
            today=today,
        )
        set_header(session=session, draft_id=draft.draft_id, notes=None, today=today)
        set_header(session=session, draft_id=draft.draft_id, customer_po="7782", today=today)
        session.commit()
    events = draft_events(session, draft.draft_id)
    assert [e.kind for e in events] == ["drafted", "customer_changed", *["header_changed"] * 5]
    assert events[1].detail["before"] is None and events[1].detail["after_name"] == (
        "Alfreds Futterkiste"
    )
    changes = [(e.detail["field"], e.detail["before"], e.detail["after"]) for e in events[2:]]
    assert sorted(changes[1:4]) == [
        ("customer_po", "7781", "7782"),
        ("notes", None, "use the back door, dock 3"),
        ("requested_date", None, (today + timedelta(days=10)).isoformat()),
    ]
    assert (changes[0], changes[4]) == (
        ("customer_po", None, "7781"),
        ("notes", "use the back door, dock 3", None),
    )  # setting a field to what it is already (the last call's PO) is no event
    words = [row["what"] for row in trail_rows(events)]
    assert words[:3] == [
        "drafted: 2 Tofu",
        "customer set to Alfreds Futterkiste",
        "PO set to 7781",
    ]
    assert (
        "PO 7781 → 7782" in words and words[-1] == "notes cleared (was use the back door, dock 3)"
    )
    assert all(e.actor == AMY for e in events)


def test_rolled_back_changes_leave_no_events(session: Session) -> None:
    with acting_as(AMY):
        draft = create_draft(
            session=session,
            customer_id="ALFKI",
            lines=[{"product_id": 14, "quantity": 2}],
            thread_id="t-r",
        )
        session.commit()
        set_line(session=session, draft_id=draft.draft_id, product_id=14, quantity=9)  # flushed
        session.rollback()
        with pytest.raises(DraftAlreadyOpen):  # refused inside a savepoint; the rest stays
            create_draft(session=session, customer_id="ALFKI", thread_id="t-r")
        try:
            with session.begin_nested():
                set_line(session=session, draft_id=draft.draft_id, product_id=11, quantity=1)
                raise OrderError("changed my mind")
        except OrderError:
            pass
        set_line(session=session, draft_id=draft.draft_id, product_id=14, quantity=3)
        session.commit()
    events = draft_events(session, draft.draft_id)
    assert [(e.kind, e.detail.get("after")) for e in events] == [
        ("drafted", None),
        ("line_changed", 3),
    ]
    assert events[1].detail["before"] == 2
    assert event_count(session.get_bind()) == 2  # the refused draft wrote none either


def test_historical_orders_have_an_empty_trail(session: Session) -> None:
    assert event_count(session.get_bind()) == 0  # seeding 830 orders recorded nothing
    assert order_events(session, 10248) == []
    with pytest.raises(OrderError):
        order_events(session, 999_999)


def test_cancelling_a_historical_order_is_recorded(session: Session) -> None:
    with acting_as(BOB):
        cancel_order(session=session, order_id=10248)
        session.commit()
    assert kinds(order_events(session, 10248)) == [("cancelled", BOB)]


def test_without_an_actor_a_confirmation_is_credited_to_its_confirmer(session: Session) -> None:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": 14, "quantity": 1}],
        thread_id="t-n",
    )
    session.commit()
    order = confirm_thread_draft(session=session, thread_id="t-n", created_by="carol")
    assert kinds(order_events(session, order.order_id)) == [
        ("drafted", None),
        ("confirmed", "carol"),
    ]
    assert draft_events(session, draft.draft_id)[-1].order_id == order.order_id


def test_20_concurrent_confirmations_of_one_draft_record_one(seeded: Engine) -> None:
    with session_scope(seeded) as session:
        draft_id = create_draft(
            session=session, customer_id="ALFKI", lines=[{"product_id": 11, "quantity": 2}]
        ).draft_id
    start = threading.Barrier(20)

    def confirm(n: int) -> int | str:
        start.wait()
        key = "draft-key" if n % 2 else f"other-{n}"  # retries of one click, and others
        with acting_as(f"clerk-{n}"), Session(seeded) as session:
            try:
                return confirm_draft(
                    session=session, draft_id=draft_id, idempotency_key=key
                ).order_id
            except OrderError as error:
                return type(error).__name__

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(confirm, range(20)))
    order_ids = {o for o in outcomes if isinstance(o, int)}
    assert len(order_ids) == 1
    (order_id,) = order_ids
    events = of_order(seeded, order_id)
    assert [e.kind for e in events] == ["drafted", "confirmed"]
    assert events[1].actor.startswith("clerk-")

    def cancel(n: int) -> str:
        start.wait()
        with acting_as(f"clerk-{n}"), session_scope(seeded) as session:
            try:
                cancel_order(session=session, order_id=order_id)
            except AlreadyCancelled:
                return "refused"
            return "cancelled"

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sorted(pool.map(cancel, range(20))).count("cancelled") == 1
    assert [e.kind for e in of_order(seeded, order_id)] == ["drafted", "confirmed", "cancelled"]


def test_importing_the_domain_turns_the_trail_on(seeded: Engine) -> None:
    """A process that imports only orders.drafts (never orders.audit) records changes."""
    code = (
        "import sys\n"
        "from sqlalchemy import create_engine, text\n"
        "from sqlalchemy.orm import Session\n"
        "from orders.drafts import create_draft\n"
        "engine = create_engine(sys.argv[1])\n"
        "with Session(engine) as session:\n"
        "    create_draft(session=session, customer_id='ALFKI')\n"
        "    session.commit()\n"
        "    print(session.scalars(text('SELECT kind FROM order_events')).all())\n"
    )
    url = seeded.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", code, url], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['drafted']"


def trail_page(book, order_id):  # noqa: ANN001 - run as a script: no annotations to resolve
    from ui.audit import order_events

    order_events(book, order_id)


def test_the_orders_page_shows_the_trail_in_words(seeded: Engine) -> None:
    with acting_as(AMY), session_scope(seeded) as session:
        create_draft(
            session=session,
            customer_id="ALFKI",
            lines=[{"product_id": 14, "quantity": 2}],
            thread_id="t-ui",
        )
        session.commit()
        draft_id = session.scalar(select(Draft.draft_id).where(Draft.thread_id == "t-ui"))
        set_line(session=session, draft_id=draft_id, product_id=14, quantity=5)
        session.commit()
        order = confirm_thread_draft(session=session, thread_id="t-ui", created_by=AMY)
    with acting_as("key:" + "ab" * 16), session_scope(seeded) as session:
        cancel_order(session=session, order_id=order.order_id)
    book = OrderBook(seeded)

    page = AppTest.from_function(trail_page, args=(book, order.order_id), default_timeout=30)
    page.run()
    assert not page.exception
    table = page.dataframe[0].value
    assert list(table.columns) == ["when", "who", "what"]
    assert list(table["what"]) == [
        "drafted for Alfreds Futterkiste: 2 Tofu",
        "changed Tofu 2 → 5",
        "confirmed ($116.25)",
        "cancelled",
    ]
    assert list(table["who"]) == [AMY, AMY, AMY, "API key abababab…"]
    historical = AppTest.from_function(trail_page, args=(book, 10248)).run()
    assert "before the audit trail" in historical.caption[0].value
    missing = AppTest.from_function(trail_page, args=(book, 999_999)).run()
    assert missing.warning[0].value == "There is no order 999999."


def test_statements_that_bypass_the_flush_are_recorded_too(session: Session) -> None:
    """Bulk and Core DML through Session.execute (bench.orders prepares drafts so; a
    future change could write so): the same events as the ORM's."""
    drafts, lines = Draft.__table__, DraftLine.__table__
    with acting_as(AMY):
        ids = list(
            session.scalars(
                insert(Draft).returning(Draft.draft_id),
                [{"customer_id": "ALFKI"}, {"customer_id": "ERNSH"}],
            )
        )
        session.execute(
            insert(DraftLine),
            [{"draft_id": ids[0], "product_id": 14, "quantity": 2, "position": 0}],
        )
        session.execute(
            update(drafts).where(drafts.c.draft_id == ids[0]).values(customer_id="BONAP")
        )
        session.execute(
            update(lines)
            .where(lines.c.draft_id == bindparam("d"))
            .values(quantity=lines.c.quantity + 1),
            {"d": ids[0]},
        )
        session.execute(delete(lines).where(lines.c.draft_id == ids[0]))
        session.execute(
            update(drafts).where(drafts.c.draft_id == ids[1]).values(status="discarded")
        )
        session.execute(update(drafts).where(drafts.c.draft_id == -1).values(status="discarded"))
        session.commit()
    first = draft_events(session, ids[0])
    assert [(e.kind, e.actor) for e in first] == [
        ("drafted", AMY),
        ("line_added", AMY),
        ("customer_changed", AMY),
        ("line_changed", AMY),
        ("line_removed", AMY),
    ]
    assert first[2].detail["after_name"] == "Bon app'"
    assert (first[3].detail["before"], first[3].detail["after"]) == (2, 3)
    assert first[4].detail == {"product_id": 14, "quantity": 3, "product": "Tofu"}
    assert [e.kind for e in draft_events(session, ids[1])] == ["drafted", "discarded"]
