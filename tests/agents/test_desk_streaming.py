"""The desk's streaming turn, rebuilt transcripts, one's conversations and table edits.

Real parts: the seeded store on both backends, the offline model, the checkpointer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from agents.desk import OrderDesk, ReplyText, StepDone, TurnDone
from tests.agents.conftest import open_desk

Thread = Callable[[], str]
# Small enough that two drafts of it fit beside each other's stock holds.
ORDER = "Alfreds Futterkiste wants 6 Queso Cabrales and 5 mozzarella"


def lines(draft: object) -> dict[int, int]:
    return {line.product_id: line.quantity for line in draft.lines} if draft else {}  # type: ignore[attr-defined]


def test_a_streamed_turn_is_the_turn_chat_gives(desk: OrderDesk, thread: Thread) -> None:
    streamed, plain = thread(), thread()
    events = list(desk.chat_stream(streamed, ORDER))
    turn = desk.chat(plain, ORDER)

    assert isinstance(events[-1], TurnDone)
    done = events[-1].turn
    assert done.reply == turn.reply
    assert lines(done.draft) == lines(turn.draft) and len(lines(done.draft)) == 2
    # the reply arrives in pieces, before the turn is done, and the pieces are the reply
    pieces = [e.text for e in events if isinstance(e, ReplyText)]
    assert len(pieces) > 3
    assert "".join(pieces) == done.reply
    # every tool call is reported as it is done, with its result, in the turn's order
    steps = [e.step for e in events if isinstance(e, StepDone)]
    assert [s.name for s in steps] == [s.name for s in done.steps]
    assert all(s.result is not None for s in steps)
    assert events.index(next(e for e in events if isinstance(e, StepDone))) < events.index(
        next(e for e in events if isinstance(e, ReplyText))
    )


def test_a_desk_reply_of_its_own_ends_the_stream(desk: OrderDesk, thread: Thread) -> None:
    events = list(desk.chat_stream(thread(), "   "))
    assert len(events) == 1 and isinstance(events[0], TurnDone)
    assert events[0].turn.reply == "Please type an order or a question."


def test_a_stream_left_unread_still_finishes_its_turn(desk: OrderDesk, thread: Thread) -> None:
    thread_id = thread()
    stream = desk.chat_stream(thread_id, ORDER)
    next(stream)  # the page rerun: nobody reads the rest
    stream.close()
    # the turn runs on; the next turn waits for its lock, then sees its draft
    assert len(lines(desk.chat(thread_id, "add 3 tofu").draft)) == 3


def test_the_transcript_survives_a_new_desk(seeded_engine: Engine, thread: Thread) -> None:
    thread_id = thread()
    first = open_desk(seeded_engine)
    try:
        one = first.chat(thread_id, ORDER)
        two = first.chat(thread_id, "make the mozzarella 7")
    finally:
        first.close()
    second = open_desk(seeded_engine)  # another process, after a reload
    try:
        said = second.transcript(thread_id)
    finally:
        second.close()
    assert [s.role for s in said] == ["user", "assistant", "user", "assistant"]
    assert [s.text for s in said] == [ORDER, one.reply, "make the mozzarella 7", two.reply]
    assert [s.name for s in said[1].steps] == [s.name for s in one.steps]


def test_conversations_are_the_owners_newest_first_with_drafts(
    desk: OrderDesk, thread: Thread
) -> None:
    mine, other, empty, confirmed = thread(), thread(), thread(), thread()
    for thread_id in (mine, empty, confirmed):
        assert desk.claim(thread_id, "ui:me")
    assert desk.claim(other, "ui:someone-else")
    assert not desk.claim(other, "ui:me")
    desk.chat(confirmed, "Ernst Handel: 4 ikura")
    desk.approve(confirmed)
    desk.chat(mine, ORDER)
    desk.chat(mine, "add 2 ikura")  # a later message leaves the title
    desk.chat(other, ORDER)

    listed = desk.conversations("ui:me")
    assert [c.thread_id for c in listed][:2] == [mine, confirmed]
    assert other not in {c.thread_id for c in listed}
    first = listed[0]
    assert first.title == ORDER and first.draft is not None
    assert first.draft.customer_id == "ALFKI" and len(first.draft.lines) == 3
    assert listed[1].draft is None  # confirmed: no open draft
    assert next(c for c in listed if c.thread_id == empty).title == empty


def test_a_long_first_message_is_cut_at_a_word(desk: OrderDesk, thread: Thread) -> None:
    thread_id = thread()
    desk.claim(thread_id, "ui:me")
    desk.chat(thread_id, "Alfreds Futterkiste wants " + "12 Queso Cabrales and " * 10)
    title = desk.conversations("ui:me")[0].title
    assert len(title) <= 60 and title.endswith("…") and not title.endswith(" …")


def test_table_edits_apply_all_or_none(desk: OrderDesk, thread: Thread) -> None:
    thread_id = thread()
    draft = desk.chat(thread_id, ORDER).draft
    queso, mozzarella = (line.product_id for line in draft.lines)

    changed = desk.set_quantities(thread_id, {queso: 20, mozzarella: 0})
    assert changed.error is None and lines(changed.draft) == {queso: 20}

    for refused in (2.5, 20000, -1, "ten"):
        turn = desk.set_quantities(thread_id, {queso: 30, mozzarella: refused})
        assert turn.error, refused
        assert lines(turn.draft) == {queso: 20}  # nothing of the edit was applied
        assert lines(desk.current_draft(thread_id)) == {queso: 20}


@pytest.mark.parametrize("quantities", [{1: 3}, {}])
def test_table_edits_without_a_draft_are_refused(
    desk: OrderDesk, thread: Thread, quantities: dict[int, int]
) -> None:
    turn = desk.set_quantities(thread(), quantities)
    assert turn.error and "no open draft" in turn.reply.lower()
