"""Chat page: type an order, watch the reply come, see and edit the draft, confirm it.

Everything here renders; the desk does the work - turns (streamed: the reply as the
model writes it, each tool step as it is done, in plain words), table edits, Confirm and
Cancel. The conversation lives in the URL (`?c=<thread id>`; in demo mode `k=` is this
browser's key, its owner id) and in the desk's checkpointer, so a reload or another
replica shows the same conversation. The sidebar lists the user's recent conversations
and open drafts. The draft's table is the draft: full height, flagged lines highlighted,
whole-number quantity edits applied (or refused, and the cell reverted) by a callback,
so a page nobody touches never reruns.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pandas as pd
import streamlit as st

from agents.confirmation import why_not_confirmable
from agents.desk import ReplyText, StepDone, Turn, TurnDone
from orders.schemas import DraftView
from ui.common import acting_user, desk_or_stop, owner_id, services_or_stop, sidebar
from ui.documents import download_buttons
from ui.format import MONEY_COLUMN, clock, money
from ui.header import header_caption, header_editor
from ui.steps import describe

THREAD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
BADGES = {"ok": "✅ ok", "short_stock": "⚠️ short stock", "discontinued": "⛔ discontinued"}
FLAGGED = "background-color: rgba(255, 193, 7, 0.25)"
ROW_PX, HEADER_PX = 35, 38


# --- who and which conversation ---------------------------------------------------------


def new_thread_id() -> str:
    return f"ui-{uuid.uuid4().hex[:12]}"


def current_thread(desk: Any) -> str:
    """The conversation in the URL when it is this user's; else a new one (and why)."""
    wanted = st.query_params.get("c")
    if wanted and wanted == st.session_state.get("claimed"):
        return wanted
    if wanted and THREAD.match(wanted) and desk.claim(wanted, owner_id()):
        st.session_state.claimed = wanted
        return wanted
    if wanted:
        st.session_state.notice = (
            "That conversation link is not one of yours, so a new conversation was started."
        )
    thread_id = new_thread_id()
    while not desk.claim(thread_id, owner_id()):
        thread_id = new_thread_id()
    st.session_state.claimed = thread_id
    st.query_params["c"] = thread_id
    return thread_id


def open_conversation(thread_id: str | None) -> None:
    """Switch to `thread_id` (None: a new conversation); its history is read afresh."""
    if thread_id is None:
        st.query_params.pop("c", None)
    else:
        st.query_params["c"] = thread_id
    for key in ("claimed", "shown_thread", "messages"):
        st.session_state.pop(key, None)


def discard(thread_id: str) -> None:
    turn = desk_or_stop().reject(thread_id, user=acting_user())
    st.session_state.flash = turn.reply
    if thread_id == st.session_state.get("shown_thread"):
        st.session_state.messages.append(assistant(turn.reply))


# --- the conversation -------------------------------------------------------------------


def assistant(reply: str, steps: list[Any] | None = None) -> dict[str, Any]:
    return {"role": "assistant", "content": reply, "steps": list(steps or [])}


def load_history(desk: Any, thread_id: str) -> None:
    """The thread's messages from the checkpointer: after a reload, a switch, or a run
    that was cut short while a turn was in flight (the turn itself finished)."""
    stale = st.session_state.pop("in_flight", False)
    if st.session_state.get("shown_thread") == thread_id and not stale:
        return
    st.session_state.messages = [
        {"role": said.role, "content": said.text, "steps": said.steps}
        for said in desk.transcript(thread_id)
    ]
    st.session_state.shown_thread = thread_id


def as_markdown(text: str) -> str:
    """Replies are plain lines: keep each on its own line, and end a list before prose."""
    lines = text.split("\n")
    out = [lines[0]]
    for before, line in zip(lines, lines[1:], strict=False):
        ends_list = before.startswith("- ") and not line.startswith("- ")
        out.append(("\n\n" if ends_list else "  \n") + line)
    return "".join(out)


def steps_label(steps: list[Any]) -> str:
    searched = sum(1 for step in steps if step.name == "search_catalog")
    label = f"{len(steps)} step{'' if len(steps) == 1 else 's'}"
    return label + (
        f" · {searched} catalog look-up{'' if searched == 1 else 's'}" if searched else ""
    )


def step_lines(box: Any, steps: list[Any]) -> None:
    for step in steps:
        box.markdown(f"- {describe(step)}")
        if st.session_state.get("raw_steps"):
            box.json({"tool": step.name, "args": step.args, "result": step.result}, expanded=False)


def show_history() -> None:
    for message in st.session_state.messages:
        with st.chat_message(message["role"]):
            steps = message.get("steps") or []
            if steps:
                with st.status(steps_label(steps), state="complete", expanded=False) as box:
                    step_lines(box, steps)
            if message["content"]:
                st.markdown(as_markdown(message["content"]))


def run_turn(desk: Any, thread_id: str, prompt: str) -> Turn:
    """One streamed turn: the steps live in a status box, the reply as it is written."""
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        steps_area, reply_area = st.container(), st.empty()
        box, text, turn = None, "", None
        st.session_state.in_flight = True
        for event in desk.chat_stream(thread_id, prompt, user=acting_user()):
            if isinstance(event, ReplyText):
                text += event.text
                reply_area.markdown(as_markdown(text))
            elif isinstance(event, StepDone):
                if box is None:
                    box = steps_area.status("Working on it…", expanded=False)
                box.update(label=describe(event.step))
                step_lines(box, [event.step])
            elif isinstance(event, TurnDone):
                turn = event.turn
        st.session_state.in_flight = False
        assert turn is not None
        reply_area.markdown(as_markdown(turn.reply))  # the desk's words may replace the model's
        if box is not None:
            box.update(label=steps_label(turn.steps), state="complete")
    st.session_state.messages.append(assistant(turn.reply, turn.steps))
    remember_customer(turn)
    return turn


def remember_customer(turn: Turn) -> None:
    customer_id = turn.customer_id or (turn.draft.customer_id if turn.draft else None)
    if customer_id:
        name = turn.draft.customer_name if turn.draft and turn.draft.customer_name else None
        name = name or services_or_stop().orders.customer_name(customer_id) or ""
        st.session_state.customer = (customer_id, name)
        st.session_state.memories = [memory.text for memory in turn.memories]


def submit(text: str | None = None) -> None:
    """The chat input's (or an example pill's) message, taken as it is submitted."""
    prompt = text if text is not None else st.session_state.get("chat_text")
    if prompt and prompt.strip():
        st.session_state.pending_prompt = prompt


def submit_example() -> None:
    submit(st.session_state.get("example"))
    st.session_state.example = None


# --- the draft --------------------------------------------------------------------------


def draft_rows(draft: DraftView, instead: dict[int, Any] | None = None) -> pd.DataFrame:
    """The table's rows; a flagged line's `in stock instead` names its alternatives."""
    instead = instead or {}
    return pd.DataFrame(
        [
            {
                "product_id": line.product_id,
                "product": line.product_name,
                "pack": line.quantity_per_unit or "",
                "quantity": str(line.quantity),
                "unit price": float(line.unit_price),
                "line total": float(line.line_total),
                "status": BADGES[line.status.value] + short_note(line),
                "in stock instead": ", ".join(
                    option.name for option in getattr(instead.get(line.product_id), "options", [])
                ),
            }
            for line in draft.lines
        ]
    )


def short_note(line: Any) -> str:
    """ " (5 available; 30 held by other drafts until 17:45)" for a short line, else ""."""
    if line.status.value != "short_stock":
        return ""
    held = (
        f"; {line.held_by_others} held by other drafts until {clock(line.held_until)}"
        if line.held_by_others and line.held_until
        else ""
    )
    return f" ({line.available} available{held})"


def highlight(row: pd.Series) -> list[str]:
    return [FLAGGED if not row["status"].startswith("✅") else ""] * len(row)


def edit_quantities(thread_id: str, key: str, product_ids: list[int]) -> None:
    """The table's edits (a callback: it runs before the rerun it causes, and only then).
    All or none; a refusal is shown and every cell shows the draft as stored again."""
    edited = st.session_state.get(key, {}).get("edited_rows", {})
    changes: dict[int, object] = {}
    for row, cells in edited.items():
        if "quantity" in cells:
            value = cells["quantity"]
            value = "" if value is None else str(value).strip()
            changes[product_ids[int(row)]] = int(value) if value.isdecimal() else value
    if changes:
        turn = desk_or_stop().set_quantities(thread_id, changes, user=acting_user())
        if turn.error:
            st.session_state.table_error = (
                f"Not changed: {turn.reply} Quantities are whole numbers of units; 0 removes"
                " the line."
            )
    st.session_state.editor_version = st.session_state.get("editor_version", 0) + 1


def draft_table(thread_id: str, draft: DraftView) -> None:
    who = draft.customer_name or "a customer not named yet"
    st.subheader(f"Draft for {who}")
    header_editor(desk_or_stop(), thread_id, draft)
    if not draft.lines:
        st.caption("No lines yet.")
        return
    flagged = len(draft.problems)
    st.caption(
        f"{len(draft.lines)} line{'' if len(draft.lines) == 1 else 's'}"
        + (f" · {flagged} flagged" if flagged else "")
        + (
            f" · stock held for this draft until {clock(draft.hold_until)}"
            if draft.hold_until
            else ""
        )
        + " · edit a quantity in the table (0 removes the line)"
    )
    instead = desk_or_stop().alternatives(draft) if flagged else {}
    rows = draft_rows(draft, instead)
    if not any(rows["in stock instead"]):
        rows = rows.drop(columns="in stock instead")
    key = f"draft-{draft.draft_id}-{st.session_state.get('editor_version', 0)}"
    st.data_editor(
        rows.style.apply(highlight, axis=1),
        key=key,
        hide_index=True,
        height=HEADER_PX + ROW_PX * len(rows),  # full height: no line scrolls out of sight
        disabled=[
            "product_id",
            "product",
            "pack",
            "unit price",
            "line total",
            "status",
            "in stock instead",
        ],
        column_config={
            "product_id": None,
            "quantity": st.column_config.TextColumn(
                help="Whole units; 0 removes the line", alignment="right"
            ),
            "unit price": st.column_config.NumberColumn(format=MONEY_COLUMN),
            "line total": st.column_config.NumberColumn(format=MONEY_COLUMN),
        },
        on_change=edit_quantities,
        args=(thread_id, key, [line.product_id for line in draft.lines]),
    )
    st.markdown(f"**Total: {money(draft.total)}**")
    ways_forward(thread_id, draft, instead)


def ways_forward(thread_id: str, draft: DraftView, instead: dict[int, Any]) -> None:
    """Under the table, per flagged line, a button per in-stock alternative (a click
    swaps it in, same quantity and place) and, for a short line, one that ships what is
    available; each goes through the desk, under the thread's lock."""
    for line in draft.problems:
        options = getattr(instead.get(line.product_id), "options", [])
        ship = line.status.value == "short_stock" and line.available > 0
        if not options and not ship:
            continue
        why = (
            "is discontinued"
            if line.status.value == "discontinued"
            else f"has {line.available} available of {line.quantity}"
        )
        st.caption(f"⚠️ {line.product_name} {why}:")
        columns = st.columns(len(options) + ship)
        for column, option in zip(columns, options, strict=False):
            pack = f" · {option.quantity_per_unit}" if option.quantity_per_unit else ""
            column.button(
                f"Swap to {option.name}",
                key=f"swap-{draft.draft_id}-{line.product_id}-{option.product_id}",
                help=f"#{option.product_id}{pack} · {money(option.unit_price)} · "
                f"{option.available} available",
                on_click=swap_line,
                args=(thread_id, line.product_id, option.product_id),
            )
        if ship:
            columns[-1].button(
                f"Ship {line.available} available",
                key=f"ship-{draft.draft_id}-{line.product_id}",
                help=f"Cut {line.product_name} from {line.quantity} to {line.available}",
                on_click=ship_available,
                args=(thread_id, line.product_id),
            )


def swap_line(thread_id: str, from_product_id: int, to_product_id: int) -> None:
    turn = desk_or_stop().swap_line(thread_id, from_product_id, to_product_id, user=acting_user())
    after_change(turn)


def ship_available(thread_id: str, product_id: int) -> None:
    turn = desk_or_stop().ship_available(thread_id, product_id, user=acting_user())
    after_change(turn)


def after_change(turn: Turn) -> None:
    """A button's change: said in a toast, or refused and shown; the table redrawn."""
    if turn.error:
        st.session_state.table_error = f"Not changed: {turn.reply}"
    elif turn.reply:
        st.session_state.flash = turn.reply
    st.session_state.editor_version = st.session_state.get("editor_version", 0) + 1


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


def confirm(thread_id: str) -> None:
    turn = desk_or_stop().approve(thread_id, user=acting_user())
    st.session_state.messages.append(assistant(turn.reply, turn.steps))
    remember_customer(turn)


def cancel(thread_id: str) -> None:
    turn = desk_or_stop().reject(thread_id, user=acting_user())
    st.session_state.messages.append(assistant(turn.reply, turn.steps))


def buttons(thread_id: str, draft: DraftView) -> None:
    reason = why_not_confirmable(draft)
    left, middle, right = st.columns([1, 1, 4], vertical_alignment="center")
    left.button(
        "Confirm",
        type="primary",
        disabled=reason is not None,
        help=f"Cannot confirm yet: {reason}" if reason else None,
        on_click=confirm,
        args=(thread_id,),
    )
    middle.button("Cancel", on_click=cancel, args=(thread_id,), help="Discard this draft")
    if reason:
        right.warning(f"Cannot confirm yet: {reason}", icon="⛔")


def order_card(desk: Any, thread_id: str) -> None:
    order = desk.last_order(thread_id)
    if order is None:
        return
    if order.status == "confirmed":
        st.success(
            f"Order **{order.order_id}** confirmed for {order.customer_name}: "
            f"{len(order.lines)} line{'' if len(order.lines) == 1 else 's'}, "
            f"total {money(order.total)}."
        )
    else:
        st.info(f"Order {order.order_id} for {order.customer_name} is {order.status}.")
    if caption := header_caption(order):
        st.caption(caption)
    download_buttons(order.order_id, key_prefix="chat")


# --- a first page that starts work ------------------------------------------------------


def examples() -> list[str]:
    """Three messages to try, made from this store's own customers and stocked products."""
    if "examples" not in st.session_state:
        book = services_or_stop().orders
        customers = [customer.name for customer in book.customers()]
        stocked = [p.name for p in book.products(in_stock_only=True) if p.available >= 20]
        made: list[str] = []
        if customers and len(stocked) >= 3:
            step = max(1, len(stocked) // 4)
            first, second, third = stocked[0], stocked[step], stocked[2 * step % len(stocked)]
            made = [
                f"{customers[0]} wants 12 {first} and 5 {second}",
                f"{customers[len(customers) // 2]}: 3 {third}, please",
                f"What did {customers[-1]} order last time?",
            ]
        st.session_state.examples = made
    return st.session_state.examples


def first_page(desk: Any, thread_id: str) -> None:
    """An empty conversation: examples to try, today's orders, the open drafts."""
    tries = examples()
    if tries:
        st.pills(
            "Try an example",
            tries,
            key="example",
            on_change=submit_example,
            help="Sends the message, as if you had typed it",
        )
    left, right = st.columns(2)
    with left:
        st.markdown("**Today's orders**")
        today = services_or_stop().orders.todays_orders()
        if not today:
            st.caption("No orders yet today.")
        for order in today[:8]:
            st.caption(
                f"#{order.order_id} · {order.customer_name} · {money(order.total)} · {order.status}"
            )
    with right:
        st.markdown("**Open drafts**")
        drafts = [c for c in desk.conversations(owner_id()) if c.draft and c.thread_id != thread_id]
        if not drafts:
            st.caption("No open drafts.")
        for conversation in drafts[:8]:
            draft = conversation.draft
            st.button(
                f"{draft.customer_name or 'No customer yet'} · {len(draft.lines)} lines · "
                f"{money(draft.total)}",
                key=f"resume-{conversation.thread_id}",
                on_click=open_conversation,
                args=(conversation.thread_id,),
                help=conversation.title,
            )


# --- the sidebar ------------------------------------------------------------------------


def conversations_sidebar(desk: Any, thread_id: str) -> None:
    with st.sidebar:
        st.button("➕ New conversation", on_click=open_conversation, args=(None,), width="stretch")
        listed = [c for c in desk.conversations(owner_id()) if c.title != c.thread_id or c.draft]
        if listed:
            st.markdown("**Recent conversations**")
        for conversation in listed:
            here = conversation.thread_id == thread_id
            draft = conversation.draft
            label = ("▶ " if here else "") + conversation.title
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.button(
                label,
                key=f"open-{conversation.thread_id}",
                on_click=open_conversation,
                args=(conversation.thread_id,),
                disabled=here,
                width="stretch",
                help=f"Open draft: {draft.customer_name or 'no customer'}, {len(draft.lines)} "
                f"lines, {money(draft.total)}"
                if draft
                else "No open draft",
            )
            if draft:
                right.button(
                    "🗑",
                    key=f"discard-{conversation.thread_id}",
                    on_click=discard,
                    args=(conversation.thread_id,),
                    help="Discard this conversation's open draft",
                )
        st.toggle("Show raw tool calls", key="raw_steps", help="For developers")


# --- the page ---------------------------------------------------------------------------


def page() -> None:
    desk = desk_or_stop()
    st.session_state.setdefault("customer", None)
    st.session_state.setdefault("memories", [])
    thread_id = current_thread(desk)
    load_history(desk, thread_id)
    st.title("Order desk")
    if notice := st.session_state.pop("notice", None):
        st.info(notice)
    if flash := st.session_state.pop("flash", None):
        st.toast(flash)
    prompt = st.session_state.pop("pending_prompt", None)
    if not st.session_state.messages and not prompt:
        first_page(desk, thread_id)
    show_history()
    if prompt:
        run_turn(desk, thread_id, prompt)
    if error := st.session_state.pop("table_error", None):
        st.error(error)
    draft = desk.current_draft(thread_id)
    if draft is not None and (draft.lines or draft.needs_attention):
        draft_table(thread_id, draft)
        open_items(draft)
        buttons(thread_id, draft)
    else:
        order_card(desk, thread_id)
    st.chat_input(
        "Type an order, or paste the customer's e-mail",
        key="chat_text",
        on_submit=submit,
    )
    conversations_sidebar(desk, thread_id)
    sidebar(st.session_state.customer, st.session_state.memories)


page()
