"""Scoring one evaluation case: did the conversation end in the draft the case expects?

`score_case(case, turns)` is pure: it reads the case's `expect` block (see
evals/datasets/README.md) and the turns the desk returned, and checks the customer, the
exact lines, confirmation, that unknown or ambiguous phrases were raised with the user
instead of drafted, order numbers and product names in replies, and that prices are the
catalog's. Each failed check adds a reason a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from orders.schemas import DraftView

PRICE_TOLERANCE = Decimal("0.005")
ORDERLESS = frozenset({"status", "search"})


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

    @classmethod
    def of(cls, turn: Any, latency_ms: float = 0.0) -> TurnRecord:
        return cls(
            reply=str(getattr(turn, "reply", "") or ""),
            draft=getattr(turn, "draft", None),
            order_id=getattr(turn, "order_id", None),
            pending=bool(getattr(turn, "pending", False)),
            error=getattr(turn, "error", None),
            latency_ms=latency_ms,
        )


@dataclass
class CaseResult:
    """The verdict on one case: every check by name, and why it failed."""

    case_id: str
    category: str
    checks: dict[str, bool] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

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
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
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
) -> CaseResult:
    """Score one case's conversation against its `expect` block."""
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
        _check_orderless(result, draft)
    else:
        _check_customer(result, expect, draft)
        _check_lines(result, expect, draft)
    _check_confirmed(result, expect, turns)
    _check_phrases(result, expect, replies, draft)
    _check_order_id(result, expect, replies)
    _check_product_named(result, expect, replies, product_names)
    _check_prices(result, expect, draft)
    return result


def _check_orderless(result: CaseResult, draft: DraftView | None) -> None:
    result.check("customer", draft is None or draft.customer_id is None, "expected no customer")
    lines = draft_lines(draft)
    result.check("lines", not lines, f"expected no lines, got {lines}")


def _check_customer(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    if "customer_id" not in expect:
        return
    got = draft.customer_id if draft else None
    result.check("customer", got == expect["customer_id"], f"{got} != {expect['customer_id']}")


def _check_lines(result: CaseResult, expect: Mapping[str, Any], draft: DraftView | None) -> None:
    if "lines" not in expect:
        return
    wanted = {str(pid): int(qty) for pid, qty in expect["lines"].items()}
    got = draft_lines(draft)
    result.check("lines", got == wanted, _line_diff(wanted, got))


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
) -> None:
    if "mentions_product_id" not in expect:
        return
    product_id = int(expect["mentions_product_id"])
    name = (product_names or catalog_product_names()).get(product_id, f"product {product_id}")
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


@lru_cache(maxsize=1)
def catalog_product_names() -> dict[int, str]:
    """Northwind product names by id, from the CSV the store is seeded from."""
    from evals.check_dataset import Catalog

    return {pid: row["product_name"] for pid, row in Catalog.load().products.items()}
