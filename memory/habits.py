"""What a customer's order history says about them: order summaries and "the usual".

`order_summary(order)` is the one-line text remembered after every confirmed order (and
seeded for the Northwind history): "Order 10248 on 1996-07-04: 12 × Queso Cabrales, …;
total $440.00". Once the order is cancelled the same memory (same id) is rewritten to
"Order 11080 on 2026-11-30 (cancelled 2026-12-01): …", so what memory recalls never
presents a cancelled order as one that stands. `usual_products(...)` reads the
customer's confirmed orders - never cancelled ones - and returns the products they order
most often, each with how many orders included it and its typical (median) quantity -
what "the usual for Alfreds" means. Habits come from the database, not from summaries,
so a summary not yet delivered (Chroma down) or a cancelled one cannot skew them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Order, OrderLine, OrderStatus, Product
from memory.store import MAX_TEXT_CHARS, NewMemory
from orders.schemas import OrderView


def order_summary(order: OrderView) -> str:
    """The memory text of one order: number, date, whether it was cancelled, lines, total.

    An order too long for one memory names its first lines and how many more there were.
    """
    head = f"Order {order.order_id} on {order.created_at:%Y-%m-%d}"
    if order.status == OrderStatus.CANCELLED.value:
        when = f" {order.cancelled_at:%Y-%m-%d}" if order.cancelled_at else ""
        head += f" (cancelled{when})"
    tail = f"; total ${order.total:,.2f}"
    lines = [f"{line.quantity} × {line.product_name}" for line in order.lines]
    shown = len(lines)
    while shown > 1 and len(_summary(head, lines, shown, tail)) > MAX_TEXT_CHARS:
        shown -= 1
    return _summary(head, lines, shown, tail)[:MAX_TEXT_CHARS]


def _summary(head: str, lines: list[str], shown: int, tail: str) -> str:
    more = len(lines) - shown
    extra = f" and {more} more line{'s' if more > 1 else ''}" if more else ""
    return f"{head}: {', '.join(lines[:shown])}{extra}{tail}"


def order_memory_id(order_id: int) -> str:
    """The memory id of an order's summary: writing it twice never makes two memories."""
    return f"order-{order_id}"


def summary_memory(order: OrderView, *, thread_id: str | None = None) -> NewMemory:
    """The order_summary memory of one order (its id makes writing it idempotent, and a
    cancellation overwrite the confirmed order's summary)."""
    return NewMemory(
        customer_id=order.customer_id,
        text=order_summary(order),
        kind="order_summary",
        thread_id=thread_id,
        id=order_memory_id(order.order_id),
        created_at=order.created_at,
    )


@dataclass(frozen=True)
class UsualLine:
    """A product the customer orders often."""

    product_id: int
    product_name: str
    orders: int  # how many of the customer's confirmed orders included it
    quantity: int  # its typical (median) quantity in those orders
    discontinued: bool


@dataclass(frozen=True)
class Habits:
    """A customer's most frequent products over their confirmed orders."""

    customer_id: str
    orders: int
    usual: list[UsualLine] = field(default_factory=list)


def usual_products(
    *, session: Session, customer_id: str, top: int = 5, min_orders: int = 2
) -> Habits:
    """The `top` products found in at least `min_orders` of the customer's confirmed orders,
    most frequent first (ties: more units overall, then product id)."""
    confirmed = (Order.customer_id == customer_id, Order.status == OrderStatus.CONFIRMED)
    orders = session.scalar(select(func.count()).select_from(Order).where(*confirmed)) or 0
    rows = session.execute(
        select(OrderLine.product_id, Product.name, Product.discontinued, OrderLine.quantity)
        .join(Order, Order.order_id == OrderLine.order_id)
        .join(Product, Product.product_id == OrderLine.product_id)
        .where(*confirmed)
    ).all()
    quantities: dict[int, list[int]] = defaultdict(list)
    about: dict[int, tuple[str, bool]] = {}
    for product_id, name, discontinued, quantity in rows:
        quantities[product_id].append(quantity)
        about[product_id] = (name, discontinued)
    ranked = sorted(quantities, key=lambda pid: (-len(quantities[pid]), -sum(quantities[pid]), pid))
    usual = [
        UsualLine(
            product_id=pid,
            product_name=about[pid][0],
            orders=len(quantities[pid]),
            quantity=max(1, round(statistics.median(quantities[pid]))),
            discontinued=about[pid][1],
        )
        for pid in ranked
        if len(quantities[pid]) >= min_orders
    ]
    return Habits(customer_id=customer_id, orders=orders, usual=usual[: max(0, top)])
