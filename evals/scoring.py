"""Scoring one evaluation case: did the conversation end in the draft the case expects?

`score_case(case, turns)` is pure: it reads the case's `expect` block (see
evals/datasets/README.md) and the turns the desk returned, and checks the customer, the
exact lines, confirmation, that unknown or ambiguous phrases were raised with the user
instead of drafted, order numbers, product names and other words in replies, that prices
are the catalog's, the order header the draft ended with (PO, requested date, ship-to,
notes), whether the last turn flagged something for attention and whether an order placed
in the conversation ended cancelled. Each failed check adds a reason a person
can act on. It also decides whether a failed case is a *silent loss*: what the message
asked for (customer, lines, an unknown or ambiguous phrase) did not end up right, and the
last turn raised nothing (no `turn.attention`, no `draft.needs_attention`, no error), so
the user would not notice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from db.text import fold
from orders.schemas import DraftView

PRICE_TOLERANCE = Decimal("0.005")
# Categories that ask a question instead of placing an order: they expect no lines.
ORDERLESS = frozenset({"status", "search", "memory"})
# Orderless categories that also expect no customer on the draft (a memory question is
# about a customer, so the desk may well keep that customer).
NO_CUSTOMER = frozenset({"status", "search"})
# The checks whose failure means something the message asked for was lost or mangled.
LOSS_CHECKS = ("customer", "lines", "no_lines_for", "asks_about", "header")


class TurnLike(Protocol):
    """What scoring needs from a turn (agents.desk.Turn has these attributes)."""

    reply: str
    draft: DraftView | None
    order_id: int | None


@dataclass(frozen=True)
class TurnRecord:
    """One turn as the runner recorded it (a desk Turn, or the error that replaced it)."""

    reply: str
    draft: DraftView | None = None
    order_id: int | None = None
    pending: bool = False
    error: str | None = None
    latency_ms: float = 0.0
    attention: tuple[str, ...] = ()  # the turn's open questions (`Turn.attention`)
    needs_attention: bool = False  # the draft cannot be confirmed as it stands

    @classmethod
    def of(cls, turn: Any, latency_ms: float = 0.0) -> TurnRecord:
        """Record a desk Turn; `attention` and the draft's `needs_attention` / `open_items`
        are read if the desk has them (older desks do not)."""
        draft = getattr(turn, "draft", None)
        open_items = getattr(draft, "open_items", None) or ()
        return cls(
            reply=str(getattr(turn, "reply", "") or ""),
            draft=draft,
            order_id=getattr(turn, "order_id", None),
            pending=bool(getattr(turn, "pending", False)),
            error=getattr(turn, "error", None),
            latency_ms=latency_ms,
            attention=tuple(str(item) for item in getattr(turn, "attention", None) or ()),
            needs_attention=bool(getattr(draft, "needs_attention", False) or open_items),
        )

    @property
    def flagged(self) -> bool:
        """The turn told the user that something needs their attention."""
        return bool(self.attention) or self.needs_attention


@dataclass
class CaseResult:
    """The verdict on one case: every check by name, and why it failed."""

    case_id: str
    category: str
    checks: dict[str, bool] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    raised: bool = False  # the last turn flagged something (or failed visibly)
    silent_loss: bool = False  # a loss check failed and the last turn raised nothing

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def check(self, name: str, ok: bool, reason: str = "") -> None:
        self.checks[name] = self.checks.get(name, True) and ok
        if not ok:
            self.reasons.append(f"{name}: {reason}" if reason else name)


def normalize(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces, padded: for phrase containment."""
    plain = fold(text)
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split()) + " "


def final_draft(turns: Sequence[TurnLike]) -> DraftView | None:
    """The draft after the last turn: the last turn's, else the latest one shown earlier.

    A conversation that ends in "cancel" may show no draft any more; its lines are then
    the ones last drafted, which is what the cases expect.
    """
    for turn in reversed(turns):
        if turn.draft is not None:
            return turn.draft
    return None


def draft_lines(draft: DraftView | None) -> dict[str, int]:
    return {str(line.product_id): line.quantity for line in draft.lines} if draft else {}


def score_case(
    case: Mapping[str, Any],
    turns: Sequence[TurnLike],
    *,
    product_names: Mapping[int, str] | None = None,
    placed_orders: Mapping[int, str] | None = None,
) -> CaseResult:
    """Score one case's conversation against its `expect` block.

    `placed_orders` are the orders the conversation placed, by id, with their status after
    the last turn (`confirmed` / `cancelled`), as the runner read them from the store.
    """
    result = CaseResult(str(case["id"]), str(case["category"]))
    expect: Mapping[str, Any] = case["expect"]
    if len(turns) != len(case["turns"]):
        result.check("turns", False, f"{len(turns)} of {len(case['turns'])} turns ran")
    for number, turn in enumerate(turns, start=1):
        error = getattr(turn, "error", None)
        result.check("errors", not error, f"turn {number}: {error}")
    draft = final_draft(turns)
    replies = normalize(" \n ".join(turn.reply for turn in turns))
    if case["category"] in ORDERLESS:
        _check_orderless(result, draft, no_customer=case["category"] in NO_CUSTOMER)
    else:
        _check_customer(result, expect, draft)
        _check_lines(result, expect, draft)
        _check_header(result, expect, draft)
    _check_confirmed(result, expect, turns)
    _check_phrases(result, expect, replies, draft)
    _check_order_id(result, expect, replies)
    _check_product_named(
        result, expect, replies, product_names, str(case.get("catalog", "northwind"))
    )
    _check_prices(result, expect, draft)
    last = turns[-1] if turns else None
    _check_attention(result, expect, last)
    _check_reply_mentions(result, expect, normalize(last.reply if last else ""))
    _check_order_cancelled(result, expect, placed_orders)
    _judge_silence(result, last)
    return result


def flagged(turn: TurnLike | None) -> bool:
    """The turn flagged something for the user (older turns have no such fields)."""
    if turn is None:
        return False
    attention = getattr(turn, "attention", None) or ()
    return bool(attention) or bool(getattr(turn, "needs_attention", False))


def _judge_silence(result: CaseResult, last: TurnLike | None) -> None:
    """A loss nobody was told about: a loss check failed and the last turn raised nothing."""
    result.raised = flagged(last) or bool(last is not None and getattr(last, "error", None))
    lost = any(not result.checks.get(name, True) for name in LOSS_CHECKS)
    result.silent_loss = lost and not result.raised


def _check_orderless(result: CaseResult, draft: DraftView | None, *, no_customer: bool) -> None:
    if no_customer:
        customer = draft.customer_id if draft else None
        result.check("customer", customer is None, f"expected no customer, got {customer}")
    lines = draft_lines(draft)
    result.check("lines", not lines, f"expected no lines, got {lines}")


def _check_customer(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    if "customer_id" not in expect:
        return
    if draft is None and not expect.get("lines"):
        # Nothing could be placed (one ambiguous item, say), so there is no draft to hold
        # the customer; the case's asks_about / attention checks judge the turn.
        return
    got = draft.customer_id if draft else None
    result.check("customer", got == expect["customer_id"], f"{got} != {expect['customer_id']}")


def _check_lines(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    if "lines" not in expect:
        return
    wanted = {str(pid): int(qty) for pid, qty in expect["lines"].items()}
    got = draft_lines(draft)
    result.check("lines", got == wanted, _line_diff(wanted, got))


def _check_header(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    """`expect.header`: each field named is the draft's (null: the draft has none). The
    requested date is compared as an ISO date, the PO exactly, ship-to and notes with case,
    accents and punctuation ignored. Read with getattr: a draft without the fields has none."""
    for name, wanted in (expect.get("header") or {}).items():
        got = getattr(draft, name, None) if draft is not None else None
        shown = got.isoformat() if hasattr(got, "isoformat") else got
        if wanted is None:
            ok = shown in (None, "")
        elif name in ("ship_to", "notes"):
            ok = shown is not None and normalize(str(shown)) == normalize(str(wanted))
        else:
            ok = shown is not None and str(shown).strip() == str(wanted)
        result.check("header", ok, f"{name} {shown!r} != {wanted!r}")


def _line_diff(wanted: Mapping[str, int], got: Mapping[str, int]) -> str:
    parts = [f"missing {pid}x{qty}" for pid, qty in wanted.items() if pid not in got]
    parts += [f"extra {pid}x{qty}" for pid, qty in got.items() if pid not in wanted]
    parts += [
        f"{pid}: {got[pid]} != {qty}"
        for pid, qty in wanted.items()
        if pid in got and got[pid] != qty
    ]
    return ", ".join(parts)


def _check_confirmed(
    result: CaseResult, expect: Mapping[str, Any], turns: Sequence[TurnLike]
) -> None:
    wanted = bool(expect.get("confirmed", False))
    orders = [turn.order_id for turn in turns if turn.order_id is not None]
    reason = "no order was placed" if wanted else f"placed order(s) {orders} unasked"
    result.check("confirmed", bool(orders) == wanted, reason)


def _check_phrases(
    result: CaseResult, expect: Mapping[str, Any], replies: str, draft: DraftView | None
) -> None:
    """Unknown / ambiguous phrases: raised in the reply, and no line drafted for them."""
    expected = {str(pid) for pid in expect.get("lines", {})}
    guessed = [
        line for line in (draft.lines if draft else []) if str(line.product_id) not in expected
    ]
    for key in ("no_lines_for", "asks_about"):
        for phrase in expect.get(key, []):
            result.check(key, normalize(phrase) in replies, f"reply does not mention {phrase!r}")
            drafted = [
                line.product_name
                for line in guessed
                if normalize(phrase) in normalize(line.product_name)
            ]
            result.check(key, not drafted, f"drafted {drafted} for {phrase!r}")


def _check_order_id(result: CaseResult, expect: Mapping[str, Any], replies: str) -> None:
    if "order_id_mentioned" in expect:
        order_id = expect["order_id_mentioned"]
        result.check("order_id_mentioned", f" {order_id} " in replies, f"{order_id} not in reply")


def _check_product_named(
    result: CaseResult,
    expect: Mapping[str, Any],
    replies: str,
    product_names: Mapping[int, str] | None,
    catalog: str,
) -> None:
    if "mentions_product_id" not in expect:
        return
    product_id = int(expect["mentions_product_id"])
    names = product_names or catalog_product_names(catalog)
    name = names.get(product_id, f"product {product_id}")
    result.check("mentions_product", normalize(name) in replies, f"{name!r} not in reply")


def _check_prices(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    lines = {str(line.product_id): line for line in draft.lines} if draft else {}
    for pid, price in expect.get("prices", {}).items():
        line = lines.get(str(pid))
        if line is None:
            result.check("prices", False, f"no line for {pid}")
            continue
        catalog = Decimal(str(price))
        fair = abs(line.unit_price - catalog) <= PRICE_TOLERANCE
        undiscounted = abs(line.line_total - line.unit_price * line.quantity) <= PRICE_TOLERANCE
        result.check("prices", fair, f"{pid} at {line.unit_price}, catalog {catalog}")
        result.check("prices", undiscounted, f"{pid} total {line.line_total} is discounted")


def _check_attention(result: CaseResult, expect: Mapping[str, Any], last: TurnLike | None) -> None:
    if "attention" not in expect:
        return
    wanted, got = bool(expect["attention"]), flagged(last)
    reason = "the last turn flagged nothing" if wanted else "the last turn flagged something"
    if got and not wanted and last is not None:
        reason += f": {list(getattr(last, 'attention', None) or ())}"
    result.check("attention", got == wanted, reason)


def _check_reply_mentions(result: CaseResult, expect: Mapping[str, Any], reply: str) -> None:
    """`reply_mentions`: every phrase in the last reply; `reply_mentions_any`: one of them."""
    for phrase in expect.get("reply_mentions", []):
        result.check("reply_mentions", normalize(phrase) in reply, f"no {phrase!r} in reply")
    options = expect.get("reply_mentions_any", [])
    if options:
        found = any(normalize(phrase) in reply for phrase in options)
        result.check("reply_mentions", found, f"none of {options} in reply")


def _check_order_cancelled(
    result: CaseResult, expect: Mapping[str, Any], placed_orders: Mapping[int, str] | None
) -> None:
    if not expect.get("order_cancelled"):
        return
    if not placed_orders:
        result.check("order_cancelled", False, "no order was placed in the conversation")
        return
    kept = [oid for oid, status in placed_orders.items() if str(status) != "cancelled"]
    result.check("order_cancelled", not kept, f"order(s) {kept} still confirmed")


@lru_cache(maxsize=2)
def catalog_product_names(catalog: str = "northwind") -> dict[int, str]:
    """Product names by id for `catalog`, from the CSV the store is seeded from."""
    from evals.check_dataset import Catalog

    return {pid: row["product_name"] for pid, row in Catalog.load_named(catalog).products.items()}
