"""The Orders and Catalog pages in a real browser (headless Chromium via Playwright).

Orders: click the newest order's row, see its detail, cancel it through the dialog, see
the toast and the order cancelled (in the page and in the store). Catalog: filter by
category and in-stock. Screenshots go to /tmp/screens/h2-*.png (and the test's tmp dir).
The non-admin's refusal is checked in AppTest (test_pages_admin.py), where a signed-in
user can be set.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from orders.book import OrderBook
from tests.ui.browser_support import chromium_page, expect_visible, needs_chromium, served_app

pytestmark = needs_chromium
SCREENS = Path("/tmp/screens")
ROW_PX = 35  # glide-data-grid's default row height in st.dataframe


def shoot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"h2-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENS / path.name)
    return path


def click_row(page: Any, table: Any, row: int) -> None:
    """Tick a row's selection box (the grid is a canvas: click where the row is drawn)."""
    box = table.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)


def choose(page: Any, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (a rerun may close a list just
    opened: open it again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        page.get_by_test_id("stSelectbox").filter(has_text=label).click()
        try:
            choice.wait_for(state="visible", timeout=3_000)
        except PlaywrightTimeout:
            continue
        choice.click()
        return
    raise AssertionError(f"no option {option!r} in {label!r}")


def test_open_and_cancel_an_order_then_filter_the_catalog(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with served_app(tmp_path) as (address, url), sync_playwright() as playwright:
        engine = create_engine(url)
        book = OrderBook(engine)
        newest = book.orders(limit=1).orders[0]
        browser, page = chromium_page(playwright, height=1700)
        try:
            page.goto(f"{address}/orders", timeout=60_000)
            expect_visible(page.get_by_text("Showing 1–50 of 830 orders"))
            expect_visible(page.get_by_text("Orders per month"))
            expect_visible(page.get_by_text("Top products by units sold"))
            expect(page.get_by_text("Admin", exact=True)).to_be_visible()  # demo: everyone
            table = page.get_by_test_id("stDataFrame").first
            click_row(page, table, 0)
            heading = f"Order {newest.order_id} · {newest.customer_name}"
            expect_visible(page.get_by_text(heading))
            expect_visible(page.get_by_role("button", name=f"Cancel order {newest.order_id}"))
            shoot(page, tmp_path, "orders-detail")

            page.get_by_role("button", name=f"Cancel order {newest.order_id}").click()
            dialog = page.get_by_role("dialog")
            expect_visible(dialog)
            expect(dialog).to_contain_text(
                f"Cancel order {newest.order_id} for {newest.customer_name}? Its stock goes back."
            )
            shoot(page, tmp_path, "cancel-dialog")
            dialog.get_by_role("button", name="Yes, cancel it").click()
            toast = page.get_by_test_id("stToast")
            expect_visible(toast, 30_000)
            expect(toast).to_contain_text(f"Order {newest.order_id} for {newest.customer_name}")
            expect(page.get_by_role("dialog")).to_have_count(0)
            summary = page.get_by_test_id("stMarkdown").filter(has_text="Placed")
            expect(summary).to_contain_text("· cancelled ·")
            expect(
                page.get_by_role("button", name=f"Cancel order {newest.order_id}")
            ).to_have_count(0)
            shoot(page, tmp_path, "cancel-toast")
            assert book.order(newest.order_id).status == "cancelled"

            page.goto(f"{address}/catalog", timeout=60_000)
            expect_visible(page.get_by_text("77 products"))
            choose(page, "Category", "Condiments")
            page.get_by_text("In stock only").click()
            orderable = book.products(category="Condiments", in_stock_only=True)
            assert len(orderable) < len(book.products(category="Condiments"))
            expect_visible(page.get_by_text(f"{len(orderable)} products shown"))
            expect_visible(page.get_by_role("button", name="Re-index catalog"))  # demo: admin
            shoot(page, tmp_path, "catalog-filtered")
        finally:
            browser.close()
            engine.dispose()


def test_delete_a_memory_and_undo_it(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    note = "Always wants the 1 kg packs"
    with served_app(tmp_path) as (address, _url), sync_playwright() as playwright:
        browser, page = chromium_page(playwright, height=1100)
        try:
            page.goto(f"{address}/memory", timeout=60_000)
            expect_visible(page.get_by_text("0 memories for Alfreds Futterkiste"))
            page.get_by_label("Remember…").fill(note)
            page.get_by_role("button", name="Add memory").click()
            expect_visible(page.get_by_text("1 memory for Alfreds Futterkiste"))
            page.get_by_role("button", name="Delete", exact=True).click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_contain_text(note, timeout=30_000)
            shoot(page, tmp_path, "memory-delete-dialog")
            dialog.get_by_role("button", name="Yes, delete it").click()
            expect_visible(page.get_by_text(f"Deleted: “{note}”"))
            expect_visible(page.get_by_text("0 memories for Alfreds Futterkiste"))
            shoot(page, tmp_path, "memory-undo")
            page.get_by_role("button", name="Undo").click()
            expect_visible(page.get_by_text("1 memory for Alfreds Futterkiste"))
            expect(page.get_by_role("button", name="Undo")).to_have_count(0)
            expect_visible(page.get_by_text(note).first)
            shoot(page, tmp_path, "memory-restored")
        finally:
            browser.close()
