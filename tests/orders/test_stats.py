"""Order statistics over the Northwind history, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from orders.history import cancel_order
from orders.stats import orders_per_day, top_products


def test_orders_per_day_over_the_history(session: Session) -> None:
    days = orders_per_day(session=session)
    assert sum(count for _, count, _ in days) == 830
    assert days[0][:2] == (date(1996, 7, 4), 1)
    assert days[0][2] == Decimal("440.00")
    july = orders_per_day(
        session=session,
        since=datetime(1996, 7, 1, tzinfo=UTC),
        until=datetime(1996, 8, 1, tzinfo=UTC),
    )
    assert sum(count for _, count, _ in july) == 22


def test_cancelled_orders_are_left_out(session: Session) -> None:
    cancel_order(session=session, order_id=10248)
    session.commit()
    first = orders_per_day(session=session)[0]
    assert first[0] != date(1996, 7, 4)


def test_top_products_by_units(session: Session) -> None:
    top = top_products(session=session, n=3)
    assert len(top) == 3
    assert top[0][0] == "Camembert Pierrot" and top[0][1] == 1577
    assert top[0][1] >= top[1][1] >= top[2][1]
