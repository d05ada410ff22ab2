"""The confirmation rule, table-driven: approval and discard words, the gate, the premature check.

Fast and without a store: drafts are `DraftView`s built by hand, messages are plain
strings, the words come from the real lexicon files.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from langchain_core.messages import AIMessage

from agents.confirmation import (
    ATTENTION_KEY,
    attention,
    is_approval,
    is_discard,
    open_question,
    premature_confirmation,
    refusal,
    why_not_confirmable,
)
from orders.schemas import DraftLine, DraftView, LineStatus, OpenItem

QUESTION = "Which mozzarella: Mozzarella di Giovanni or Gorgonzola Telino?"


def draft(
    *,
    customer_id: str | None = "ALFKI",
    quantity: int = 2,
    available: int = 22,
    status: LineStatus = LineStatus.OK,
    questions: tuple[str, ...] = (),
    lines: bool = True,
) -> DraftView:
    line = DraftLine(
        product_id=11,
        product_name="Queso Cabrales",
        quantity=quantity,
        unit_price=Decimal("21.00"),
        status=status,
        available=available,
        line_total=Decimal("21.00") * quantity,
    )
    return DraftView(
        draft_id=1,
        thread_id="t",
        customer_id=customer_id,
        customer_name="Alfreds Futterkiste" if customer_id else None,
        status="open",
        lines=[line] if lines else [],
        total=line.line_total if lines else Decimal("0"),
        open_items=[OpenItem(kind="question", phrase="x", question=q) for q in questions],
    )


@pytest.mark.parametrize(
    "message",
    [
        "yes",
        "Yes!",
        "yes, confirm",
        "confirm it please",
        "go ahead",
        "👍",
        "ok",
        "that's fine",
        "sure, go ahead and place it",
        "perfect, thank you very much",
        "YES PLEASE",
        "ＹＥＳ",  # full-width letters fold to plain ones
    ],
)
def test_approvals(message: str) -> None:
    assert is_approval(message)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "no",
        "not yet",
        "yes but change the tofu",
        "yes 12 tofu",
        "don't confirm",
        "wait",
        "confirm order 10248 status?",
        "thanks",  # filler alone is not an approval
        "yes yes yes yes yes yes yes yes yes",  # more than eight words
        "cancel it",
    ],
)
def test_not_approvals(message: str) -> None:
    assert not is_approval(message)


@pytest.mark.parametrize(
    "message",
    [
        "no",
        "Nope.",
        "cancel it",
        "Cancel the order please",
        "scrap that",
        "No, scrap it.",
        "never mind",
        "nevermind",
        "hold on",
        "don't place it",
        "Don\u2019t send the order",
        "dont confirm that",
        "Discard the draft.",
        "start over",
        "actually cancel it",
        "sorry, cancel that",
        "ok, no, cancel it please",
        "actually throw that draft away",
        "bin the draft",
        "Den Entwurf bitte verwerfen",
        "jette ce brouillon",
        "borra ese borrador",
        "scarta la bozza, per favore",
        "pode apagar o rascunho",
    ],
)
def test_discards(message: str) -> None:
    assert is_discard(message)


@pytest.mark.parametrize(
    "message",
    [
        "",
        "yes",
        "cancel order 10248",
        "cancel the tofu",
        "no tofu please",
        "please please cancel",
        "delete it",  # may be a line: the draft must be named
        "throw away the draft and add 5 tofu",
        "den Gravad lax bitte streichen",
        "what is in the draft?",
    ],
)
def test_not_discards(message: str) -> None:
    assert not is_discard(message)


def test_open_question_is_the_gate() -> None:
    assert open_question(None) is None
    assert open_question(draft()) is None
    asking = draft(questions=(QUESTION, "How many tofu?"))
    assert open_question(asking) == f"{QUESTION} How many tofu?"
    assert asking.needs_attention and not asking.confirmable
    assert QUESTION in refusal(asking) and "How many tofu?" in refusal(asking)
    closed = asking.model_copy(update={"status": "confirmed"})
    assert open_question(closed) is None


@pytest.mark.parametrize(
    ("view", "reason"),
    [
        (None, "no draft ready to confirm"),
        (draft(lines=False), "no draft ready to confirm"),
        (draft(customer_id=None), "no customer yet"),
        (
            draft(quantity=50, status=LineStatus.SHORT_STOCK),
            "Queso Cabrales: 50 asked, 22 available",
        ),
        (draft(status=LineStatus.DISCONTINUED), "Queso Cabrales: 2 asked, discontinued"),
        (draft(questions=(QUESTION,)), f"needs attention first: {QUESTION}"),
        (draft(lines=False, questions=(QUESTION,)), f"needs attention first: {QUESTION}"),
    ],
)
def test_why_not_confirmable(view: DraftView | None, reason: str) -> None:
    found = why_not_confirmable(view)
    assert found is not None and reason in found


def test_a_confirmable_draft_has_no_reason() -> None:
    assert why_not_confirmable(draft()) is None


def test_premature_confirmation() -> None:
    confirm_only = AIMessage(
        content="", tool_calls=[{"name": "confirm_order", "args": {}, "id": "c1"}]
    )
    with_a_change = AIMessage(
        content="",
        tool_calls=[
            {"name": "update_draft", "args": {}, "id": "u1"},
            {"name": "confirm_order", "args": {}, "id": "c2"},
        ],
    )
    assert premature_confirmation(last_ai=confirm_only, draft=draft()) is None
    changed = premature_confirmation(last_ai=with_a_change, draft=draft())
    assert changed is not None and "show the user the updated draft" in changed
    asking = premature_confirmation(last_ai=confirm_only, draft=draft(questions=(QUESTION,)))
    assert asking is not None and asking.startswith("Not confirmed:") and QUESTION in asking


def test_attention_joins_the_drafts_questions_and_the_models() -> None:
    said = AIMessage(
        content="?", additional_kwargs={ATTENTION_KEY: ["Who is Zyx?", QUESTION, None, " "]}
    )
    assert attention(None, None) == []
    assert attention(draft(questions=(QUESTION,)), said) == [QUESTION, "Who is Zyx?"]
    assert attention(None, AIMessage(content="", additional_kwargs={ATTENTION_KEY: "a str"})) == []
