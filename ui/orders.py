"""Orders page: history with filters, one order's detail, cancel, and charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st
from sqlalchemy.orm import Session

from db.models import OrderStatus
from orders.catalog import list_customers
from orders.errors import OrderError
from orders.history import list_orders, order_status
from orders.stats import orders_per_day, top_products
from ui.common import desk_or_stop, money, services_or_stop, sidebar

PAGE_SIZE = 50


def filters(session: Session) -> dict[str, object]:
    customers = {
        c.customer_id: f"{c.company_name} ({c.customer_id})"
        for c in list_customers(session=session)
    }
    left, middle, right = st.columns([2, 1, 2])
    customer = left.selectbox(
        "Customer",
        [None, *customers],
        format_func=lambda c: "All customers" if c is None else customers[c],
    )
    status = middle.selectbox(
        "Status", [None, "confirmed", "cancelled"], format_func=lambda s: s or "Any"
    )
    days = right.date_input("Placed between", value=(date(1996, 7, 1), date.today()))
    start, end = days if isinstance(days, tuple) and len(days) == 2 else (days, days)  # type: ignore[misc]
    return {
        "customer_id": customer,
        "status": OrderStatus(status) if status else None,
        "since": datetime.combine(start, time.min, UTC),
        "until": datetime.combine(end, time.min, UTC) + timedelta(days=1),
    }


def history(session: Session) -> None:
    chosen = filters(session)
    page_number = st.number_input("Page", min_value=1, value=1, step=1)
    orders = list_orders(
        session=session, limit=PAGE_SIZE, offset=(int(page_number) - 1) * PAGE_SIZE, **chosen
    )
    if not orders:
        st.info("No orders match these filters.")
        return
    st.dataframe(
        [
            {
                "order": o.order_id,
                "placed": o.created_at.date(),
                "customer": o.customer_name,
                "status": o.status,
                "lines": len(o.lines),
                "total": float(o.total),
            }
            for o in orders
        ],
        hide_index=True,
        column_config={"total": st.column_config.NumberColumn(format="$%.2f")},
    )
    detail(session, [o.order_id for o in orders])


def detail(session: Session, order_ids: list[int]) -> None:
    order_id = st.selectbox("Order detail", order_ids)
    order = order_status(session=session, order_id=order_id)
    st.markdown(
        f"**Order {order.order_id}** for {order.customer_name}, placed {order.created_at:%Y-%m-%d},"
        f" **{order.status}**, total {money(order.total)}"
        + (f", confirmed by {order.created_by}" if order.created_by else "")
    )
    st.table(
        [
            {
                "product": line.product_name,
                "quantity": line.quantity,
                "unit price": money(line.unit_price),
                "discount": f"{float(line.discount):.0%}",
                "line total": money(line.line_total),
            }
            for line in order.lines
        ]
    )
    if order.status == "confirmed" and st.button(f"Cancel order {order.order_id}"):
        try:
            desk_or_stop().cancel_order(order.order_id)
            st.success(f"Order {order.order_id} cancelled; its stock is back.")
            st.rerun()
        except OrderError as error:
            st.error(str(error))


def charts(session: Session) -> None:
    per_day = orders_per_day(session=session)
    if per_day:
        st.subheader("Orders per day")
        st.bar_chart(
            {"day": [d for d, _, _ in per_day], "orders": [n for _, n, _ in per_day]},
            x="day",
            y="orders",
        )
    top = top_products(session=session, n=10)
    if top:
        st.subheader("Top products (units sold)")
        st.bar_chart(
            {"product": [name for name, _, _ in top], "units": [u for _, u, _ in top]},
            x="product",
            y="units",
            horizontal=True,
        )


st.title("Orders")
with Session(services_or_stop().engine) as session:
    history(session)
    charts(session)
sidebar()
