"""Catalog page: search as the agent does (with scores), stock and prices, re-index."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from orders.catalog import list_products
from ui.common import desk_or_stop, services_or_stop, sidebar


def search_box() -> None:
    query = st.text_input(
        "Search the catalog", placeholder="cajun seasoning, mozarella, gummy bears…"
    )
    if not query:
        return
    result = desk_or_stop().catalog.search(query, k=8)
    if result.degraded:
        st.warning("Chroma is unavailable: these are spelling matches only.")
    if result.no_match:
        st.info("Nothing matches well; the agent would ask rather than guess. Closest:")
    elif result.ambiguous:
        st.info("Ambiguous: the agent would ask which one.")
    st.dataframe(
        [
            {
                "id": c.product_id,
                "product": c.name,
                "score": round(c.score, 3),
                "spelling": round(c.lexical, 3),
                "meaning": round(c.meaning, 3),
                "price": float(c.unit_price),
                "in stock": c.units_in_stock,
                "discontinued": c.discontinued,
            }
            for c in result.candidates
        ],
        hide_index=True,
        column_config={"price": st.column_config.NumberColumn(format="$%.2f")},
    )


def reindex() -> None:
    from rag.catalog_index import get_catalog_collection, sync_catalog

    if not st.button("Re-index catalog"):
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
    with Session(services_or_stop().engine) as session:
        products = list_products(session=session)
    if not products:
        st.warning("The catalog is empty. Load the demo data with `python -m db.seed`.")
        return
    st.subheader(f"{len(products)} products")
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
                "discontinued": p.discontinued,
            }
            for p in products
        ],
        hide_index=True,
        column_config={"unit price": st.column_config.NumberColumn(format="$%.2f")},
    )


st.title("Catalog")
search_box()
reindex()
stock_table()
sidebar()
