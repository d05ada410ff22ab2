"""Orders page: the history with filters (customer, status, PO number, dates) and paging,
an order opened by clicking its row - its header, lines, the confirmation to send (PDF and
e-mail text) and its audit trail - cancel behind a confirmation dialog (its result a toast
that survives the rerun), and charts of orders per month and the products selling the most
units.

Reads go through the order book (`services.orders`), the cancel through the desk; the
page itself only renders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

from orders.book import ORDER_STATUSES, OrderBook, OrderPage
from orders.errors import OrderError
from orders.header import PO_MAX
from orders.schemas import OrderView
from ui.audit import order_events
from ui.common import acting_user, desk_or_stop, services_or_stop, sidebar
from ui.documents import download_buttons
from ui.format import MONEY_COLUMN, money
from ui.header import header_caption

PAGE_SIZE = 50
TOAST = "orders_toast"  # a message to show as a toast on the next run
ASKED = "orders_cancel_asked"  # (order id, customer name) while the cancel dialog is open
PAGE = "orders_page"
FILTERS = "orders_filters"
VIEW = "orders_view"  # counts filter changes: each gets a table (and selection) of its own


def filters(book: OrderBook, span: tuple[date, date]) -> dict[str, Any]:
    customers = {c.customer_id: f"{c.name} ({c.customer_id})" for c in book.customers()}
    left, middle, po_column, right = st.columns([2, 1, 1, 2])
    customer = left.selectbox(
        "Customer",
        [None, *customers],
        format_func=lambda c: "All customers" if c is None else customers[c],
    )
    status = middle.selectbox("Status", [None, *ORDER_STATUSES], format_func=lambda s: s or "Any")
    po = po_column.text_input(
        "PO number", placeholder="any", max_chars=PO_MAX, help="The customer's PO number, exact"
    )
    days = right.date_input("Placed between", value=span, format="YYYY-MM-DD")
    start, end = days if isinstance(days, tuple) and len(days) == 2 else (days, days)  # type: ignore[misc]
    return {
        "customer_id": customer,
        "status": status,
        "po": po.strip() or None,  # the customer's PO number, exact (any case)
        "since": datetime.combine(start, time.min, UTC),
        "until": datetime.combine(end, time.min, UTC) + timedelta(days=1),
    }


def history(book: OrderBook, chosen: dict[str, Any]) -> OrderView | None:
    """The filtered page of orders as a table; the order whose row is selected, if any."""
    if st.session_state.get(FILTERS) != chosen:  # new filters start again on page 1
        st.session_state[FILTERS] = chosen
        st.session_state[PAGE] = 1
        st.session_state[VIEW] = st.session_state.get(VIEW, 0) + 1
    number = max(1, int(st.session_state.get(PAGE, 1)))
    page = book.orders(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **chosen)
    if page.total and not page.orders:  # past the end (the list got shorter): the last page
        number = page.pages
        st.session_state[PAGE] = number
        page = book.orders(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **chosen)
    if not page.orders:
        st.info("No orders match these filters.")
        return None
    pager(page)
    event: Any = st.dataframe(
        [
            {
                "order": o.order_id,
                "placed": o.created_at.date(),
                "customer": o.customer_name,
                "PO": o.customer_po or "",
                "deliver by": o.requested_date,
                "status": o.status,
                "lines": len(o.lines),
                "total": float(o.total),
            }
            for o in page.orders
        ],
        hide_index=True,
        width="stretch",
        # A table per page and filters: a selection never points into another page.
        key=f"orders_table_{st.session_state[VIEW]}_{number}",
        on_select="rerun",
        selection_mode="single-row",
        column_config={"total": st.column_config.NumberColumn("total", format=MONEY_COLUMN)},
    )
    rows = event.selection.rows
    if not rows:
        st.caption("Click a row to open the order.")
        return None
    return page.orders[rows[0]]


def pager(page: OrderPage) -> None:
    left, right = st.columns([4, 1])
    left.markdown(
        f"Showing **{page.first:,}–{page.last:,}** of **{page.total:,}** orders"
        + (f" · page {page.offset // PAGE_SIZE + 1} of {page.pages}" if page.pages > 1 else "")
    )
    if page.pages > 1:
        right.number_input(
            "Page",
            min_value=1,
            max_value=page.pages,
            step=1,
            key=PAGE,
            label_visibility="collapsed",
        )


def detail(book: OrderBook, order_id: int) -> None:
    order = book.order(order_id)  # read again: it may have changed since the table was read
    st.subheader(f"Order {order.order_id} · {order.customer_name}")
    st.markdown(
        f"Placed {order.created_at:%Y-%m-%d} · **{order.status}** · total **{money(order.total)}**"
        + (f" · confirmed by {order.created_by}" if order.created_by else "")
        + (f" · cancelled {order.cancelled_at:%Y-%m-%d %H:%M}" if order.cancelled_at else "")
    )
    if caption := header_caption(order):
        st.caption(caption)
    st.dataframe(
        [
            {
                "product": line.product_name,
                "quantity": line.quantity,
                "unit price": float(line.unit_price),
                "discount": float(line.discount),
                "line total": float(line.line_total),
            }
            for line in order.lines
        ],
        hide_index=True,
        height="content",  # every line in sight, none scrolled away
        column_config={
            "unit price": st.column_config.NumberColumn(format=MONEY_COLUMN),
            "discount": st.column_config.NumberColumn(format="percent"),
            "line total": st.column_config.NumberColumn(format=MONEY_COLUMN),
        },
    )
    download_buttons(order.order_id, key_prefix="orders")
    if order.status == "confirmed":
        st.button(
            f"Cancel order {order.order_id}",
            on_click=st.session_state.__setitem__,
            args=(ASKED, (order.order_id, order.customer_name)),
        )
    with st.expander("Audit trail: who changed what, and when"):
        order_events(book, order.order_id)


def _forget_cancel() -> None:
    st.session_state.pop(ASKED, None)


@st.dialog("Cancel this order?", on_dismiss=_forget_cancel)
def confirm_cancel(order_id: int, customer_name: str) -> None:
    st.markdown(f"Cancel order **{order_id}** for **{customer_name}**? Its stock goes back.")
    yes, no = st.columns(2)
    if yes.button("Yes, cancel it", type="primary", width="stretch"):
        _forget_cancel()
        try:
            desk_or_stop().cancel_order(order_id, user=acting_user())
        except OrderError as error:
            st.session_state[TOAST] = (f"Order {order_id} was not cancelled: {error}", "⚠️")
        else:
            st.session_state[TOAST] = (
                f"Order {order_id} for {customer_name} cancelled; its stock is back.",
                "✅",
            )
        st.rerun()
    if no.button("Keep it", width="stretch"):
        _forget_cancel()
        st.rerun()


def charts(book: OrderBook) -> None:
    months = book.orders_per_month()
    top = book.top_products(10)
    if not months and not top:
        return
    left, right = st.columns(2)
    if months:
        left.subheader("Orders per month")
        left.caption(f"{months[0].month:%B %Y} – {months[-1].month:%B %Y}, confirmed orders")
        left.bar_chart(
            {"month": [f"{m.month:%Y-%m}" for m in months], "orders": [m.orders for m in months]},
            x="month",
            y="orders",
            sort=False,  # in calendar order, every month of the range shown (empty ones too)
        )
    if top:
        right.subheader("Top products by units sold")
        right.caption("Confirmed orders; cancelled ones do not count")
        right.bar_chart(
            {"product": [p.name for p in top], "units": [p.units for p in top]},
            x="product",
            y="units",
            horizontal=True,
            sort="-units",
        )


def page() -> None:
    st.title("Orders")
    if toast := st.session_state.pop(TOAST, None):
        message, icon = toast
        st.toast(message, icon=icon)
    book = services_or_stop().orders
    span = book.order_span()
    if span is None:
        st.info("No orders yet: take one on the Chat page.")
        return
    chosen = history(book, filters(book, span))
    if chosen is not None:
        detail(book, chosen.order_id)
    if asked := st.session_state.get(ASKED):
        confirm_cancel(*asked)
    charts(book)


page()
sidebar()
