"""Store page: what the desk is running on, and the catalog it sells from."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from orders.catalog import list_products, store_counts
from ui.resources import db_engine, settings

st.title("Order Desk")
config = settings()
st.caption(f"Database: `{config.database_url_safe}` · chat model: {config.llm_provider}")

try:
    with Session(db_engine()) as session:
        counts = store_counts(session=session)
        products = list_products(session=session)
except SQLAlchemyError as error:
    st.error(f"The database cannot be reached: {str(getattr(error, 'orig', error)).strip()}")
    st.stop()

if counts["products"] == 0:
    st.warning("The catalog is empty. Load the demo data with `python -m db.seed`.")
    st.stop()

columns = st.columns(4)
columns[0].metric("Customers", counts["customers"])
columns[1].metric("Products", counts["products"])
columns[2].metric("Orderable now", counts["orderable"])
columns[3].metric("Orders", counts["orders"])

st.subheader("Catalog")
st.dataframe(
    [
        {
            "id": product.product_id,
            "product": product.name,
            "category": product.category,
            "pack": product.quantity_per_unit,
            "unit price": float(product.unit_price),
            "in stock": product.units_in_stock,
            "discontinued": product.discontinued,
        }
        for product in products
    ],
    hide_index=True,
    column_config={"unit price": st.column_config.NumberColumn(format="$%.2f")},
)
