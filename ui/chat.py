"""Chat page: type an order, see the draft, edit it, confirm it.

Everything here renders: the turn is taken by `OrderDesk`, quantity edits in the table
go to `orders.drafts`. Per-browser state (thread id, messages, the last order card) lives
in `st.session_state`; input is disabled while a turn runs so a second submit cannot
interrupt it. Confirm is disabled, with the reason beside it, while the draft cannot be
confirmed - above all while it needs attention, whose open items are listed above it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from agents.confirmation import why_not_confirmable
from agents.desk import Turn
from agents.ownership import claim_thread
from db.models import Customer
from orders.drafts import remove_line, set_line
from orders.errors import OrderError
from orders.schemas import DraftView
from ui.common import desk_or_stop, money, services_or_stop, sidebar, signed_in_user

BADGES = {"ok": "✅ ok", "short_stock": "⚠️ short stock", "discontinued": "⛔ discontinued"}


def init_state() -> None:
    defaults: dict[str, Any] = {
        "owner": f"ui:{uuid.uuid4().hex}",  # this browser session, as a thread owner
        "thread_id": new_thread_id(),
        "messages": [],
        "busy": False,
        "last_order": None,
        "customer": None,
        "memories": [],
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def new_thread_id() -> str:
    return f"ui-{uuid.uuid4().hex[:12]}"


def own_thread(desk: Any) -> str:
    """This session's thread id, claimed for this browser session (another if it is taken)."""
    while st.session_state.get("claimed") != st.session_state.thread_id:
        if claim_thread(desk.engine, st.session_state.thread_id, st.session_state.owner):
            st.session_state.claimed = st.session_state.thread_id
        else:
            st.session_state.thread_id = new_thread_id()
    return st.session_state.thread_id


def new_conversation() -> None:
    for key in ("thread_id", "messages", "last_order", "customer", "memories"):
        st.session_state.pop(key, None)


def start_turn() -> None:
    # A disabled chat input returns nothing, so the text is taken here, as it is submitted.
    st.session_state.pending_prompt = st.session_state.chat_text
    st.session_state.busy = True


def remember_turn(prompt: str | None, turn: Turn) -> None:
    if prompt is not None:
        st.session_state.messages.append({"role": "user", "content": prompt})
    st.session_state.messages.append(
        {"role": "assistant", "content": turn.reply, "steps": turn.steps, "fresh": True}
    )
    if turn.order_id is not None:
        st.session_state.last_order = {
            "order_id": turn.order_id,
            "customer": turn.draft.customer_name if turn.draft else "",
            "total": turn.draft.total if turn.draft else None,
        }
    customer_id = turn.customer_id or (turn.draft.customer_id if turn.draft else None)
    if customer_id:
        st.session_state.customer = (customer_id, customer_name(customer_id))
        st.session_state.memories = [memory.text for memory in turn.memories]


def customer_name(customer_id: str) -> str:
    with Session(services_or_stop().engine) as session:
        customer = session.get(Customer, customer_id)
    return customer.company_name if customer else ""


def as_markdown(text: str) -> str:
    """Replies are plain lines: keep each on its own line, and end a list before prose."""
    lines = text.split("\n")
    out = [lines[0]]
    for before, line in zip(lines, lines[1:], strict=False):
        ends_list = before.startswith("- ") and not line.startswith("- ")
        out.append(("\n\n" if ends_list else "  \n") + line)
    return "".join(out)


def words(text: str) -> Iterator[str]:
    for word in as_markdown(text).split(" "):
        yield word + " "


def show_steps(steps: list[Any]) -> None:
    if not steps:
        return
    searched = sum(1 for step in steps if step.name == "search_catalog")
    label = f"{len(steps)} step(s)" + (f", {searched} catalog search(es)" if searched else "")
    with st.status(label, state="complete", expanded=False):
        for step in steps:
            st.markdown(f"**{step.name}** `{step.args}`")
            st.caption(summarise(step.name, step.result))


def summarise(name: str, result: Any) -> str:
    if not isinstance(result, dict):
        return str(result)[:200]
    if "error" in result:
        return f"refused: {result['error']}"
    if name == "search_catalog":
        found = ", ".join(f"{c['name']} ({c['score']:.2f})" for c in result["candidates"][:3])
        flags = [flag for flag in ("ambiguous", "no_match", "degraded") if result.get(flag)]
        return f"found {found or 'nothing'}" + (f" — {', '.join(flags)}" if flags else "")
    if name == "find_customer":
        match = result.get("match")
        return f"customer {match['company_name']} ({match['customer_id']})" if match else "no match"
    if "draft" in result:
        draft = result["draft"]
        items = len(draft.get("open_items") or [])
        open_items = f", {items} open item(s)" if items else ""
        return f"draft: {len(draft['lines'])} line(s), total {draft['total']}{open_items}"
    if "order" in result:
        return f"order {result['order']['order_id']} ({result['order']['status']})"
    return str(result)[:200]


def history() -> None:
    for message in st.session_state.messages:
        with st.chat_message(message["role"]):
            if message.get("fresh"):
                st.write_stream(words(message["content"]))
                message["fresh"] = False
            else:
                st.markdown(as_markdown(message["content"]))
            show_steps(message.get("steps") or [])


def draft_table(draft: DraftView) -> None:
    st.subheader(f"Draft for {draft.customer_name or 'a customer not named yet'}")
    if not draft.lines:
        return
    rows = [
        {
            "product_id": line.product_id,
            "product": line.product_name,
            "quantity": line.quantity,
            "unit price": float(line.unit_price),
            "line total": float(line.line_total),
            "status": BADGES[line.status.value]
            + (f" ({line.available} left)" if line.status.value == "short_stock" else ""),
        }
        for line in draft.lines
    ]
    edited = st.data_editor(
        rows,
        key=f"draft-{draft.draft_id}-{sum(line.quantity for line in draft.lines)}",
        hide_index=True,
        disabled=["product_id", "product", "unit price", "line total", "status"],
        column_config={
            "product_id": None,
            "quantity": st.column_config.NumberColumn(min_value=0, step=1, format="%d"),
            "unit price": st.column_config.NumberColumn(format="$%.2f"),
            "line total": st.column_config.NumberColumn(format="$%.2f"),
        },
    )
    changes = {
        row["product_id"]: int(row["quantity"] or 0)
        for row, before in zip(edited, rows, strict=False)
        if int(row["quantity"] or 0) != before["quantity"]
    }
    if changes:
        apply_quantities(draft.draft_id, changes)
        st.rerun()
    st.markdown(f"**Total: {money(draft.total)}**")


def apply_quantities(draft_id: int, changes: dict[int, int]) -> None:
    """Quantities edited in the table; 0 removes the line. Refusals are shown, not raised."""
    with Session(services_or_stop().engine) as session:
        try:
            for product_id, quantity in changes.items():
                if quantity <= 0:
                    remove_line(session=session, draft_id=draft_id, product_id=product_id)
                else:
                    set_line(
                        session=session, draft_id=draft_id, product_id=product_id, quantity=quantity
                    )
            session.commit()
        except OrderError as error:
            session.rollback()
            st.session_state.table_error = str(error)


def open_items(draft: DraftView) -> None:
    """What the draft could not place, each with its question: answer them in the chat."""
    if not draft.needs_attention:
        return
    listed = "\n".join(
        f"- {item.question}"
        + (f" (“{item.phrase}”)" if item.phrase and item.phrase not in item.question else "")
        for item in draft.open_items
    )
    st.warning(f"**Needs attention before this order can be confirmed:**\n{listed}", icon="⚠️")


def buttons(thread_id: str, draft: DraftView) -> None:
    reason = why_not_confirmable(draft)
    left, middle, right = st.columns([1, 1, 4])
    confirm = left.button(
        "Confirm",
        type="primary",
        disabled=reason is not None or st.session_state.busy,
        help=f"Cannot confirm yet: {reason}" if reason else None,
    )
    cancel = middle.button("Cancel", disabled=st.session_state.busy)
    if reason:
        right.caption(f"Cannot confirm yet: {reason}")
    if confirm:
        remember_turn(None, desk_or_stop().approve(thread_id, user=signed_in_user()))
        st.rerun()
    if cancel:
        remember_turn(None, desk_or_stop().reject(thread_id, user=signed_in_user()))
        st.rerun()


def order_card() -> None:
    order = st.session_state.last_order
    if order:
        total = f", total {money(order['total'])}" if order["total"] is not None else ""
        st.success(f"Order **{order['order_id']}** confirmed for {order['customer']}{total}.")


def page() -> None:
    init_state()
    thread_id = own_thread(desk_or_stop())
    st.title("Order desk")
    st.button("New conversation", on_click=new_conversation)
    history()
    st.chat_input(
        "Type an order, e.g. “Alfreds wants 12 Queso Cabrales and 5 tofu”",
        key="chat_text",
        disabled=st.session_state.busy,
        on_submit=start_turn,
    )
    prompt = st.session_state.pop("pending_prompt", None)
    if prompt:
        with st.chat_message("user"):
            st.markdown(prompt)
        with st.spinner("Working on it…"):
            turn = desk_or_stop().chat(thread_id, prompt, user=signed_in_user())
        remember_turn(prompt, turn)
        st.session_state.busy = False
        st.rerun()
    st.session_state.busy = False
    if error := st.session_state.pop("table_error", None):
        st.error(error)
    draft = desk_or_stop().current_draft(thread_id)
    if draft is not None and (draft.lines or draft.needs_attention):
        draft_table(draft)
        open_items(draft)
        buttons(thread_id, draft)
    order_card()
    sidebar(st.session_state.customer, st.session_state.memories)


page()
