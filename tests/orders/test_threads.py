"""Thread-scoped operations: the thread's draft confirmed once, discarded, and its last order.

On SQLite and PostgreSQL, over a seeded store: `confirm_thread_draft` writes the
`draft-{draft_id}` key, refuses when nothing is open or something needs attention, and
never touches another thread; `last_order_for_thread` finds the newest order through the
thread's drafts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Draft, DraftStatus, Order
from orders.drafts import create_draft, open_draft_for_thread
from orders.errors import DraftNeedsAttention, NoOpenDraft
from orders.threads import (
    confirm_thread_draft,
    discard_thread_draft,
    idempotency_key,
    last_order_for_thread,
)
from tests.orders.conftest import store_state

QUESTION = {"kind": "bad_quantity", "phrase": "tofu", "question": "How many tofu?"}


def draft_for(session: Session, thread_id: str, product_id: int = 11, **extra: object) -> int:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": product_id, "quantity": 1}],
        thread_id=thread_id,
        **extra,  # type: ignore[arg-type]
    )
    session.commit()
    return draft.draft_id


def test_confirm_thread_draft_uses_the_drafts_key_once(session: Session) -> None:
    draft_id = draft_for(session, "t-a")
    other = draft_for(session, "t-b")

    order = confirm_thread_draft(session=session, thread_id="t-a", created_by="alice")

    key = session.scalar(select(Order.idempotency_key).where(Order.order_id == order.order_id))
    assert key == idempotency_key(draft_id) == f"draft-{draft_id}"
    assert order.created_by == "alice"
    with pytest.raises(NoOpenDraft, match="no open draft to confirm"):
        confirm_thread_draft(session=session, thread_id="t-a", created_by="alice")
    assert session.get(Draft, other).status is DraftStatus.OPEN  # the other thread's stays


def test_confirm_thread_draft_refuses_while_it_needs_attention(session: Session) -> None:
    draft_for(session, "t-q", open_items=[QUESTION])
    before = store_state(session)
    with pytest.raises(DraftNeedsAttention, match="How many tofu"):
        confirm_thread_draft(session=session, thread_id="t-q", created_by=None)
    assert store_state(session) == before
    assert open_draft_for_thread(session=session, thread_id="t-q") is not None


def test_discard_thread_draft(session: Session) -> None:
    draft_id = draft_for(session, "t-d", open_items=[QUESTION])
    discarded = discard_thread_draft(session=session, thread_id="t-d")
    session.commit()
    assert discarded.draft_id == draft_id and discarded.status == "discarded"
    with pytest.raises(NoOpenDraft, match="no open draft to cancel"):
        discard_thread_draft(session=session, thread_id="t-d")


def test_last_order_for_thread_is_the_newest_of_this_thread(session: Session) -> None:
    assert last_order_for_thread(session=session, thread_id="t-l") is None
    draft_for(session, "t-l", product_id=11)
    first = confirm_thread_draft(session=session, thread_id="t-l", created_by=None)
    draft_for(session, "t-other", product_id=14)
    elsewhere = confirm_thread_draft(session=session, thread_id="t-other", created_by=None)
    draft_for(session, "t-l", product_id=14)
    second = confirm_thread_draft(session=session, thread_id="t-l", created_by=None)
    draft_for(session, "t-l", product_id=4)  # open, never confirmed

    last = last_order_for_thread(session=session, thread_id="t-l")

    assert last is not None and last.order_id == second.order_id != first.order_id
    assert [line.product_id for line in last.lines] == [14]
    found = last_order_for_thread(session=session, thread_id="t-other")
    assert found is not None and found.order_id == elsewhere.order_id
