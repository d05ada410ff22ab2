"""One real-browser smoke test: headless Chromium takes an order through the running app.

Starts `streamlit run app.py` on a free loopback port over a freshly seeded store, then
drives Debian's Chromium with Playwright: type an order, see the draft; give the draft an
open item (as the desk does for a phrase it could not place) and see Confirm disabled
with the question beside it; answer it, click Confirm, see the order id. Screenshots of
the blocked draft and the confirmed order are saved in the test's tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from db.models import Order
from tests.ui.browser_support import chromium_page, expect_visible, needs_chromium, served_app

pytestmark = needs_chromium


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with served_app(tmp_path) as served:
        yield served


def ask(page: Any, message: str, answer: str) -> None:
    """Send a chat message and wait for `answer` in the reply: the page runs again."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(message)
    box.press("Enter")
    expect_visible(page.get_by_text(answer).last)


def test_take_an_order_in_a_real_browser(running_app: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    address, database_url = running_app
    with sync_playwright() as playwright:
        browser, page = chromium_page(playwright, width=1280, height=900)
        page.goto(address, timeout=60_000)
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=60_000)
        # A product the catalog does not have is named and blocks Confirm, with the reason.
        box.fill("Alfreds Futterkiste wants 12 Queso Cabrales, 5 tofu and 3 blue widgets")
        box.press("Enter")
        expect(page.get_by_text("Total: $368.25").first).to_be_visible(timeout=60_000)
        confirm = page.get_by_role("button", name="Confirm", exact=True)
        expect(confirm).to_be_disabled(timeout=30_000)
        expect(page.get_by_text("Cannot confirm yet").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("blue widgets").first).to_be_visible()
        expect(
            page.get_by_text("Needs attention before this order can be confirmed")
        ).to_be_visible()
        page.screenshot(path=str(tmp_path / "needs_attention.png"), full_page=True)

        # Saying to leave it out answers the question; Confirm is enabled again.
        ask(page, "skip the blue widgets", "Dropped")
        expect(confirm).to_be_enabled(timeout=30_000)
        expect(page.get_by_text("Cannot confirm yet")).to_have_count(0)
        page.get_by_role("button", name="Confirm", exact=True).click()
        confirmed = page.get_by_text("confirmed for Alfreds Futterkiste").first
        expect(confirmed).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(
            0, timeout=30_000
        )
        page.screenshot(path=str(tmp_path / "confirmed.png"), full_page=True)
        browser.close()

    engine = create_engine(database_url)
    with Session(engine) as session:
        orders = session.scalars(select(Order).where(Order.order_id > 11077)).all()
        assert [(o.customer_id, str(o.total)) for o in orders] == [("ALFKI", "368.25")]
    engine.dispose()
    assert (tmp_path / "confirmed.png").stat().st_size > 10_000
    assert (tmp_path / "needs_attention.png").stat().st_size > 10_000
