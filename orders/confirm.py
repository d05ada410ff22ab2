"""Confirmation: turn an open draft into an order in one transaction that never oversells.

The draft is claimed with a conditional update (`status = 'open'`), then each line's stock
is taken with another (`units_in_stock >= :qty + :held_by_others AND NOT discontinued`,
the other drafts' live holds counted under the products' row locks; see orders.stock),
which also returns the catalog price the line is sold at. Two confirmations racing for
the last units can therefore never both succeed, and none sells units another draft
holds, on SQLite (one writer at a time) and PostgreSQL (row locks, taken in product
order so two confirmations cannot deadlock) alike. The idempotency key is unique in
`orders`: a retried or double-clicked confirmation commits once and returns the same
order. A draft with open items (something asked for but not placed) is refused here
too, whatever the caller checked before: the last line of defence.

The same transaction writes a `memory_outbox` row (event `confirmed`): customer memory
learns of the order after the commit (memory.outbox delivers it), and since the row
commits or rolls back with the order, a Chroma outage can delay a summary but never lose
it. A replayed confirmation writes nothing, so it queues no second row.

The order takes the draft's header (customer PO, requested date, ship-to, notes) as it
stands when the draft is claimed, in the same statement; a draft without one (made
before headers existed, or with none set) makes an order without one.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import (
    Customer,
    Draft,
    DraftLine,
    DraftOpenItem,
    DraftStatus,
    MemoryOutbox,
    Order,
    OrderLine,
    OrderStatus,
    OutboxEvent,
    Product,
    utcnow,
)
from orders.errors import (
    DraftClosed,
    DraftNeedsAttention,
    DraftNotFound,
    EmptyDraft,
    IdempotencyConflict,
    InvalidLines,
    Unavailable,
)
from orders.header import FIELDS as HEADER_FIELDS
from orders.header import default_ship_to
from orders.history import order_status
from orders.schemas import OrderLineView, OrderView
from orders.stock import availability, lock_products

CENT = Decimal("0.01")
# Core tables: confirmation is the hot path, and plain statements skip the ORM's bookkeeping.
customers, drafts, draft_lines = Customer.__table__, Draft.__table__, DraftLine.__table__
open_items = DraftOpenItem.__table__
orders, order_lines, products = Order.__table__, OrderLine.__table__, Product.__table__
outbox = MemoryOutbox.__table__


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
        order = _confirm(session, draft_id, idempotency_key, created_by)
        session.commit()
    except IntegrityError:
        # The key is already taken: by a concurrent retry of this confirmation (return
        # its order), or by another draft's order (refuse).
        session.rollback()
        return order_status(session=session, order_id=_replayed(session, draft_id, idempotency_key))
    except BaseException:
        session.rollback()
        raise
    return order if isinstance(order, OrderView) else order_status(session=session, order_id=order)


def _replayed(session: Session, draft_id: int, key: str) -> int:
    """The order this key confirmed for this draft; IdempotencyConflict if another draft's."""
    order_id, order_draft = session.execute(
        select(orders.c.order_id, orders.c.draft_id).where(orders.c.idempotency_key == key)
    ).one()
    if order_draft != draft_id:
        raise IdempotencyConflict(
            f"The confirmation key was already used for order {order_id} of another draft."
        )
    return order_id


def _confirm(session: Session, draft_id: int, key: str, created_by: str | None) -> OrderView | int:
    """Write the order; return its view, or the id of the order a retry already made."""
    claimed = session.execute(
        update(drafts)
        .where(drafts.c.draft_id == draft_id, drafts.c.status == DraftStatus.OPEN.value)
        .values(status=DraftStatus.CONFIRMED.value, updated_at=utcnow())
        .returning(
            drafts.c.customer_id,
            drafts.c.thread_id,
            *(drafts.c[name] for name in HEADER_FIELDS),
        )
    ).one_or_none()
    if claimed is None:
        return _explain_unclaimed(session, draft_id, key)
    customer_id, thread_id, *header_values = claimed
    header = dict(zip(HEADER_FIELDS, header_values, strict=True))
    questions = session.scalars(
        select(open_items.c.question)
        .where(open_items.c.draft_id == draft_id)
        .order_by(open_items.c.position)
    ).all()
    if questions:
        raise DraftNeedsAttention(questions)
    lines = session.execute(
        select(draft_lines.c.product_id, draft_lines.c.quantity)
        .where(draft_lines.c.draft_id == draft_id)
        .order_by(draft_lines.c.product_id)
    ).all()
    if customer_id is None:
        raise EmptyDraft("The draft has no customer yet; say who the order is for.")
    if not lines:
        raise EmptyDraft("The draft has no lines; there is nothing to confirm.")
    # Other drafts' live holds are counted under the products' locks: a hold taken while
    # this runs waits for it, and units another draft holds are never sold here.
    lock_products(session, (product_id for product_id, _ in lines))
    seen = availability(session, (p for p, _ in lines), excluding_draft_id=draft_id)
    sold = [
        _take_stock(session, product_id, quantity, held_by_others=seen[product_id].held_by_others)
        for product_id, quantity in lines
    ]
    total = sum((line.line_total for line in sold), Decimal("0")).quantize(CENT)
    order_id, created_at = session.execute(
        insert(orders)
        .values(
            customer_id=customer_id,
            status=OrderStatus.CONFIRMED.value,
            total=total,
            idempotency_key=key,
            thread_id=thread_id,
            draft_id=draft_id,
            created_by=created_by,
            created_at=utcnow(),
            **header,
        )
        .returning(orders.c.order_id, orders.c.created_at)
    ).one()
    session.execute(
        insert(order_lines),
        [
            {
                "order_id": order_id,
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": Decimal("0"),
            }
            for line in sold
        ],
    )
    session.execute(
        insert(outbox).values(
            order_id=order_id, event=OutboxEvent.CONFIRMED.value, thread_id=thread_id
        )
    )
    customer_name, city, country = session.execute(
        select(customers.c.company_name, customers.c.city, customers.c.country).where(
            customers.c.customer_id == customer_id
        )
    ).one()
    return OrderView(
        order_id=order_id,
        customer_id=customer_id,
        customer_name=customer_name,
        status=OrderStatus.CONFIRMED.value,
        created_at=created_at,
        total=total,
        lines=sold,
        created_by=created_by,
        ship_to_default=default_ship_to(city, country),
        **header,
    )


def _take_stock(
    session: Session, product_id: int, quantity: int, *, held_by_others: int = 0
) -> OrderLineView:
    """Decrement stock if enough is there beside what other drafts hold, at the catalog
    price. Raises Unavailable."""
    row = session.execute(
        update(products)
        .where(
            products.c.product_id == product_id,
            products.c.units_in_stock >= quantity + held_by_others,
            products.c.discontinued.is_(False),
        )
        .values(units_in_stock=products.c.units_in_stock - quantity)
        .returning(products.c.unit_price, products.c.name)
    ).one_or_none()
    if row is not None:
        price, name = row
        return OrderLineView(
            product_id=product_id,
            product_name=name,
            quantity=quantity,
            unit_price=price,
            discount=Decimal("0"),
            line_total=(price * quantity).quantize(CENT),
        )
    name, in_stock, discontinued = session.execute(
        select(products.c.name, products.c.units_in_stock, products.c.discontinued).where(
            products.c.product_id == product_id
        )
    ).one()
    available = max(in_stock - held_by_others, 0)
    if discontinued:
        message = f"{name} is discontinued and cannot be sold; remove it from the draft."
    elif held_by_others:
        message = (
            f"Not enough stock of {name}: {available} available ({held_by_others} more are "
            f"held by other open drafts), {quantity} asked."
        )
    else:
        message = f"Not enough stock of {name}: {in_stock} available, {quantity} asked."
    raise Unavailable(message, product_id=product_id, available=available)


def _explain_unclaimed(session: Session, draft_id: int, key: str) -> int:
    status = session.scalar(select(drafts.c.status).where(drafts.c.draft_id == draft_id))
    if status is None:
        raise DraftNotFound(draft_id)
    order_id, order_key = session.execute(
        select(orders.c.order_id, orders.c.idempotency_key).where(orders.c.draft_id == draft_id)
    ).one_or_none() or (None, None)
    if order_id is not None and order_key == key:
        return order_id  # a retry with this key (maybe concurrent) already confirmed it
    if order_id is not None:
        raise DraftClosed(f"Draft {draft_id} was already confirmed as order {order_id}.")
    raise DraftClosed(f"Draft {draft_id} was {status}; start a new one.")
