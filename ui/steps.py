"""A turn's tool calls in plain words, for the Chat page's step list.

`describe(step)` turns one `ToolStep` (a tool's name, its arguments and its JSON result)
into a sentence sales staff can read - "Looked up “mozzarella” → Mozzarella di Giovanni" -
never product ids or raw dicts (those are behind the page's developer toggle).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ui.format import money


def describe(step: Any) -> str:
    """One sentence for what the step did, or why it was refused."""
    name, args, result = step.name, step.args or {}, step.result
    if result is None:
        return WAITING.get(name, f"Asked to run {name.replace('_', ' ')}")
    if isinstance(result, dict) and "error" in result:
        return (
            f"{TITLES.get(name, name.replace('_', ' ').capitalize())}: refused — {result['error']}"
        )
    if not isinstance(result, dict):
        return f"{TITLES.get(name, name.replace('_', ' ').capitalize())}: {str(result)[:160]}"
    describer = DESCRIBERS.get(name)
    return describer(args, result) if describer else TITLES.get(name, name.replace("_", " "))


def _search(args: dict[str, Any], result: dict[str, Any]) -> str:
    query = result.get("query") or args.get("query") or ""
    names = [c["name"] for c in result.get("candidates") or []]
    if not names or result.get("no_match"):
        close = f" (closest: {', '.join(names[:2])})" if names else ""
        return f"Looked up “{query}” → nothing close enough{close}"
    if result.get("ambiguous"):
        return f"Looked up “{query}” → several fit: {', '.join(names[:3])}"
    spelling = " (by spelling only: semantic search is down)" if result.get("degraded") else ""
    return f"Looked up “{query}” → {names[0]}{spelling}"


def _customer(args: dict[str, Any], result: dict[str, Any]) -> str:
    query = result.get("query") or args.get("name_or_code") or ""
    match = result.get("match")
    if match:
        return f"Found the customer “{query}” → {match['company_name']} ({match['customer_id']})"
    names = [c.get("company_name", "") for c in result.get("candidates") or []]
    if result.get("ambiguous") and names:
        return f"Looked for the customer “{query}” → several fit: {', '.join(names[:3])}"
    return f"Looked for the customer “{query}” → no customer fits"


def _draft(verb: str) -> Any:
    def describe_draft(args: dict[str, Any], result: dict[str, Any]) -> str:
        draft = result.get("draft") or {}
        who = draft.get("customer_name") or "a customer not named yet"
        count = len(draft.get("lines") or [])
        lines = f"{count} line{'' if count == 1 else 's'}"
        total = _money(draft.get("total"))
        open_items = len(draft.get("open_items") or [])
        questions = f", {open_items} open question{'' if open_items == 1 else 's'}"
        return f"{verb} the draft for {who}: {lines}, {total}" + (questions if open_items else "")

    return describe_draft


def _order(verb: str) -> Any:
    def describe_order(args: dict[str, Any], result: dict[str, Any]) -> str:
        order = result.get("order") or {}
        return f"{verb} order {order.get('order_id')} for {order.get('customer_name', '')}, " + (
            _money(order.get("total"))
        )

    return describe_order


def _orders(args: dict[str, Any], result: dict[str, Any]) -> str:
    orders = result.get("orders") or []
    plural = "" if len(orders) == 1 else "s"
    return f"Read {len(orders)} recent order{plural} of {args.get('customer_id', '')}"


def _usual(args: dict[str, Any], result: dict[str, Any]) -> str:
    names = [line.get("product_name", "") for line in result.get("usual") or []]
    return f"Read the usual products of {args.get('customer_id', '')}: " + (
        ", ".join(names[:4]) or "none yet"
    )


def _recall(args: dict[str, Any], result: dict[str, Any]) -> str:
    count = len(result.get("memories") or [])
    return f"Recalled {count} memor{'y' if count == 1 else 'ies'} of {args.get('customer_id', '')}"


def _remember(args: dict[str, Any], result: dict[str, Any]) -> str:
    memory = result.get("remembered") or {}
    return f"Remembered for {memory.get('customer_id', '')}: “{memory.get('text', '')}”"


def _money(value: Any) -> str:
    try:
        return f"total {money(Decimal(str(value)))}"
    except (InvalidOperation, TypeError, ValueError):
        return "no total yet"


DESCRIBERS = {
    "search_catalog": _search,
    "find_customer": _customer,
    "draft_order": _draft("Started"),
    "update_draft": _draft("Changed"),
    "discard_draft": lambda args, result: "Discarded the draft",
    "confirm_order": _order("Confirmed"),
    "cancel_order": _order("Cancelled"),
    "order_status": _order("Read"),
    "recent_orders": _orders,
    "usual_products": _usual,
    "recall_customer": _recall,
    "remember": _remember,
}
TITLES = {
    "search_catalog": "Catalog search",
    "find_customer": "Customer search",
    "draft_order": "Drafting",
    "update_draft": "Changing the draft",
    "discard_draft": "Discarding the draft",
    "confirm_order": "Confirming",
    "cancel_order": "Cancelling the order",
    "order_status": "Order look-up",
    "recent_orders": "Recent orders",
    "usual_products": "Usual products",
    "recall_customer": "Memory",
    "remember": "Remembering",
}
WAITING = {"confirm_order": "Waiting for your approval to confirm the order"}
