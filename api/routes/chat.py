"""POST /api/chat, /approve, /reject: one turn of a conversation the caller owns.

Each answers the desk's `Turn` as JSON. A turn the desk could not run because another
request (in any process) held the conversation past the wait is a 409 carrying that
turn, so a client retries instead of reading "nothing happened" as an answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from agents.desk import Turn
from api.deps import DeskDep, OwnedChat, OwnedThread, Owner
from api.errors import THREAD_ERRORS, ConversationBusy
from api.render import turn_out
from api.schemas import BusyOut, ErrorOut, TurnOut
from orders import errors
from orders.audit import acting_as

# Recorded as the orders' created_by; the audit trail names the key's owner instead.
API_USER = "api"

router = APIRouter(prefix="/chat", tags=["chat"], responses=THREAD_ERRORS)


def answer(thread_id: str, turn: Turn) -> TurnOut:
    """The turn as JSON; 409 (ConversationBusy) if it was refused as busy."""
    out = turn_out(thread_id, turn)
    if turn.busy:
        raise ConversationBusy(out)
    return out


@router.post("", response_model=TurnOut)
def chat(desk: DeskDep, owner: Owner, body: OwnedChat) -> TurnOut:
    """One turn of the thread: the reply, the draft, and the order if this turn confirmed one.

    A thread belongs to the API key that first used it; other keys get 403. 409 while
    another request of the same thread is still running: nothing was done, retry.
    """
    with acting_as(owner):
        return answer(body.thread_id, desk.chat(body.thread_id, body.message, user=API_USER))


@router.post(
    "/{thread_id}/approve",
    response_model=TurnOut,
    responses={409: {"model": ErrorOut | BusyOut}},
)
def approve(desk: DeskDep, owner: Owner, thread_id: OwnedThread) -> TurnOut:
    """The Confirm button: commit the thread's draft (once, however often it is sent).

    409 while the draft needs attention (open items): the detail names the questions to
    answer first, and nothing changes. 409 too while another request of the thread runs.
    """
    with acting_as(owner):
        out = answer(thread_id, desk.approve(thread_id, user=API_USER))
    if out.order_id is None and out.attention:
        raise errors.DraftNeedsAttention(out.attention)
    return out


@router.post("/{thread_id}/reject", response_model=TurnOut)
def reject(desk: DeskDep, owner: Owner, thread_id: OwnedThread) -> TurnOut:
    """The Cancel button: do not confirm, and discard the thread's open draft.

    409 while another request of the same thread is still running: nothing was done.
    """
    with acting_as(owner):
        return answer(thread_id, desk.reject(thread_id, user=API_USER))
