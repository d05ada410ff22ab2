"""The memory outbox row of an order event is written in the event's own transaction.

Confirming writes one `confirmed` row and cancelling one `cancelled` row, each with the
order's thread; a replayed confirmation, a refused one, a rolled-back cancellation and
a second cancel write none; and when the row cannot be written, the order is not
written either (one transaction, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.models import Draft, DraftStatus, MemoryOutbox, OutboxEvent
from orders.confirm import confirm_draft
from orders.drafts import create_draft
from orders.errors import AlreadyCancelled, Unavailable
from orders.history import cancel_order
from tests.orders.conftest import store_state


def outbox_rows(session: Session) -> list[tuple[int, OutboxEvent, str | None]]:
    session.expire_all()
    return [
        (row.order_id, row.event, row.thread_id)
        for row in session.scalars(select(MemoryOutbox).order_by(MemoryOutbox.outbox_id))
    ]


def new_draft(session: Session, thread_id: str = "t-1", **quantities: int) -> int:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        thread_id=thread_id,
        lines=[{"product_id": int(p[1:]), "quantity": q} for p, q in quantities.items()],
    )
    session.commit()
    return draft.draft_id


def test_a_confirmation_queues_one_row_and_its_replay_none(session: Session) -> None:
    draft_id = new_draft(session, p11=2)
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
    row = session.scalars(select(MemoryOutbox)).one()
    assert (row.order_id, row.event, row.thread_id) == (order.order_id, "confirmed", "t-1")
    assert (row.attempts, row.delivered_at, row.last_error) == (0, None, None)
    again = confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
    assert again.order_id == order.order_id
    assert outbox_rows(session) == [(order.order_id, OutboxEvent.CONFIRMED, "t-1")]


def test_concurrent_replays_queue_one_row(seeded: Engine) -> None:
    with Session(seeded) as session:
        draft_id = new_draft(session, p11=1)
    start = threading.Barrier(6)

    def click(_: int) -> int:
        start.wait()
        with Session(seeded) as session:
            return confirm_draft(session=session, draft_id=draft_id, idempotency_key="r").order_id

    with ThreadPoolExecutor(max_workers=6) as pool:
        (order_id,) = set(pool.map(click, range(6)))
    with Session(seeded) as session:
        assert outbox_rows(session) == [(order_id, OutboxEvent.CONFIRMED, "t-1")]


def test_a_refused_confirmation_queues_nothing(session: Session) -> None:
    # Queso is taken first (product order), then Tofu is short: the whole transaction goes.
    draft_id = new_draft(session, p11=2, p14=999)
    before = store_state(session)
    with pytest.raises(Unavailable):
        confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
    assert store_state(session) == before
    assert outbox_rows(session) == []


def test_no_order_is_written_when_its_row_cannot_be(seeded: Engine) -> None:
    """The row is part of the confirmation: without its table, the order rolls back too."""
    with Session(seeded) as session:
        draft_id = new_draft(session, p11=2)
        before = store_state(session)
    rename(seeded, "memory_outbox", "memory_outbox_away")
    try:
        with Session(seeded) as session, pytest.raises(DBAPIError):
            confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
        with Session(seeded) as session:
            assert store_state(session) == before
            assert session.get(Draft, draft_id).status == DraftStatus.OPEN
    finally:
        rename(seeded, "memory_outbox_away", "memory_outbox")
    with Session(seeded) as session:  # and once the table is back, the same key confirms
        order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
        assert outbox_rows(session) == [(order.order_id, OutboxEvent.CONFIRMED, "t-1")]


def rename(engine: Engine, table: str, to: str) -> None:
    engine.dispose()  # no pooled connection keeps a statement cached on the old name
    with engine.begin() as connection:
        connection.execute(text(f'ALTER TABLE "{table}" RENAME TO "{to}"'))


def test_a_cancellation_queues_one_row_in_the_callers_transaction(session: Session) -> None:
    order_id = confirm_draft(
        session=session, draft_id=new_draft(session, "t-9", p11=2), idempotency_key="k"
    ).order_id
    confirmed = (order_id, OutboxEvent.CONFIRMED, "t-9")

    cancel_order(session=session, order_id=order_id, customer_id="ALFKI")
    session.rollback()  # the caller's unit of work fails: the event goes with it
    assert outbox_rows(session) == [confirmed]

    cancel_order(session=session, order_id=order_id, customer_id="ALFKI")
    session.commit()
    cancelled = (order_id, OutboxEvent.CANCELLED, "t-9")
    assert outbox_rows(session) == [confirmed, cancelled]

    with pytest.raises(AlreadyCancelled):
        cancel_order(session=session, order_id=order_id)
    session.rollback()
    assert outbox_rows(session) == [confirmed, cancelled]


def test_concurrent_cancels_queue_one_row(seeded: Engine) -> None:
    with Session(seeded) as session:
        order_id = confirm_draft(
            session=session, draft_id=new_draft(session, p11=3), idempotency_key="k"
        ).order_id
    start = threading.Barrier(8)

    def cancel(_: int) -> bool:
        start.wait()
        with Session(seeded) as session:
            try:
                cancel_order(session=session, order_id=order_id)
            except AlreadyCancelled:
                return False
            session.commit()
            return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(cancel, range(8))) == 1
    with Session(seeded) as session:
        assert [event for _, event, _ in outbox_rows(session)] == ["confirmed", "cancelled"]
