"""The Chat page in AppTest: a flagged line shows its in-stock alternatives beside it, and
a click under the table swaps one in or ships what is available.

Real store underneath (a seeded SQLite file), the real embedding model and Chroma index,
the offline model; each AppTest is a fresh browser session.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db.models import DraftLine, OrderEvent, Product
from tests.ui.test_chat_page import browser, url_of
from tests.ui.test_pages import click, say, table

GUMBO = "Alfreds Futterkiste wants 10 Chef Anton's Gumbo Mix"  # 5: discontinued


def beside(at, product_id: int) -> str:  # type: ignore[no-untyped-def]
    frame = at.dataframe[0].value
    return str(frame.loc[frame["product_id"] == product_id, "in stock instead"].iloc[0])


def test_the_alternatives_show_beside_the_flagged_line_and_a_click_swaps_it(
    seeded: str, store_engine: Engine
) -> None:
    at = say(browser(), GUMBO)
    key = url_of(at)["k"]
    assert table(at) == {5: 10}
    shown = beside(at, 5)
    assert "Chef Anton's Cajun Seasoning" in shown and "Gumbo" not in shown
    labels = [b.label for b in at.button if (b.key or "").startswith("swap-")]
    assert labels[0] == "Swap to Chef Anton's Cajun Seasoning" and len(labels) <= 3
    assert next(b for b in at.button if b.label == "Confirm").disabled

    click(at, "Swap to Chef Anton's Cajun Seasoning")
    assert table(at) == {4: 10}  # the same quantity, in the line's place
    assert not [b for b in at.button if (b.key or "").startswith("swap-")]
    assert not next(b for b in at.button if b.label == "Confirm").disabled
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    with Session(store_engine) as session:
        kinds = {
            (kind, actor)
            for kind, actor in session.execute(select(OrderEvent.kind, OrderEvent.actor))
        }
    assert ("line_removed", f"browser session {digest}") in kinds  # in the trail, as table edits
    assert ("line_added", f"browser session {digest}") in kinds


def test_ship_available_cuts_a_short_line_to_its_stock(seeded: str, store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        connection.execute(update(Product).where(Product.product_id == 14).values(units_in_stock=3))
    at = say(browser(), "Save-a-lot Markets: 4 tofu please")
    assert "Longlife Tofu" in beside(at, 14)
    click(at, "Ship 3 available")
    assert table(at) == {14: 3}
    assert not next(b for b in at.button if b.label == "Confirm").disabled
    with Session(store_engine) as session:
        assert session.scalars(select(DraftLine.quantity)).all() == [3]
