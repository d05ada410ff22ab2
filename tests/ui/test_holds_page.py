"""The Chat page in AppTest under stock holds: a draft says until when its stock is held,
and a second browser drafting for the same stock sees the line short, with how many are
held by other drafts and until when; once the first draft is discarded, the second's
Confirm is enabled.

Real store underneath (a seeded SQLite file), the offline model; each AppTest is a fresh
browser session.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, update

from db.models import Product
from tests.ui.test_chat_page import browser
from tests.ui.test_pages import click, say, table
from tests.ui.test_pages_admin import texts


def status_of(at, product_id: int) -> str:  # type: ignore[no-untyped-def]
    frame = at.dataframe[0].value
    return str(frame.loc[frame["product_id"] == product_id, "status"].iloc[0])


def confirm_button(at):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == "Confirm")


def test_a_second_browser_sees_the_first_drafts_hold_until_it_is_discarded(
    seeded: str, store_engine: Engine
) -> None:
    with store_engine.begin() as connection:
        connection.execute(
            update(Product).where(Product.product_id == 14).values(units_in_stock=20)
        )
    first = say(browser(), "Ernst Handel: 15 tofu")
    assert table(first) == {14: 15}
    assert re.search(r"stock held for this draft until \d\d:\d\d", texts(first))
    assert not confirm_button(first).disabled

    second = say(browser(), "Bon app': 10 tofu")
    assert table(second) == {14: 10}
    status = status_of(second, 14)
    assert re.search(r"5 available; 15 held by other drafts until \d\d:\d\d", status), status
    assert confirm_button(second).disabled

    click(first, "Cancel")  # the first browser throws its draft away
    second.run()
    assert "held by other" not in status_of(second, 14)
    assert not confirm_button(second).disabled
