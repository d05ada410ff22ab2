"""Confirmation: turn an open draft into an order in one transaction that never oversells.

The draft is claimed with a conditional update (`status = 'open'`), then each line's stock
is taken with another (`units_in_stock >= :qty AND NOT discontinued`), which also returns
the catalog price the line is sold at. Two confirmations racing for the last units can
therefore never both succeed, on SQLite (one writer at a time) and PostgreSQL (row locks,
taken in product order so two confirmations cannot deadlock) alike. The idempotency key is
unique in `orders`: a retried or double-clicked confirmation commits once and returns the
same order.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Draft, DraftLine, DraftStatus, Order, OrderLine, OrderStatus, Product
from orders.errors import (
    DraftClosed,
    DraftNotFound,
    EmptyDraft,
    IdempotencyConflict,
    InvalidLines,
    Unavailable,
)
from orders.history import order_status
from orders.schemas import OrderView

CENT = Decimal("0.01")


def confirm_draft(
    *,
    session: Session,
    draft_id: int,
    idempotency_key: str,
    created_by: str | None = None,
) -> OrderView:
    """Commit the draft as an order and return it; the same key always returns the same order.

    This function owns its transaction: it commits on success and rolls back on any
    refusal (nothing is written then). Raises an OrderError saying what stopped it.
    """
    if not idempotency_key or len(idempotency_key) > 100:
        raise InvalidLines("An idempotency key of 1 to 100 characters is required.")
    try:
        order_id = _replayed(session, draft_id, idempotency_key)
        if order_id is None:
            order_id = _confirm(session, draft_id, idempotency_key, created_by)
        session.commit()
    except IntegrityError:
        # The same key committed concurrently in another transaction: return its order.
        session.rollback()
        order_id = _replayed(session, draft_id, idempotency_key)
        if order_id is None:
            raise
    except BaseException:
        session.rollback()
        raise
    return order_status(session=session, order_id=order_id)


def _replayed(session: Session, draft_id: int, key: str) -> int | None:
    """The order this key already confirmed for this draft, if any."""
    order_id = session.scalar(select(Order.order_id).where(Order.idempotency_key == key))
    if order_id is None:
        return None
    if session.scalar(select(Draft.order_id).where(Draft.draft_id == draft_id)) != order_id:
        raise IdempotencyConflict(
            f"The confirmation key was already used for order {order_id} of another draft."
        )
    return order_id


def _confirm(session: Session, draft_id: int, key: str, created_by: str | None) -> int:
    claimed = session.execute(
        update(Draft)
        .where(Draft.draft_id == draft_id, Draft.status == DraftStatus.OPEN)
        .values(status=DraftStatus.CONFIRMED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return _explain_unclaimed(session, draft_id, key)
    customer_id, thread_id = session.execute(
        select(Draft.customer_id, Draft.thread_id).where(Draft.draft_id == draft_id)
    ).one()
    lines = session.execute(
        select(DraftLine.product_id, DraftLine.quantity)
        .where(DraftLine.draft_id == draft_id)
        .order_by(DraftLine.product_id)
    ).all()
    if customer_id is None:
        raise EmptyDraft("The draft has no customer yet; say who the order is for.")
    if not lines:
        raise EmptyDraft("The draft has no lines; there is nothing to confirm.")
    sold = [
        (product_id, quantity, _take_stock(session, product_id, quantity))
        for product_id, quantity in lines
    ]
    total = sum((price * quantity for _, quantity, price in sold), Decimal("0")).quantize(CENT)
    order_id = session.execute(
        insert(Order)
        .values(
            customer_id=customer_id,
            status=OrderStatus.CONFIRMED,
            total=total,
            idempotency_key=key,
            thread_id=thread_id,
            created_by=created_by,
        )
        .returning(Order.order_id)
    ).scalar_one()
    session.execute(
        insert(OrderLine),
        [
            {"order_id": order_id, "product_id": pid, "quantity": qty, "unit_price": price}
            for pid, qty, price in sold
        ],
    )
    session.execute(
        update(Draft)
        .where(Draft.draft_id == draft_id)
        .values(order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    return order_id


def _take_stock(session: Session, product_id: int, quantity: int) -> Decimal:
    """Decrement stock if enough is there; return the catalog price. Raises Unavailable."""
    price = session.execute(
        update(Product)
        .where(
            Product.product_id == product_id,
            Product.units_in_stock >= quantity,
            Product.discontinued.is_(False),
        )
        .values(units_in_stock=Product.units_in_stock - quantity)
        .returning(Product.unit_price)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if price is not None:
        return price
    name, in_stock, discontinued = session.execute(
        select(Product.name, Product.units_in_stock, Product.discontinued).where(
            Product.product_id == product_id
        )
    ).one()
    if discontinued:
        message = f"{name} is discontinued and cannot be sold; remove it from the draft."
    else:
        message = f"Not enough stock of {name}: {in_stock} available, {quantity} asked."
    raise Unavailable(message, product_id=product_id, available=in_stock)


def _explain_unclaimed(session: Session, draft_id: int, key: str) -> int:
    row = session.execute(
        select(Draft.status, Draft.order_id).where(Draft.draft_id == draft_id)
    ).one_or_none()
    if row is None:
        raise DraftNotFound(draft_id)
    status, order_id = row
    if (
        order_id is not None
        and session.scalar(select(Order.idempotency_key).where(Order.order_id == order_id)) == key
    ):
        return order_id  # a concurrent retry with this key won the race
    if status is DraftStatus.CONFIRMED:
        raise DraftClosed(f"Draft {draft_id} was already confirmed as order {order_id}.")
    raise DraftClosed(f"Draft {draft_id} was {status.value}; start a new one.")
