"""Memory page: what Order Desk remembers about each customer; add and delete memories."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from orders.catalog import list_customers
from ui.common import services_or_stop, sidebar
from ui.resources import memory_store

KINDS = ["preference", "note", "order_summary"]


def page() -> None:
    st.title("Customer memory")
    with Session(services_or_stop().engine) as session:
        customers = {c.customer_id: c.company_name for c in list_customers(session=session)}
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
    with st.form("add_memory", clear_on_submit=True):
        text = st.text_area("Remember…", placeholder="Always wants the 1 kg packs")
        kind = st.selectbox("Kind", KINDS[:2])
        if st.form_submit_button("Add memory") and text.strip():
            try:
                store.add(customer_id, text.strip(), kind)
            except ValueError as error:  # MemoryRefused: too long, empty after cleaning...
                st.error(str(error))
            else:
                st.rerun()
    st.caption(f"{len(memories)} memories for {customers[customer_id]}")
    for memory in sorted(memories, key=lambda m: str(m.created_at), reverse=True):
        left, right = st.columns([8, 1])
        left.markdown(f"**{memory.kind}** · {str(memory.created_at)[:10]} — {memory.text}")
        if right.button("Delete", key=f"del-{memory.id}"):
            store.delete(memory.id)
            st.rerun()


page()
sidebar()
