"""Seeding memory from the Northwind history, on SQLite and PostgreSQL: one summary per
order, exact texts, findable by content, idempotent, progress reported."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import Order
from db.seed import seed
from memory.seed import seed_memories
from memory.store import MemoryStore


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
