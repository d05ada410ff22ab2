"""Conversations with the offline desk: open questions, references and requests that span
turns, each checked in the database after the turn (both backends).

Nothing a message asks for may vanish between turns: a question the desk asked stays open
until answered, its quantity and customer are kept, and a draft with an open question is
never confirmed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from agents.desk import OrderDesk
from orders.history import order_status
from tests.agents.conftest import new_orders

Thread = Callable[[], str]


def lines(turn: object) -> dict[int, int]:
    draft = turn.draft  # type: ignore[attr-defined]
    return {line.product_id: line.quantity for line in draft.lines} if draft else {}


def test_an_ambiguous_phrase_is_an_open_question_that_blocks_confirmation(
    desk: OrderDesk, thread: Thread
) -> None:
    t = thread()
    asked = desk.chat(t, "Alfreds Futterkiste wants 20 queso and 5 tofu")
    assert lines(asked) == {14: 5}
    assert asked.draft is not None and asked.draft.needs_attention
    assert asked.attention and "queso" in asked.reply.lower()
    refused = desk.chat(t, "yes")
    assert refused.order_id is None and not new_orders(desk.engine)
    assert "queso" in refused.reply.lower()
    answered = desk.chat(t, "the Cabrales")  # the quantity asked for is kept
    assert lines(answered) == {14: 5, 11: 20}
    assert not answered.draft.needs_attention and not answered.attention
    assert desk.chat(t, "yes").order_id is not None


def test_a_product_without_a_quantity_is_asked_about_and_the_number_answers(
    desk: OrderDesk, thread: Thread
) -> None:
    t = thread()
    asked = desk.chat(t, "Ernst Handel: 4 Ikura, and some Konbu")
    assert lines(asked) == {10: 4}
    assert asked.draft.needs_attention and "konbu" in asked.reply.lower()
    assert lines(desk.chat(t, "6")) == {10: 4, 13: 6}


def test_an_unknown_customer_is_asked_for_and_the_lines_are_kept(
    desk: OrderDesk, thread: Thread
) -> None:
    t = thread()
    asked = desk.chat(t, "Acme Widgets wants 5 tofu")
    assert asked.draft is None and asked.attention
    assert "Acme Widgets" in asked.reply
    named = desk.chat(t, "sorry, it's for Ernst Handel")
    assert named.draft is not None and named.draft.customer_id == "ERNSH"
    assert lines(named) == {14: 5}


def test_references_to_lines_of_the_draft(desk: OrderDesk, thread: Thread) -> None:
    t = thread()
    desk.chat(t, "Tortuga Restaurante: 5 Ikura, 5 Konbu")
    assert lines(desk.chat(t, "make them both 7")) == {10: 7, 13: 7}
    assert lines(desk.chat(t, "also 2 Tofu")) == {10: 7, 13: 7, 14: 2}
    assert lines(desk.chat(t, "make that 3")) == {10: 7, 13: 7, 14: 3}  # the line just added
    assert lines(desk.chat(t, "drop the first one")) == {13: 7, 14: 3}


def test_any_word_of_a_line_names_it(desk: OrderDesk, thread: Thread) -> None:
    t = thread()
    desk.chat(t, "Ernst Handel wants 3 Longlife Tofu")
    turn = desk.chat(t, "make the tofu 2")  # Longlife Tofu, not a new line of Tofu (14)
    assert lines(turn) == {74: 2}


def test_two_requests_in_one_message_are_both_done(desk: OrderDesk, thread: Thread) -> None:
    turn = desk.chat(thread(), "where is order 10250? and add 3 konbu for Ernst Handel")
    assert lines(turn) == {13: 3}
    assert "10250" in turn.reply and "Hanari Carnes" in turn.reply


def test_cancel_that_order_cancels_the_order_this_conversation_placed(
    desk: OrderDesk, thread: Thread
) -> None:
    t = thread()
    desk.chat(t, "Ernst Handel: 4 Ikura")
    placed = desk.chat(t, "yes").order_id
    assert placed is not None
    desk.chat(t, "cancel that order")
    with Session(desk.engine) as session:
        assert order_status(session=session, order_id=placed).status == "cancelled"


def test_the_customer_can_be_changed_and_the_reply_says_so(desk: OrderDesk, thread: Thread) -> None:
    t = thread()
    desk.chat(t, "Ernst Handel: 5 tofu")
    turn = desk.chat(t, "it's for Alfreds Futterkiste actually")
    assert turn.draft.customer_id == "ALFKI" and lines(turn) == {14: 5}
    assert "Alfreds Futterkiste" in turn.reply


def test_a_full_line_for_one_of_the_candidates_answers_the_question(
    desk: OrderDesk, thread: Thread
) -> None:
    t = thread()
    desk.chat(t, "Alfreds Futterkiste wants 20 queso and 5 tofu")
    turn = desk.chat(t, "make it 12 Queso Manchego La Pastora")
    assert lines(turn) == {14: 5, 12: 12}
    assert not turn.draft.needs_attention, turn.reply
