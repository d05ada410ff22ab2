"""Thread-scoped draft operations: confirm or discard a conversation's draft, find its order.

A conversation (thread) has at most one open draft; the desk's tools, its Confirm and
Cancel buttons and the API all act on "the thread's draft" through these functions, so
the rule for which draft that is - and the idempotency key `draft-{draft_id}` that makes
a repeated confirmation commit once - is written only here. Orders are linked to their
thread through the draft they were confirmed from (`orders.draft_id` → `drafts.thread_id`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Draft, Order
from orders.confirm import confirm_draft
from orders.drafts import discard_draft, open_draft_for_thread, remove_line, set_line
from orders.errors import NoOpenDraft
from orders.history import order_status
from orders.schemas import DraftView, OrderView


def idempotency_key(draft_id: int) -> str:
    """The key of a draft's confirmation: every retry or second click of it carries it."""
    return f"draft-{draft_id}"


def confirm_thread_draft(*, session: Session, thread_id: str, created_by: str | None) -> OrderView:
    """Confirm the thread's open draft (commits; see `confirm_draft`).

    Raises NoOpenDraft when there is none, or the OrderError that refused it (open items,
    no customer, no lines, stock) with nothing written.
    """
    draft = open_draft_for_thread(session=session, thread_id=thread_id)
    if draft is None:
        raise NoOpenDraft("There is no open draft to confirm.")
    return confirm_draft(
        session=session,
        draft_id=draft.draft_id,
        idempotency_key=idempotency_key(draft.draft_id),
        created_by=created_by,
    )


def discard_thread_draft(*, session: Session, thread_id: str) -> DraftView:
    """Discard the thread's open draft (the caller commits); NoOpenDraft when there is none."""
    draft = open_draft_for_thread(session=session, thread_id=thread_id)
    if draft is None:
        raise NoOpenDraft("There is no open draft to cancel.")
    return discard_draft(session=session, draft_id=draft.draft_id)


def set_thread_quantities(
    *, session: Session, thread_id: str, quantities: Mapping[int, object]
) -> DraftView:
    """Quantities edited in the draft's table: product id -> whole units, 0 takes the line
    off. All or none: the first refusal (not a whole number, over the limit, not on the
    draft) raises its OrderError and the caller rolls back; the caller commits."""
    draft = open_draft_for_thread(session=session, thread_id=thread_id)
    if draft is None:
        raise NoOpenDraft("There is no open draft to change.")
    for product_id, quantity in quantities.items():
        if not isinstance(quantity, bool) and quantity == 0:
            draft = remove_line(session=session, draft_id=draft.draft_id, product_id=product_id)
        else:
            draft = set_line(
                session=session, draft_id=draft.draft_id, product_id=product_id, quantity=quantity
            )
    return draft


def last_order_for_thread(*, session: Session, thread_id: str) -> OrderView | None:
    """The order this thread placed most recently (whatever its status), or None."""
    order_id = session.scalar(
        select(Order.order_id)
        .join(Draft, Draft.draft_id == Order.draft_id)
        .where(Draft.thread_id == thread_id)
        .order_by(Order.order_id.desc())
        .limit(1)
    )
    return order_status(session=session, order_id=order_id) if order_id is not None else None
