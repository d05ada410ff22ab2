"""An order's audit trail as a compact table: when, who, and what happened in words
("changed Tofu 20 → 30", "PO set to 7781", "confirmed").

`order_events(book, order_id)` draws it (the Orders page calls it in an order's detail);
`describe`, `who` and `trail_rows` are the words, plain functions a test can read.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import streamlit as st

from orders.audit import EventView
from orders.book import OrderBook
from orders.errors import OrderError
from ui.format import money

FIELD_LABELS = {
    "customer_po": "PO",
    "requested_date": "delivery date",
    "ship_to": "ship-to",
    "notes": "notes",
}


def who(actor: str | None) -> str:
    """An actor in words: an e-mail as it is, a browser session, an API key, the CLI."""
    if not actor:
        return "—"
    if actor.startswith("ui:"):
        return f"browser session {actor}"
    if actor.startswith("key:"):
        return f"API key {actor[4:12]}…"
    if actor == "cli":
        return "command line"
    return actor


def _product(detail: dict[str, Any]) -> str:
    return detail.get("product") or f"product {detail.get('product_id')}"


def _lines(lines: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line.get('quantity')} {_product(line)}" for line in lines)


def _drafted(detail: dict[str, Any]) -> str:
    customer = detail.get("customer") or detail.get("customer_id")
    words = f"drafted for {customer}" if customer else "drafted"
    if detail.get("lines"):
        words += f": {_lines(detail['lines'])}"
    for field, value in (detail.get("header") or {}).items():
        words += f"; {FIELD_LABELS.get(field, field)} {value}"
    return words


def _customer(detail: dict[str, Any]) -> str:
    after = detail.get("after_name") or detail.get("after")
    if detail.get("before") is None:
        return f"customer set to {after}"
    return f"customer {detail.get('before_name') or detail['before']} → {after}"


def _header(detail: dict[str, Any]) -> str:
    label = FIELD_LABELS.get(detail.get("field", ""), detail.get("field", "header"))
    before, after = detail.get("before"), detail.get("after")
    if before is None:
        return f"{label} set to {after}"
    if after is None:
        return f"{label} cleared (was {before})"
    return f"{label} {before} → {after}"


def _confirmed(detail: dict[str, Any]) -> str:
    total = detail.get("total")
    return f"confirmed ({money(Decimal(str(total)))})" if total is not None else "confirmed"


WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "drafted": _drafted,
    "line_added": lambda d: f"added {d.get('quantity')} {_product(d)}",
    "line_changed": lambda d: f"changed {_product(d)} {d.get('before')} → {d.get('after')}",
    "line_removed": lambda d: f"removed {_product(d)} (was {d.get('quantity')})",
    "customer_changed": _customer,
    "header_changed": _header,
    "discarded": lambda _d: "discarded the draft",
    "confirmed": _confirmed,
    "cancelled": lambda _d: "cancelled",
}


def describe(event: EventView) -> str:
    """What the event did, in words."""
    words = WORDS.get(event.kind)
    return words(event.detail) if words else event.kind.replace("_", " ")


def trail_rows(events: list[EventView]) -> list[dict[str, str]]:
    return [
        {
            "when": f"{event.created_at:%Y-%m-%d %H:%M:%S} UTC",
            "who": who(event.actor),
            "what": describe(event),
        }
        for event in events
    ]


def order_events(book: OrderBook, order_id: int) -> None:
    """The order's trail, oldest first, as a table (or a line saying there is none)."""
    try:
        events = book.events(order_id)
    except OrderError as error:
        st.warning(str(error))
        return
    if not events:
        st.caption("No recorded changes: this order was placed before the audit trail.")
        return
    st.dataframe(trail_rows(events), hide_index=True, width="stretch")
