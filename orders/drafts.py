"""Drafts: the order a conversation is putting together, before anyone confirms it.

A draft stores only a customer and (product, quantity) pairs. Every view of it reads
names, prices and stock from the catalog at that moment and marks each line `ok`,
`short_stock` (with the quantity available) or `discontinued`. A draft also keeps its
open items: what the conversation asked for that could not be placed as a line, each
with the question that resolves it; while it has any, it cannot be confirmed. And it
keeps its header (customer PO, requested date, ship-to, notes; see orders.header). The
functions validate everything before they write and do not commit: the caller's unit
of work does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import get_settings
from db.models import (
    Customer,
    Draft,
    DraftLine,
    DraftOpenItem,
    DraftStatus,
    OpenItemKind,
    Product,
    utcnow,
)
from orders.errors import (
    DraftAlreadyOpen,
    DraftClosed,
    DraftNotFound,
    EmptyDraft,
    InvalidLines,
    InvalidOpenItems,
    InvalidQuantity,
    UnknownCustomer,
    UnknownProduct,
)
from orders.header import UNSET, OrderHeader, Unset, default_ship_to, parse_header
from orders.schemas import DraftLine as DraftLineView
from orders.schemas import DraftView, LineRequest, LineStatus, OpenItem
from orders.stock import availability, aware, take_holds

MAX_DRAFT_LINES = 100
MAX_OPEN_ITEMS = 50
CENT = Decimal("0.01")


def check_quantity(value: object, *, limit: int | None = None) -> int:
    """Return `value` as a positive whole number no larger than `limit`, or raise InvalidQuantity.

    Accepts ints, integral floats (12.0) and digit strings ("12"); refuses booleans,
    fractions, words, zero, negatives and anything above MAX_LINE_QUANTITY.
    """
    limit = limit or get_settings().max_line_quantity
    quantity: int | None = None
    if isinstance(value, bool):
        quantity = None
    elif isinstance(value, int):
        quantity = value
    elif isinstance(value, float | Decimal):
        try:
            quantity = int(value) if value == int(value) else None
        except (ValueError, OverflowError, ArithmeticError):  # nan, inf
            quantity = None
    elif isinstance(value, str) and value.strip().isdecimal():
        quantity = int(value.strip())
    if quantity is None:
        raise InvalidQuantity(f"The quantity {value!r} is not a whole number of units.")
    if quantity <= 0:
        raise InvalidQuantity(f"The quantity must be at least 1 (got {quantity}).")
    if quantity > limit:
        raise InvalidQuantity(
            f"{quantity:,} units on one line is more than the limit of {limit:,}; "
            "split the order or ask an administrator to raise MAX_LINE_QUANTITY."
        )
    return quantity


def _requested(
    lines: Iterable[LineRequest | Mapping[str, object]], limit: int | None
) -> dict[int, int]:
    """Requested lines as {product_id: quantity}, repeats of a product added together."""
    merged: dict[int, int] = {}
    for raw in lines:
        try:
            line = raw if isinstance(raw, LineRequest) else LineRequest.model_validate(raw)
        except ValueError as error:
            raise InvalidLines(f"A line needs a product_id and a quantity ({error}).") from None
        quantity = check_quantity(line.quantity, limit=limit)
        merged[line.product_id] = check_quantity(
            merged.get(line.product_id, 0) + quantity, limit=limit
        )
    if len(merged) > MAX_DRAFT_LINES:
        raise InvalidLines(f"A draft can hold at most {MAX_DRAFT_LINES} different products.")
    return merged


def _open_items(items: Iterable[OpenItem | Mapping[str, object]]) -> list[OpenItem]:
    """Validated open items, in the order given; InvalidOpenItems names what is wrong."""
    checked: list[OpenItem] = []
    for raw in items:
        try:
            checked.append(raw if isinstance(raw, OpenItem) else OpenItem.model_validate(raw))
        except (ValidationError, TypeError) as error:
            raise InvalidOpenItems(
                "An open item needs a kind (unplaced, ambiguous, unknown_customer, "
                f"bad_quantity or question) and a question to ask ({error})."
            ) from None
        if len(checked) > MAX_OPEN_ITEMS:
            raise InvalidOpenItems(f"A draft can hold at most {MAX_OPEN_ITEMS} open items.")
    return checked


def _open_item_rows(items: list[OpenItem]) -> list[DraftOpenItem]:
    return [
        DraftOpenItem(
            position=position,
            kind=OpenItemKind(item.kind),
            phrase=item.phrase,
            quantity=item.quantity,
            question=item.question,
            candidates=json.dumps(item.candidates),
        )
        for position, item in enumerate(items)
    ]


def _check_products(session: Session, product_ids: Iterable[int]) -> None:
    wanted = set(product_ids)
    if not wanted:
        return
    found = set(session.scalars(select(Product.product_id).where(Product.product_id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise UnknownProduct(missing[0])


def _check_customer(session: Session, customer_id: str | None) -> str | None:
    if customer_id is None:
        return None
    # A NUL byte is not a customer code, and PostgreSQL refuses it in any parameter.
    if "\x00" in customer_id or session.get(Customer, customer_id) is None:
        raise UnknownCustomer(customer_id.replace("\x00", ""))
    return customer_id


def _open_draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise DraftNotFound(draft_id)
    if draft.status is not DraftStatus.OPEN:
        where = f" as order {draft.order_id}" if draft.order_id else ""
        raise DraftClosed(f"Draft {draft_id} was already {draft.status.value}{where}.")
    return draft


def _locked_open_draft(session: Session, draft_id: int) -> Draft:
    """The open draft, its row updated first under the condition that it is still open: on
    PostgreSQL that row lock orders this change against a confirmation of the same draft,
    and its status is read after it (never a stale copy), so a confirmed draft stays as
    it was confirmed."""
    session.execute(
        update(Draft.__table__)
        .where(Draft.__table__.c.draft_id == draft_id)
        .where(Draft.__table__.c.status == DraftStatus.OPEN.value)
        .values(updated_at=utcnow())
    )
    session.get(Draft, draft_id, populate_existing=True)
    return _open_draft(session, draft_id)


def create_draft(
    *,
    session: Session,
    customer_id: str | None,
    lines: Iterable[LineRequest | Mapping[str, object]] = (),
    thread_id: str | None = None,
    max_quantity: int | None = None,
    open_items: Iterable[OpenItem | Mapping[str, object]] = (),
    header: OrderHeader | None = None,
    today: date | None = None,
) -> DraftView:
    """Start a draft for `customer_id` (None while unknown) with the requested lines, the
    open items (what could not be placed, with its question) and the order header.

    A draft may have no lines while it has a customer or open items; one with none of
    the three is refused (EmptyDraft), as there would be nothing to show or ask. A thread
    has at most one open draft - the database's own rule, so it holds however many
    processes race to start one: a second is refused (DraftAlreadyOpen).
    """
    requested = _requested(lines, max_quantity)
    items = _open_items(open_items)
    # Checked again: a header built elsewhere (or on another day) must still hold today.
    fields = parse_header(today=today, **header.given()).given() if header else {}
    if not requested and customer_id is None and not items:
        raise EmptyDraft("There is nothing to draft: no customer, no product and no question.")
    _check_customer(session, customer_id)
    _check_products(session, [*requested, *(c for item in items for c in item.candidates)])
    draft = Draft(customer_id=customer_id, thread_id=thread_id, **fields)
    draft.lines = [
        DraftLine(product_id=product_id, quantity=quantity, position=position)
        for position, (product_id, quantity) in enumerate(requested.items())
    ]
    draft.open_items = _open_item_rows(items)
    try:
        with session.begin_nested():  # a refused insert leaves the caller's work intact
            session.add(draft)
            session.flush()
            take_holds(session, draft)
    except IntegrityError as error:
        # PostgreSQL names the index, SQLite only the column: ask the table instead.
        if thread_id is not None and open_draft_for_thread(session=session, thread_id=thread_id):
            raise DraftAlreadyOpen(thread_id) from error
        raise
    return draft_view(session, draft)


def get_draft(*, session: Session, draft_id: int) -> DraftView:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise DraftNotFound(draft_id)
    return draft_view(session, draft)


def open_draft_for_thread(*, session: Session, thread_id: str) -> DraftView | None:
    """The conversation's draft still being edited, if any (the newest one)."""
    draft = session.scalars(
        select(Draft)
        .where(Draft.thread_id == thread_id, Draft.status == DraftStatus.OPEN)
        .order_by(Draft.draft_id.desc())
        .limit(1)
    ).first()
    return draft_view(session, draft) if draft else None


def latest_draft_for_thread(*, session: Session, thread_id: str) -> DraftView | None:
    """The conversation's newest draft whatever its status (open, confirmed or discarded)."""
    draft = session.scalars(
        select(Draft).where(Draft.thread_id == thread_id).order_by(Draft.draft_id.desc()).limit(1)
    ).first()
    return draft_view(session, draft) if draft else None


def set_open_items(
    *, session: Session, draft_id: int, items: Iterable[OpenItem | Mapping[str, object]]
) -> DraftView:
    """Replace the draft's open items with `items` (an empty list clears them).

    The draft's row is locked first (`_locked_open_draft`), so an item is never added to
    a draft confirmed in the meantime.
    """
    checked = _open_items(items)
    _check_products(session, [c for item in checked for c in item.candidates])
    draft = _locked_open_draft(session, draft_id)
    draft.open_items.clear()
    session.flush()  # the old rows go before new ones take their positions
    draft.open_items.extend(_open_item_rows(checked))
    take_holds(session, draft)
    return draft_view(session, draft)


def set_header(
    *,
    session: Session,
    draft_id: int,
    customer_po: str | None | Unset = UNSET,
    requested_date: date | str | None | Unset = UNSET,
    ship_to: str | None | Unset = UNSET,
    notes: str | None | Unset = UNSET,
    today: date | None = None,
) -> DraftView:
    """Set the draft's header fields given; UNSET ones stay as they are, None (or a blank
    text) clears one. All or none: an InvalidHeader (a PO over 50 characters, a date in
    the past or more than MAX_DELIVERY_DAYS_AHEAD days ahead, ...) changes nothing."""
    given = {
        name: value
        for name, value in (
            ("customer_po", customer_po),
            ("requested_date", requested_date),
            ("ship_to", ship_to),
            ("notes", notes),
        )
        if value is not UNSET
    }
    header = parse_header(today=today, **given)
    draft = _locked_open_draft(session, draft_id)
    for name in given:
        setattr(draft, name, getattr(header, name))
    take_holds(session, draft)
    return draft_view(session, draft)


def set_customer(*, session: Session, draft_id: int, customer_id: str) -> DraftView:
    draft = _open_draft(session, draft_id)
    draft.customer_id = _check_customer(session, customer_id)
    take_holds(session, draft)
    return draft_view(session, draft)


def set_line(
    *,
    session: Session,
    draft_id: int,
    product_id: int,
    quantity: object,
    max_quantity: int | None = None,
) -> DraftView:
    """Set a product's quantity on the draft, adding the line if it is not there yet."""
    return _change_line(session, draft_id, product_id, quantity, max_quantity, add=False)


def add_to_line(
    *,
    session: Session,
    draft_id: int,
    product_id: int,
    quantity: object,
    max_quantity: int | None = None,
) -> DraftView:
    """Add `quantity` units of a product: a new line, or more on the existing one."""
    return _change_line(session, draft_id, product_id, quantity, max_quantity, add=True)


def _change_line(
    session: Session,
    draft_id: int,
    product_id: int,
    quantity: object,
    max_quantity: int | None,
    *,
    add: bool,
) -> DraftView:
    units = check_quantity(quantity, limit=max_quantity)
    draft = _open_draft(session, draft_id)
    _check_products(session, [product_id])
    line = next((line for line in draft.lines if line.product_id == product_id), None)
    if line is None:
        if len(draft.lines) >= MAX_DRAFT_LINES:
            raise InvalidLines(f"A draft can hold at most {MAX_DRAFT_LINES} different products.")
        position = max((line.position for line in draft.lines), default=-1) + 1
        draft.lines.append(DraftLine(product_id=product_id, quantity=units, position=position))
    else:
        line.quantity = check_quantity(line.quantity + units, limit=max_quantity) if add else units
    draft.updated_at = utcnow()
    take_holds(session, draft)
    return draft_view(session, draft)


def remove_line(*, session: Session, draft_id: int, product_id: int) -> DraftView:
    """Take a product off the draft. Removing a product that is not on it is an error."""
    draft = _open_draft(session, draft_id)
    line = next((line for line in draft.lines if line.product_id == product_id), None)
    if line is None:
        raise InvalidLines(f"Product {product_id} is not on draft {draft_id}.")
    draft.lines.remove(line)
    draft.updated_at = utcnow()
    take_holds(session, draft)
    return draft_view(session, draft)


def discard_draft(*, session: Session, draft_id: int) -> DraftView:
    """Abandon an open draft (the user cancelled before confirming); its open items go too,
    since nothing is asked about a draft no longer wanted, and its hold, so other drafts
    see its stock free at once."""
    draft = _open_draft(session, draft_id)
    draft.status = DraftStatus.DISCARDED
    draft.hold_until = None
    draft.open_items.clear()
    session.flush()
    return draft_view(session, draft)


def _ahead(moment: datetime) -> bool:
    """True while `moment` is still to come."""
    return aware(moment) > utcnow()


def line_status(*, quantity: int, in_stock: int, discontinued: bool) -> LineStatus:
    if discontinued:
        return LineStatus.DISCONTINUED
    return LineStatus.SHORT_STOCK if quantity > in_stock else LineStatus.OK


def draft_view(session: Session, draft: Draft) -> DraftView:
    """The draft as it stands now, priced and checked against the catalog: an open draft's
    line is ok while its quantity is within what the other drafts' holds leave."""
    rows = session.execute(
        select(DraftLine.quantity, DraftLine.held, Product)
        .join(Product, Product.product_id == DraftLine.product_id)
        .where(DraftLine.draft_id == draft.draft_id)
        .order_by(DraftLine.position)
    ).all()
    is_open = draft.status is DraftStatus.OPEN
    seen = (
        availability(session, (p.product_id for _, _, p in rows), excluding_draft_id=draft.draft_id)
        if is_open
        else {}
    )
    own_hold_live = is_open and draft.hold_until is not None and _ahead(draft.hold_until)
    lines = []
    for quantity, held, product in rows:
        stock = seen.get(product.product_id)
        lines.append(
            DraftLineView(
                product_id=product.product_id,
                product_name=product.name,
                quantity_per_unit=product.quantity_per_unit,
                quantity=quantity,
                unit_price=product.unit_price,
                # A confirmed draft's lines were sold: their stock check is history.
                status=line_status(
                    quantity=quantity,
                    in_stock=stock.available,
                    discontinued=product.discontinued,
                )
                if stock
                else LineStatus.OK,
                available=stock.available if stock else product.units_in_stock,
                in_stock=product.units_in_stock,
                held=min(held, quantity) if own_hold_live else 0,
                held_by_others=stock.held_by_others if stock else 0,
                held_until=stock.held_until if stock else None,
                line_total=(product.unit_price * quantity).quantize(CENT),
            )
        )
    customer = session.get(Customer, draft.customer_id) if draft.customer_id else None
    items = session.scalars(
        select(DraftOpenItem)
        .where(DraftOpenItem.draft_id == draft.draft_id)
        .order_by(DraftOpenItem.position)
    ).all()
    return DraftView(
        draft_id=draft.draft_id,
        thread_id=draft.thread_id,
        customer_id=draft.customer_id,
        customer_name=customer.company_name if customer else None,
        status=draft.status.value,
        lines=lines,
        total=sum((line.line_total for line in lines), Decimal("0.00")),
        order_id=draft.order_id,
        customer_po=draft.customer_po,
        requested_date=draft.requested_date,
        ship_to=draft.ship_to,
        notes=draft.notes,
        ship_to_default=default_ship_to(customer.city, customer.country) if customer else None,
        hold_until=aware(draft.hold_until) if own_hold_live else None,
        open_items=[
            OpenItem(
                kind=item.kind.value,
                phrase=item.phrase,
                quantity=item.quantity,
                question=item.question,
                candidates=json.loads(item.candidates or "[]"),
            )
            for item in items
        ],
    )


def swap_line(
    *, session: Session, draft_id: int, from_product_id: int, to_product_id: int
) -> DraftView:
    """Replace the draft's line of `from_product_id` with `to_product_id`, at the same
    quantity and position (an alternative taken for a line that cannot be sold), in one
    unit of work. When the new product is already on the draft, its line takes the
    units and the old line goes. Refused, changing nothing: a closed draft (DraftClosed),
    a product not in the catalog (UnknownProduct), one that is discontinued, the same
    product, or an old product that is not on the draft (InvalidLines)."""
    draft = _locked_open_draft(session, draft_id)
    _check_products(session, [to_product_id])
    old = next((line for line in draft.lines if line.product_id == from_product_id), None)
    if old is None:
        raise InvalidLines(f"Product {from_product_id} is not on draft {draft_id}.")
    new = session.get(Product, to_product_id)
    assert new is not None  # checked above
    if to_product_id == from_product_id:
        raise InvalidLines(f"{new.name} would be swapped for itself.")
    if new.discontinued:
        raise InvalidLines(f"{new.name} is discontinued and cannot be sold.")
    quantity, position = old.quantity, old.position
    there = next((line for line in draft.lines if line.product_id == to_product_id), None)
    draft.lines.remove(old)
    session.flush()  # the old line goes before the new one takes its place
    if there is not None:
        there.quantity = check_quantity(there.quantity + quantity)
    else:
        draft.lines.append(
            DraftLine(product_id=to_product_id, quantity=quantity, position=position)
        )
    draft.updated_at = utcnow()
    take_holds(session, draft)
    return draft_view(session, draft)
