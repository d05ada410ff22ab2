"""Order statistics for charts: orders per day and best-selling products.

Read-only aggregate queries over confirmed orders; cancelled orders are left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Order, OrderLine, OrderStatus, Product


def orders_per_day(
    *, session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[date, int, Decimal]]:
    """(day, number of confirmed orders, their total) for each day with an order."""
    day = func.date(Order.created_at)
    query = (
        select(day, func.count(), func.sum(Order.total))
        .where(Order.status == OrderStatus.CONFIRMED)
        .group_by(day)
        .order_by(day)
    )
    if since is not None:
        query = query.where(Order.created_at >= since)
    if until is not None:
        query = query.where(Order.created_at < until)
    return [
        (_as_date(value), int(count), Decimal(total or 0))
        for value, count, total in session.execute(query)
    ]


def top_products(*, session: Session, n: int = 10) -> list[tuple[str, int, Decimal]]:
    """(product name, units sold, revenue) of the `n` products selling most units."""
    units = func.sum(OrderLine.quantity)
    revenue = func.sum(OrderLine.quantity * OrderLine.unit_price * (1 - OrderLine.discount))
    query = (
        select(Product.name, units, revenue)
        .join(OrderLine, OrderLine.product_id == Product.product_id)
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(Order.status == OrderStatus.CONFIRMED)
        .group_by(Product.product_id, Product.name)
        .order_by(units.desc(), Product.name)
        .limit(max(1, n))
    )
    return [
        (name, int(sold), Decimal(money or 0).quantize(Decimal("0.01")))
        for name, sold, money in session.execute(query)
    ]


def _as_date(value: object) -> date:
    # SQLite returns func.date() as text, PostgreSQL as a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))
