"""The confirmation rule, in one place: when a draft may become an order, and who says so.

Four parts. Approval words: `is_approval` ("yes", "confirm it", "ja, bitte") and
`is_discard` ("no", "scrap that", "never mind") read their words from the lexicon
(`agents.reading.lexicon`), never from code. The human-in-the-loop settings: the
`confirm_order` tool only runs after a person approves it (`confirmation_middleware`,
`APPROVE`, `reject`). The premature check: a `confirm_order` the model asks for in the
same breath as a draft change, or for a draft that could not be confirmed, is refused
before anyone is asked. The needs-attention gate: a draft with open items (something
asked for that is not on it) is not confirmed by a "yes", the Confirm button or the API
until they are resolved; `open_question` is what to answer first, and `attention` the
questions a turn leaves open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage

from agents.reading.lexicon import words
from agents.reading.text import fold
from orders.errors import DraftNeedsAttention
from orders.schemas import DraftLine, DraftView, LineStatus

CONFIRM_TOOL = "confirm_order"
APPROVE: dict[str, Any] = {"decisions": [{"type": "approve"}]}
# What the model's final message may carry: questions it asked with no draft to hold them.
ATTENTION_KEY = "orderdesk_attention"
MAX_APPROVAL_WORDS = 8
LONGEST_PHRASE = 4  # words in the longest lexicon phrase matched as one
_TOKEN = re.compile(r"[\w'👍]+")


# --- approval words -----------------------------------------------------------------


def _tokens(message: str) -> list[str]:
    return _TOKEN.findall(fold(message))


def _cover(tokens: Sequence[str], vocabulary: frozenset[str]) -> list[str] | None:
    """`tokens` read as a run of vocabulary entries (longest first), or None if they are not."""
    entries: list[str] = []
    start = 0
    while start < len(tokens):
        for size in range(min(LONGEST_PHRASE, len(tokens) - start), 0, -1):
            entry = " ".join(tokens[start : start + size])
            if entry in vocabulary:
                entries.append(entry)
                start += size
                break
        else:
            return None
    return entries


def _mentions(tokens: Sequence[str], vocabulary: frozenset[str]) -> bool:
    """True when any run of up to LONGEST_PHRASE tokens is a vocabulary entry."""
    return any(
        " ".join(tokens[start : start + size]) in vocabulary
        for start in range(len(tokens))
        for size in range(1, LONGEST_PHRASE + 1)
        if start + size <= len(tokens)
    )


def is_approval(message: str) -> bool:
    """True when the whole message is a confirmation: "yes", "confirm it", "go ahead"...

    At most eight words, at least one approval word, nothing but approval and filler
    words ("please", "the order"), and no negation ("no", "don't", "but", "wait").
    """
    tokens = _tokens(message)
    if not tokens or len(tokens) > MAX_APPROVAL_WORDS or _mentions(tokens, words("negation")):
        return False
    approve = words("approve")
    entries = _cover(tokens, approve | words("approve_filler"))
    return entries is not None and any(entry in approve for entry in entries)


def is_discard(message: str) -> bool:
    """True when the whole message drops the draft: "no", "cancel it", "scrap that"...

    The message must be one of the lexicon's discard phrases, with at most one courtesy
    word before it ("ok", "sorry") and one after ("please"); apostrophes do not count
    ("dont" is "don't").
    """
    tokens = [token.replace("'", "") for token in _tokens(message)]
    if not tokens or len(tokens) > MAX_APPROVAL_WORDS:
        return False
    phrases = {phrase.replace("'", "") for phrase in words("discard")}
    before, after = words("discard_before"), words("discard_after")
    starts = [0, 1] if tokens[0] in before else [0]
    ends = [len(tokens), len(tokens) - 1] if tokens[-1] in after else [len(tokens)]
    if any(" ".join(tokens[start:end]) in phrases for start in starts for end in ends):
        return True
    return _drops_the_draft(tokens)


def _drops_the_draft(tokens: Sequence[str]) -> bool:
    """ "actually throw that draft away", "Den Entwurf bitte verwerfen", "jette ce
    brouillon": a discard verb and the word draft, in any order, with only small words
    beside them. The draft must be named: "delete it" may mean a line."""
    verbs, nouns = _unquoted("discard_verb"), _unquoted("draft_noun")
    vocabulary = verbs | nouns | _unquoted("discard_word") | _unquoted("discard_before")
    entries = _cover(tokens, vocabulary | _unquoted("discard_after"))
    return (
        entries is not None
        and any(entry in verbs for entry in entries)
        and any(entry in nouns for entry in entries)
    )


def _unquoted(kind: str) -> frozenset[str]:
    return frozenset(phrase.replace("'", "") for phrase in words(kind))


# --- human in the loop --------------------------------------------------------------


def confirmation_middleware() -> HumanInTheLoopMiddleware:
    """`confirm_order` waits for a person: approve (button or "yes") or reject."""
    return HumanInTheLoopMiddleware(
        interrupt_on={CONFIRM_TOOL: {"allowed_decisions": ["approve", "reject"]}},
        description_prefix="Confirm this order",
    )


def reject(message: str) -> dict[str, Any]:
    """The resume payload that refuses a waiting `confirm_order`, telling the model why."""
    return {"decisions": [{"type": "reject", "message": message}]}


# --- the needs-attention gate -------------------------------------------------------


def open_question(draft: DraftView | None) -> str | None:
    """The question(s) to answer before `draft` can be confirmed, or None if there are none."""
    questions = draft.questions if draft is not None and draft.status == "open" else []
    return " ".join(questions) or None


def refusal(draft: DraftView) -> str:
    """What a "yes", the Confirm button or the API answers while `draft` needs attention."""
    return str(DraftNeedsAttention(draft.questions))


def attention(draft: DraftView | None, final: AIMessage | None) -> list[str]:
    """The questions a turn leaves open: the open draft's, its lines that cannot be sold
    as asked, then those the model's final message lists under ATTENTION_KEY (asked with
    no draft to hold them), each once."""
    asked: list[str] = list(draft.questions) if draft and draft.status == "open" else []
    if draft and draft.status == "open":
        asked += [_cannot_sell(line) for line in draft.problems]
    extra = final.additional_kwargs.get(ATTENTION_KEY) if final is not None else None
    if isinstance(extra, list | tuple):
        asked += [question.strip() for question in extra if isinstance(question, str)]
    return _unique(question for question in asked if question)


def _cannot_sell(line: DraftLine) -> str:
    """The question a line that cannot be sold as asked leaves open."""
    if line.status is LineStatus.DISCONTINUED:
        return f"{line.product_name} is discontinued: take an alternative or remove it."
    return (
        f"{line.product_name}: {line.quantity} asked, {line.available} available: ship what "
        "is available, take an alternative or change it."
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- the premature check ------------------------------------------------------------


def why_not_confirmable(draft: DraftView | None) -> str | None:
    """Why confirming `draft` now would be refused, in words for the user; None if it would not."""
    question = open_question(draft)
    if question:
        return f"the draft needs attention first: {question}"
    if draft is None or not draft.lines:
        return "there is no draft ready to confirm."
    if draft.customer_id is None:
        return "the draft has no customer yet; ask who the order is for."
    if not draft.confirmable:
        short = "; ".join(
            f"{line.product_name}: {line.quantity} asked, "
            + ("discontinued" if line.status == "discontinued" else f"{line.available} available")
            for line in draft.problems
        )
        return f"the draft cannot be confirmed as it stands ({short})."
    return None


def premature_confirmation(*, last_ai: AIMessage | None, draft: DraftView | None) -> str | None:
    """Why a waiting `confirm_order` must be refused before anyone is asked, or None.

    Refused when the model changed something in the same message (the user has not seen
    what they would approve), or when the draft could not be confirmed as it stands.
    """
    calls = last_ai.tool_calls if last_ai is not None else []
    if any(call["name"] != CONFIRM_TOOL for call in calls):
        return (
            "Not confirmed: show the user the updated draft and wait for their approval "
            "before calling confirm_order."
        )
    reason = why_not_confirmable(draft)
    return f"Not confirmed: {reason}" if reason else None
