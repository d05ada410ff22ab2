"""Confirmed orders: status, a customer's recent and last orders, listing, and cancellation.

Cancelling is a conditional update (`status = 'confirmed'`), so a cancel sent twice, or
by two people at once, returns the stock exactly once, and queues one `memory_outbox` row
(event `cancelled`) in the same unit of work, so customer memory learns that the order no
longer stands even if Chroma is down when it happens. Functions here do not commit: the
caller's unit of work does. Orders carry their header (customer PO, requested date,
ship-to, notes); a list can be filtered by PO number and by requested delivery date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, false, func, insert, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from db.models import MemoryOutbox, Order, OrderLine, OrderStatus, OutboxEvent, Product, utcnow
from orders.errors import AlreadyCancelled, NotYourOrder, OrderNotFound
from orders.header import default_ship_to
from orders.schemas import OrderLineView, OrderView

CENT = Decimal("0.01")


def _with_details(query: Select[tuple[Order]]) -> Select[tuple[Order]]:
    return query.options(
        joinedload(Order.customer),
        selectinload(Order.lines).joinedload(OrderLine.product),
    )


def order_view(order: Order) -> OrderView:
    return OrderView(
        order_id=order.order_id,
        customer_id=order.customer_id,
        customer_name=order.customer.company_name,
        status=order.status.value,
        created_at=order.created_at,
        total=order.total,
        created_by=order.created_by,
        cancelled_at=order.cancelled_at,
        customer_po=order.customer_po,
        requested_date=order.requested_date,
        ship_to=order.ship_to,
        notes=order.notes,
        ship_to_default=default_ship_to(order.customer.city, order.customer.country),
        lines=[
            OrderLineView(
                product_id=line.product_id,
                product_name=line.product.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
    )


def order_status(*, session: Session, order_id: int) -> OrderView:
    """One order with its lines. Raises OrderNotFound."""
    order = session.scalars(_with_details(select(Order).where(Order.order_id == order_id))).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order_view(order)


def list_orders(
    *,
    session: Session,
    customer_id: str | None = None,
    status: OrderStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    po: str | None = None,
    delivery_from: date | None = None,
    delivery_until: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[OrderView]:
    """Orders newest first, filtered by customer, status, creation time [since, until),
    customer PO number (exact, any case) and requested delivery date (both ends included;
    an order without one does not match a date filter)."""
    wanted = _filters(customer_id, status, since, until, po, delivery_from, delivery_until)
    query = select(Order).where(*wanted)
    query = query.order_by(Order.created_at.desc(), Order.order_id.desc())
    orders = session.scalars(_with_details(query.limit(max(0, limit)).offset(max(0, offset))))
    return [order_view(order) for order in orders]


def count_orders(
    *,
    session: Session,
    customer_id: str | None = None,
    status: OrderStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    po: str | None = None,
    delivery_from: date | None = None,
    delivery_until: date | None = None,
) -> int:
    """How many orders `list_orders` with the same filters would page through."""
    wanted = _filters(customer_id, status, since, until, po, delivery_from, delivery_until)
    return session.scalar(select(func.count()).select_from(Order).where(*wanted)) or 0


def _filters(
    customer_id: str | None,
    status: OrderStatus | None,
    since: datetime | None,
    until: datetime | None,
    po: str | None,
    delivery_from: date | None,
    delivery_until: date | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if status is not None:
        conditions.append(Order.status == status)
    if since is not None:
        conditions.append(Order.created_at >= since)
    if until is not None:
        conditions.append(Order.created_at < until)
    if po is not None and po.strip():
        # Stored trimmed; a NUL byte matches no PO (and PostgreSQL refuses it as a parameter).
        wanted = po.strip().lower()
        conditions.append(false() if "\x00" in wanted else func.lower(Order.customer_po) == wanted)
    if delivery_from is not None:
        conditions.append(Order.requested_date >= delivery_from)
    if delivery_until is not None:
        conditions.append(Order.requested_date <= delivery_until)
    return conditions


def recent_orders(*, session: Session, customer_id: str, n: int = 5) -> list[OrderView]:
    """The customer's `n` newest orders, cancelled ones included (their status says so)."""
    return list_orders(session=session, customer_id=customer_id, limit=n)


def last_order(*, session: Session, customer_id: str) -> OrderView | None:
    """The customer's newest order that still stands: what "same as last time" repeats."""
    orders = list_orders(
        session=session, customer_id=customer_id, status=OrderStatus.CONFIRMED, limit=1
    )
    return orders[0] if orders else None


def cancel_order(*, session: Session, order_id: int, customer_id: str | None = None) -> OrderView:
    """Cancel a confirmed order and put its stock back, exactly once.

    `customer_id` is the customer the caller is acting for; an order of any other customer
    is refused. Raises OrderNotFound, NotYourOrder or AlreadyCancelled.
    """
    query = update(Order).where(Order.order_id == order_id, Order.status == OrderStatus.CONFIRMED)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    cancelled = session.execute(
        query.values(status=OrderStatus.CANCELLED, cancelled_at=utcnow()).execution_options(
            synchronize_session=False
        )
    ).rowcount
    if cancelled != 1:
        _explain_not_cancelled(session, order_id, customer_id)
    lines = session.execute(
        select(OrderLine.product_id, OrderLine.quantity)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.product_id)
    ).all()
    for product_id, quantity in lines:
        session.execute(
            update(Product)
            .where(Product.product_id == product_id)
            .values(units_in_stock=Product.units_in_stock + quantity)
            .execution_options(synchronize_session=False)
        )
    # Memory must stop presenting this order as one that stands (see memory.outbox).
    thread_id = select(Order.thread_id).where(Order.order_id == order_id).scalar_subquery()
    session.execute(
        insert(MemoryOutbox).values(
            order_id=order_id, event=OutboxEvent.CANCELLED.value, thread_id=thread_id
        )
    )
    session.expire_all()
    return order_status(session=session, order_id=order_id)


def _explain_not_cancelled(session: Session, order_id: int, customer_id: str | None) -> None:
    row = session.execute(
        select(Order.customer_id, Order.status).where(Order.order_id == order_id)
    ).one_or_none()
    if row is None:
        raise OrderNotFound(order_id)
    owner, status = row
    if customer_id is not None and owner != customer_id:
        raise NotYourOrder(f"Order {order_id} belongs to another customer, not {customer_id}.")
    raise AlreadyCancelled(f"Order {order_id} is already {status.value}.")
