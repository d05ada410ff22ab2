"""The order header on the pages: a one-line caption, and the draft's header editor.

`header_caption(view)` is the header of a draft or an order in one line ("PO 7781 ·
deliver by 20 Dec 2026 · ship to Lyon, France · note: dock 3"). `header_editor(desk,
thread_id, draft)` is a compact form above the draft's table (PO, delivery date, ship-to,
notes), saved by its submit callback through `OrderDesk.set_header`: only the fields the
user changed are sent, all or none, and a refused value is shown with the desk's reason
while every field shows the draft as stored again. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from typing import Any

import streamlit as st

from config import get_settings
from orders.header import NOTES_MAX, PO_MAX, SHIP_TO_MAX, format_day, utc_today
from orders.schemas import DraftView, OrderView
from ui.common import acting_user

NOTE_CHARS = 80  # of a note, in the one-line caption
FIELDS = {"customer_po": "po", "requested_date": "date", "ship_to": "ship", "notes": "notes"}


def header_caption(view: DraftView | OrderView) -> str:
    """The header in one line of plain text; "" when nothing is set and nowhere to ship."""
    parts = []
    if view.customer_po:
        parts.append(f"PO {view.customer_po}")
    if view.requested_date:
        parts.append(f"deliver by {format_day(view.requested_date)}")
    if view.ship_to_effective:
        parts.append(f"ship to {_one_line(view.ship_to_effective)}")
    if view.notes:
        note = _one_line(view.notes)
        parts.append(f"note: {note[: NOTE_CHARS - 1] + '…' if len(note) > NOTE_CHARS else note}")
    return " · ".join(parts)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def header_editor(desk: Any, thread_id: str, draft: DraftView) -> None:
    """The draft's header as a form in an expander (open while nothing is set or after a
    refusal); Save sends the changed fields to `desk.set_header`."""
    error = st.session_state.pop(_error_key(thread_id), None)
    summary = header_caption(draft) if _has_header(draft) else ""
    label = f"Order header: {summary}" if summary else "Order header: PO, delivery date, ship-to"
    with st.expander(label, expanded=bool(error)):
        if error:
            st.error(error, icon="⛔")
        key = _form_key(thread_id, draft)
        with st.form(key, border=False, enter_to_submit=True):
            left, right = st.columns(2)
            left.text_input(
                "Customer PO number",
                value=draft.customer_po or "",
                max_chars=PO_MAX,
                key=f"{key}-po",
                placeholder="e.g. PO-7781",
            )
            low, high = _date_bounds(draft.requested_date)
            right.date_input(
                "Deliver by",
                value=draft.requested_date,
                min_value=low,
                max_value=high,
                key=f"{key}-date",
                format="YYYY-MM-DD",
                help=f"From today up to {(high - low).days} days ahead",
            )
            st.text_input(
                "Ship to",
                value=draft.ship_to or "",
                max_chars=SHIP_TO_MAX,
                key=f"{key}-ship",
                placeholder=(
                    f"{draft.ship_to_default} (address on file)"
                    if draft.ship_to_default
                    else "Where the order goes"
                ),
                help="Leave empty to ship to the customer's address on file",
            )
            st.text_area(
                "Notes",
                value=draft.notes or "",
                max_chars=NOTES_MAX,
                key=f"{key}-notes",
                height=68,
                placeholder="e.g. use the back door, dock 3",
            )
            st.form_submit_button(
                "Save header", on_click=save_header, args=(desk, thread_id, draft, key)
            )


def save_header(desk: Any, thread_id: str, draft: DraftView, key: str) -> None:
    """The form's submit callback: the changed fields, all or none, through the desk."""
    changed = header_changes(
        draft, {name: st.session_state.get(f"{key}-{suffix}") for name, suffix in FIELDS.items()}
    )
    if changed:
        turn = desk.set_header(thread_id, user=acting_user(), **changed)
        if turn.error:
            st.session_state[_error_key(thread_id)] = f"Not changed: {turn.reply}"
    versions = st.session_state.setdefault("header_versions", {})
    versions[thread_id] = versions.get(thread_id, 0) + 1  # every field shows the store again


def header_changes(draft: DraftView, form: dict[str, Any]) -> dict[str, Any]:
    """The form's fields that differ from the draft as stored ("" and None alike mean
    none), so an untouched field is never sent (nor checked again) with a changed one."""
    changed: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, str):
            value = value.strip() or None
        if value != getattr(draft, name):
            changed[name] = value
    return changed


def _has_header(draft: DraftView) -> bool:
    return any((draft.customer_po, draft.requested_date, draft.ship_to, draft.notes))


def _date_bounds(current: date | None) -> tuple[date, date]:
    """What the calendar offers: today to the limit, widened to the stored date (which may
    have passed since it was set) so the widget can show it."""
    today = utc_today()
    latest = today + timedelta(days=get_settings().max_delivery_days_ahead)
    if current is None:
        return today, latest
    return min(today, current), max(latest, current)


def _form_key(thread_id: str, draft: DraftView) -> str:
    """New after every save and whenever the stored header changed (say, in the chat), so
    the fields always start from the draft as stored."""
    version = st.session_state.get("header_versions", {}).get(thread_id, 0)
    stored = repr((draft.customer_po, draft.requested_date, draft.ship_to, draft.notes))
    digest = hashlib.blake2b(stored.encode(), digest_size=4).hexdigest()
    return f"header-{draft.draft_id}-{version}-{digest}"


def _error_key(thread_id: str) -> str:
    return f"header-error-{thread_id}"
