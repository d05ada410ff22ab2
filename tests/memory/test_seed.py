"""Seeding memory from the Northwind history, on SQLite and PostgreSQL: one summary per
order, exact texts, findable by content, idempotent, progress reported; and the backfill
of every order memory never learnt (older stores, outage leftovers, cancellations)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from db.models import MemoryOutbox, Order, OrderLine
from db.seed import seed
from memory.habits import order_memory_id, order_summary
from memory.outbox import OutboxRelay, pending_count
from memory.seed import seed_memories
from memory.store import MemoryStore
from orders.history import cancel_order, order_status
from tests.memory.test_outbox import confirm


def test_every_historical_order_becomes_one_summary_once(
    engine: Engine, store: MemoryStore
) -> None:
    seed(engine=engine)
    seen: list[tuple[int, int]] = []
    report = seed_memories(engine=engine, store=store, progress=lambda d, t: seen.append((d, t)))
    assert (report.added, report.skipped) == (830, 0)
    assert store.count() == 830 and seen[0] == (0, 830) and seen[-1] == (830, 830)
    first = store.get("order-10248")
    assert first is not None and first.customer_id == "VINET" and first.kind == "order_summary"
    assert first.text == (
        "Order 10248 on 1996-07-04: 12 × Queso Cabrales, 10 × Singaporean Hokkien Fried Mee, "
        "5 × Mozzarella di Giovanni; total $440.00"
    )
    assert first.created_at == datetime(1996, 7, 4, tzinfo=UTC)
    with Session(engine) as session:
        alfreds = session.scalar(select(func.count()).where(Order.customer_id == "ALFKI"))
    assert len(store.list("ALFKI")) == alfreds == 6
    # A summary is found by what was ordered: 10643 had Rössle Sauerkraut, Chartreuse verte.
    assert store.search("ALFKI", "sauerkraut and chartreuse", k=1)[0].id == "order-10643"
    again = seed_memories(engine=engine, store=store)
    assert (again.added, again.skipped) == (0, 830) and store.count() == 830


def test_the_seed_backfills_orders_memory_never_learnt(engine: Engine, store: MemoryStore) -> None:
    """Orders from before the outbox, a cancellation from before it, a summary deleted
    from the store, a row left pending by an outage: one run puts every summary right."""
    seed(engine=engine)
    with Session(engine) as session:  # without the 830 historical orders: seconds, not 20
        session.execute(delete(OrderLine))
        session.execute(delete(Order))
        session.commit()
    relay = OutboxRelay(engine, store)
    delivered, older, cancelled_before, forgotten = (confirm(engine) for _ in range(4))
    assert relay.deliver_due() == 4
    outage = confirm(engine)  # Chroma was down: its row is still pending
    with Session(engine) as session:
        cancel_order(session=session, order_id=cancelled_before)
        session.execute(delete(MemoryOutbox).where(MemoryOutbox.order_id == older))
        session.execute(
            delete(MemoryOutbox).where(
                MemoryOutbox.order_id == cancelled_before, MemoryOutbox.event == "cancelled"
            )
        )
        session.commit()
    store.delete(order_memory_id(older))
    store.delete(order_memory_id(forgotten))
    assert "(cancelled" not in store.get(order_memory_id(cancelled_before)).text

    report = seed_memories(engine=engine, store=store)

    assert (report.queued, report.added, report.skipped, report.pending) == (3, 4, 2, 0)
    for order_id in (delivered, older, cancelled_before, forgotten, outage):
        memory = store.get(order_memory_id(order_id))
        with Session(engine) as session:
            assert memory is not None
            assert memory.text == order_summary(order_status(session=session, order_id=order_id))
    assert "(cancelled" in store.get(order_memory_id(cancelled_before)).text
    assert store.count() == 5 and pending_count(engine) == 0
    again = seed_memories(engine=engine, store=store)
    assert (again.queued, again.added, again.skipped) == (0, 0, 5) and store.count() == 5
