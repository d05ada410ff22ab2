"""Order statistics over the Northwind history, on both backends (the order book's
month and top-product reads are tested through it in test_book.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from orders.history import cancel_order
from orders.stats import orders_per_month, top_products


def test_orders_per_month_over_the_history(session: Session) -> None:
    months = orders_per_month(session=session)
    assert sum(m.orders for m in months) == 830
    assert [m.month for m in months[:3]] == [date(1996, 7, 1), date(1996, 8, 1), date(1996, 9, 1)]
    assert months[-1].month == date(1998, 5, 1)


def test_cancelled_orders_are_left_out(session: Session) -> None:
    cancel_order(session=session, order_id=10248)
    session.commit()
    july = orders_per_month(session=session)[0]
    assert july.orders == 21 and july.revenue == Decimal("27861.89") - Decimal("440.00")


def test_top_products_by_units(session: Session) -> None:
    top = top_products(session=session, n=3)
    assert len(top) == 3
    assert (top[0].name, top[0].units) == ("Camembert Pierrot", 1577)
    assert top[0].units >= top[1].units >= top[2].units
