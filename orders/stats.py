"""Order statistics for charts: confirmed orders per month and best-selling products.

Read-only aggregate queries; cancelled orders are left out of both. Months are calendar
months in UTC, over the data's own range (its first to its last month with an order),
months without an order included as zero, so a chart of a store whose history is
1996-1998 shows those 23 months and not the decades up to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, extract, func, select
from sqlalchemy.orm import Session

from db.models import Order, OrderLine, OrderStatus, Product

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthCount:
    """Confirmed orders placed in one calendar month (`month` is its first day)."""

    month: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class ProductSales:
    """Units and revenue one product sold in confirmed orders."""

    product_id: int
    name: str
    units: int
    revenue: Decimal


def orders_per_month(*, session: Session) -> list[MonthCount]:
    """Every month from the first to the last with a confirmed order, oldest first."""
    year, month = _utc_year_month(session, Order.created_at)
    query = (
        select(year, month, func.count(), func.sum(Order.total))
        .where(Order.status == OrderStatus.CONFIRMED)
        .group_by(year, month)
    )
    found = {
        date(int(y), int(m), 1): (int(n), Decimal(total or 0).quantize(CENT))
        for y, m, n, total in session.execute(query)
    }
    if not found:
        return []
    return [
        MonthCount(first, *found.get(first, (0, Decimal("0.00"))))
        for first in _months(min(found), max(found))
    ]


def top_products(*, session: Session, n: int = 10) -> list[ProductSales]:
    """The `n` products that sold the most units, most first (ties by name)."""
    units = func.sum(OrderLine.quantity)
    revenue = func.sum(OrderLine.quantity * OrderLine.unit_price * (1 - OrderLine.discount))
    query = (
        select(Product.product_id, Product.name, units, revenue)
        .join(OrderLine, OrderLine.product_id == Product.product_id)
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(Order.status == OrderStatus.CONFIRMED)
        .group_by(Product.product_id, Product.name)
        .order_by(units.desc(), Product.name)
        .limit(max(1, n))
    )
    return [
        ProductSales(product_id, name, int(sold), Decimal(money or 0).quantize(CENT))
        for product_id, name, sold, money in session.execute(query)
    ]


def _utc_year_month(
    session: Session, moment: ColumnElement[datetime]
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    # PostgreSQL reads a timestamptz's fields in the session's time zone; SQLite stores
    # the UTC time itself. Both then agree on which month an order belongs to.
    if session.get_bind().dialect.name == "postgresql":
        moment = func.timezone("UTC", moment)
    return extract("year", moment), extract("month", moment)


def _months(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months
