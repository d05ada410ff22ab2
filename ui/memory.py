"""Memory page (admins): what Order Desk remembers about each customer; add, and delete
with a confirmation and an Undo that puts the memory back as it was (same id, text,
kind, thread and creation time).
"""

from __future__ import annotations

import streamlit as st

from memory.store import KINDS, Memory, MemoryStore
from ui.access import require_admin
from ui.common import services_or_stop, sidebar
from ui.resources import memory_store

ASKED = "memory_delete_asked"  # the memory the delete dialog is about
DELETED = "memory_deleted"  # the last memory deleted, for Undo
TOAST = "memory_toast"  # a message to show as a toast on the next run
WRITABLE_KINDS = [kind for kind in KINDS if kind != "order_summary"]  # summaries come from orders


def _forget_ask() -> None:
    st.session_state.pop(ASKED, None)


@st.dialog("Delete this memory?", on_dismiss=_forget_ask)
def confirm_delete(store: MemoryStore, memory: Memory) -> None:
    st.markdown(f"**{memory.kind}** · {memory.created_at:%Y-%m-%d}")
    st.markdown(f"> {memory.text}")
    st.caption("The desk stops recalling it. You can undo this right after.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete it", type="primary", width="stretch"):
        _forget_ask()
        try:
            store.delete(memory.id, customer_id=memory.customer_id)
        except Exception as error:  # noqa: BLE001 - Chroma down: say so, keep the page up
            st.session_state[TOAST] = (f"The memory was not deleted: {error}", "⚠️")
        else:
            st.session_state[DELETED] = memory
            st.session_state[TOAST] = ("Memory deleted.", "🗑️")
        st.rerun()
    if no.button("Keep it", width="stretch"):
        _forget_ask()
        st.rerun()


def undo_banner(store: MemoryStore, customer_id: str) -> None:
    deleted: Memory | None = st.session_state.get(DELETED)
    if deleted is None or deleted.customer_id != customer_id:
        return
    left, right = st.columns([6, 1], vertical_alignment="center")
    left.info(f"Deleted: “{deleted.text}”")
    if right.button("Undo", type="primary", width="stretch"):
        store.add(
            deleted.customer_id,
            deleted.text,
            deleted.kind,
            thread_id=deleted.thread_id,
            memory_id=deleted.id,
            created_at=deleted.created_at,
        )
        st.session_state.pop(DELETED, None)
        st.session_state[TOAST] = ("Memory restored.", "↩️")
        st.rerun()


def add_form(store: MemoryStore, customer_id: str) -> None:
    with st.form("add_memory", clear_on_submit=True):
        text = st.text_area("Remember…", placeholder="Always wants the 1 kg packs")
        kind = st.selectbox("Kind", WRITABLE_KINDS)
        if st.form_submit_button("Add memory") and text.strip():
            try:
                store.add(customer_id, text.strip(), kind)
            except ValueError as error:  # MemoryRefused: too long, empty after cleaning...
                st.error(str(error))
            else:
                st.rerun()


def page() -> None:
    require_admin()
    st.title("Customer memory")
    if toast := st.session_state.pop(TOAST, None):
        message, icon = toast
        st.toast(message, icon=icon)
    customers = {c.customer_id: c.name for c in services_or_stop().orders.customers()}
    if not customers:
        st.warning("No customers yet. Load the demo data with `python -m db.seed`.")
        return
    customer_id = st.selectbox(
        "Customer", list(customers), format_func=lambda c: f"{customers[c]} ({c})"
    )
    try:
        store = memory_store()
        memories = store.list(customer_id)
    except Exception as error:  # noqa: BLE001 - Chroma down: say so, keep the page up
        st.error(f"Memory is unavailable right now: {error}")
        return
    undo_banner(store, customer_id)
    add_form(store, customer_id)
    count = f"{len(memories)} memor{'y' if len(memories) == 1 else 'ies'}"
    st.caption(f"{count} for {customers[customer_id]}")
    for memory in memories:  # newest first
        left, right = st.columns([8, 1])
        left.markdown(f"**{memory.kind}** · {memory.created_at:%Y-%m-%d} — {memory.text}")
        right.button(
            "Delete",
            key=f"del-{memory.id}",
            on_click=st.session_state.__setitem__,
            args=(ASKED, memory),
        )
    if asked := st.session_state.get(ASKED):
        confirm_delete(store, asked)


page()
sidebar()
