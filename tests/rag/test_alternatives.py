"""CatalogSearch.alternatives on the real Northwind catalog, both backends, real Chroma.

What is offered instead of a product that cannot be sold: the same category, not
discontinued, available (stock less other drafts' live holds), never the product itself,
at most three, those covering the quantity first and each group nearest by meaning - the
meaning measured here independently, from the vectors Chroma holds for the products.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db.models import Product
from orders import drafts
from orders.stock import availability
from rag.search import CatalogSearch

NORTHWIND_IDS = list(range(1, 78))


def facts(engine: Engine) -> dict[int, Product]:
    with Session(engine, expire_on_commit=False) as session:
        return {p.product_id: p for p in session.scalars(select(Product))}


def vectors(search: CatalogSearch) -> dict[int, np.ndarray]:
    """Each product's unit vector as Chroma holds it."""
    got = search._collection.get(include=["embeddings"])  # type: ignore[union-attr]
    out = {}
    for record_id, vector in zip(got["ids"], got["embeddings"], strict=True):
        v = np.asarray(vector, dtype=float)
        out[int(record_id)] = v / np.linalg.norm(v)
    return out


def set_state(engine: Engine, product_id: int, *, stock: int | None, discontinued: bool) -> None:
    values: dict[str, object] = {"discontinued": discontinued}
    if stock is not None:
        values["units_in_stock"] = stock
    with engine.begin() as connection:
        connection.execute(update(Product).where(Product.product_id == product_id).values(**values))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    product_id=st.sampled_from(NORTHWIND_IDS),
    way=st.sampled_from(["out_of_stock", "discontinued", "short"]),
    quantity=st.integers(min_value=1, max_value=60),
)
def test_alternatives_are_same_category_in_stock_nearest_first(
    engine: Engine, northwind: CatalogSearch, product_id: int, way: str, quantity: int
) -> None:
    before = facts(engine)[product_id]
    stock = {"out_of_stock": 0, "short": max(0, quantity - 1)}.get(way)
    set_state(engine, product_id, stock=stock, discontinued=way == "discontinued")
    try:
        found = northwind.alternatives(product_id, quantity=quantity)
        catalog = facts(engine)
        with Session(engine) as session:
            free = {p: a.available for p, a in availability(session).items()}
    finally:
        set_state(engine, product_id, stock=before.units_in_stock, discontinued=before.discontinued)
    assert not found.degraded
    ids = [option.product_id for option in found.options]
    assert len(ids) <= 3 and len(set(ids)) == len(ids) and product_id not in ids
    category = catalog[product_id].category
    for option in found.options:
        product = catalog[option.product_id]
        assert product.category == category and not product.discontinued
        assert option.available == free[option.product_id] > 0
        assert (option.name, option.unit_price) == (product.name, product.unit_price)
        assert option.quantity_per_unit == product.quantity_per_unit
        assert option.enough == (option.available >= quantity)
    # Nearest by meaning, those covering the quantity first; nothing nearer left out.
    v = vectors(northwind)
    near = {p: float(v[product_id] @ v[p]) for p in catalog if p != product_id}
    eligible = [
        p
        for p, row in catalog.items()
        if p != product_id and row.category == category and not row.discontinued and free[p] > 0
    ]
    assert len(ids) == min(3, len(eligible))
    rank = [(free[p] < quantity, -near[p]) for p in ids]
    for (short_a, far_a), (short_b, far_b) in zip(rank, rank[1:], strict=False):
        assert short_a <= short_b and (short_a < short_b or far_a <= far_b + 1e-4)
    if ids:  # nothing left out that would have come before the last one offered
        last = rank[-1]
        for p in set(eligible) - set(ids):
            assert (free[p] < quantity, -near[p] - 1e-4) >= last
    for option in found.options:
        assert abs(option.similarity - near[option.product_id]) < 1e-3


def test_without_chroma_spelling_ranks_them_and_says_degraded(
    engine: Engine, northwind: CatalogSearch, embedder
) -> None:  # type: ignore[no-untyped-def]
    spelling = CatalogSearch(engine=engine, embedder=embedder)  # no collection: no vectors
    found = spelling.alternatives(5, quantity=10)  # Chef Anton's Gumbo Mix, discontinued
    assert found.degraded and found.options
    assert found.options[0].product_id == 4  # Chef Anton's Cajun Seasoning: "chef anton"
    catalog = facts(engine)
    for option in found.options:
        assert catalog[option.product_id].category == "Condiments"
        assert not catalog[option.product_id].discontinued and option.available > 0


def test_other_drafts_holds_lower_what_is_available(
    engine: Engine, northwind: CatalogSearch
) -> None:
    alone = northwind.alternatives(14, quantity=4)  # Tofu: Longlife Tofu (4 in stock) first
    assert alone.options[0].product_id == 74 and alone.options[0].available == 4
    with Session(engine) as session, session.begin():
        drafts.create_draft(
            session=session,
            customer_id="ALFKI",
            lines=[{"product_id": 74, "quantity": 3}],
            thread_id="someone-else",
        )
    held = {o.product_id: o for o in northwind.alternatives(14, quantity=4).options}
    assert held[74].available == 1 and not held[74].enough  # the other draft holds 3
    assert list(held)[-1] == 74  # short of 4 now: after those that cover it
    with Session(engine) as session, session.begin():
        mine = drafts.create_draft(  # holds all 20 Manjimup Dried Apples
            session=session, customer_id="ALFKI", lines=[{"product_id": 51, "quantity": 20}]
        )
    # The draft asking never counts its own hold against itself; anyone else does.
    own = northwind.alternatives(7, quantity=1, excluding_draft_id=mine.draft_id)
    assert {o.product_id: o.available for o in own.options}[51] == 20
    assert 51 not in {o.product_id for o in northwind.alternatives(7, quantity=1).options}


def test_exclude_and_unknown_product(northwind: CatalogSearch) -> None:
    ids = [o.product_id for o in northwind.alternatives(10, quantity=5, exclude=[73]).options]
    assert 73 not in ids and 10 not in ids and ids
    assert northwind.alternatives(99_999).options == []
