"""Catalog page: search as the agent does, products by category and stock, re-index.

The search's scores (score, spelling, meaning) are for people tuning search, behind a
"details" toggle; re-indexing is for admins (ui/access.py). Products come from the order
book (`services.orders`): the page only renders.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.access import is_admin
from ui.common import desk_or_stop, services_or_stop, sidebar
from ui.format import MONEY_COLUMN


def search_box() -> None:
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    query = left.text_input(
        "Search the catalog", placeholder="cajun seasoning, mozarella, gummy bears…"
    )
    details = right.toggle("Details", help="Show the search's scores: overall, spelling, meaning")
    if not query:
        return
    result = desk_or_stop().catalog.search(query, k=8)
    if result.degraded:
        st.warning("Chroma is unavailable: these are spelling matches only.")
    if result.no_match:
        st.info("Nothing matches well; the agent would ask rather than guess. Closest:")
    elif result.ambiguous:
        st.info("Ambiguous: the agent would ask which one.")
    rows: list[dict[str, Any]] = []
    for c in result.candidates:
        row: dict[str, Any] = {"id": c.product_id, "product": c.name}
        if details:
            row |= {
                "score": round(c.score, 3),
                "spelling": round(c.lexical, 3),
                "meaning": round(c.meaning, 3),
            }
        row |= {
            "price": float(c.unit_price),
            "in stock": c.units_in_stock,
            "available": c.available,
            "discontinued": c.discontinued,
        }
        rows.append(row)
    st.dataframe(
        rows,
        hide_index=True,
        column_config={"price": st.column_config.NumberColumn(format=MONEY_COLUMN)},
    )


def reindex() -> None:
    from rag.catalog_index import get_catalog_collection, sync_catalog

    if not is_admin() or not st.button(
        "Re-index catalog", help="Embed new or changed products so search sees them (admins)"
    ):
        return
    bar = st.progress(0.0, text="Comparing the catalog with the index…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"Embedded {done} of {total} products")

    services = services_or_stop()
    try:
        if services.chroma_connection is None:
            raise RuntimeError("this desk searches a catalog index of its own")
        client = services.chroma_connection.connect()
        report = sync_catalog(
            engine=services.engine,
            collection=get_catalog_collection(client, embedder=services.embedder),
            embedder=services.embedder,
            progress=progress,
        )
    except Exception as error:  # noqa: BLE001 - shown to the user: Chroma may be down
        st.error(f"Re-indexing failed: {error}")
        return
    bar.progress(1.0, text="Done")
    services.catalog.refresh()
    st.success(
        f"Index up to date: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged."
    )


def stock_table() -> None:
    book = services_or_stop().orders
    categories = book.categories()
    if not categories:
        st.warning("The catalog is empty. Load the demo data with `python -m db.seed`.")
        return
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    category = left.selectbox(
        "Category", [None, *categories], format_func=lambda c: "All categories" if c is None else c
    )
    in_stock = right.toggle(
        "In stock only",
        help="Available (in stock less what open drafts hold), not discontinued: can be ordered",
    )
    products = book.products(category=category, in_stock_only=in_stock)
    every = category is None and not in_stock
    st.subheader(f"{len(products)} products" if every else f"{len(products)} products shown")
    st.dataframe(
        [
            {
                "id": p.product_id,
                "product": p.name,
                "what it is": p.description,
                "category": p.category,
                "pack": p.quantity_per_unit,
                "unit price": float(p.unit_price),
                "in stock": p.units_in_stock,
                "held by drafts": p.held,
                "available": p.available,
                "discontinued": p.discontinued,
            }
            for p in products
        ],
        hide_index=True,
        height="content",  # the page scrolls, not a 10-row window inside it
        column_config={"unit price": st.column_config.NumberColumn(format=MONEY_COLUMN)},
    )


st.title("Catalog")
search_box()
stock_table()
reindex()
sidebar()
