"""The Chat page in a real browser (Debian's Chromium through Playwright), as staff use it.

One Streamlit server over a seeded SQLite store for the module; each test opens its own
browser context (a new browser session). Screenshots go to SCREENS for a person to look
at: the streamed reply, a refused table edit reverted, a reloaded conversation with its
sidebar, the first page's examples.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from db.models import DraftLine
from tests.ui.browser_support import chromium_page, needs_chromium, served_app

SCREENS = Path(os.environ.get("ORDERDESK_SCREENS", "/tmp/screens"))
ORDER = "Alfreds Futterkiste wants 12 Queso Cabrales and 5 tofu"
IDLE_S = 10

pytestmark = needs_chromium

# Records, in the page, when Enter was pressed in the chat box and when an assistant
# message with text first appeared after it.
TIMING = """
() => {
  window.__enter = null; window.__firstText = null; window.__before = 0;
  const replies = () => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter(m => m.querySelector('[data-testid="stChatMessageAvatarAssistant"]'))
    .filter(m => m.innerText.trim().length > 0).length;
  document.addEventListener('keydown', e => {
    if (e.key !== 'Enter') return;
    window.__enter = performance.now(); window.__before = replies(); window.__firstText = null;
  }, true);
  new MutationObserver(() => {
    if (window.__enter !== null && window.__firstText === null && replies() > window.__before)
      window.__firstText = performance.now();
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with served_app(tmp_path_factory.mktemp("chat-browser")) as served:
        yield served


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, first = chromium_page(playwright)
        first.close()
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, app: tuple[str, str]) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.frames_received = []  # websocket frames from the server, with their times
    opened.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda _: opened.frames_received.append(time.monotonic())
        ),
    )
    opened.goto(app[0], timeout=60_000)
    chat_box(opened)
    yield opened
    context.close()


def chat_box(page: Any) -> Any:
    from playwright.sync_api import expect

    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    return box


def send(page: Any, message: str, expected: str) -> None:
    from playwright.sync_api import expect

    box = chat_box(page)
    box.fill(message)
    box.press("Enter")
    expect(page.get_by_text(expected).last).to_be_visible(timeout=60_000)
    settle(page)


def settle(page: Any) -> None:
    """Wait until the app has stopped running (no 'running' indicator)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    page.wait_for_timeout(300)


def shot(page: Any, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)  # the grid paints its canvas after the page settles
    path = SCREENS / f"chat-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def idle_frames(page: Any, seconds: float = IDLE_S) -> int:
    """Frames the server sent while nobody touched the page for `seconds`, counted once
    the last run's own frames have stopped (a second without any)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        last = max(page.frames_received, default=0.0)
        if time.monotonic() - last >= 1.0:
            break
        page.wait_for_timeout(200)
    start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    times = [round(t - start, 2) for t in page.frames_received if t >= start]
    print(f"frames while idle for {seconds} s: {len(times)} at {times[:20]}")
    return len(times)


def edit_quantity(page: Any, row: int, value: str) -> None:
    """Type `value` into the quantity cell of draft line `row`, as a person does: the grid
    is a canvas, so select its first cell, move to the quantity, open the cell's editor
    with Enter, replace what it holds, and commit with Enter."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 40, box["y"] + 38 + 35 * row + 17)
    for key in ("ArrowRight", "ArrowRight", "Enter", "ControlOrMeta+a"):  # to the quantity
        page.wait_for_timeout(100)
        page.keyboard.press(key)
    page.keyboard.type(value, delay=30)
    page.keyboard.press("Enter")


def draft_quantities(url: str) -> list[int]:
    """The newest draft's quantities, in line order."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            newest = select(func.max(DraftLine.draft_id)).scalar_subquery()
            return list(
                session.scalars(
                    select(DraftLine.quantity)
                    .where(DraftLine.draft_id == newest)
                    .order_by(DraftLine.position)
                )
            )
    finally:
        engine.dispose()


def test_the_reply_streams_soon_after_enter_and_an_idle_page_is_quiet(page: Any) -> None:
    from playwright.sync_api import expect

    page.evaluate(TIMING)
    delays = []
    for message, expected in (
        (ORDER, "Draft for Alfreds Futterkiste (ALFKI): 2 lines (Queso Cabrales, Tofu)"),
        ("add 3 ikura", "3 lines"),
        ("make the tofu 7", "total $"),
    ):
        send(page, message, expected)
        enter, first = page.evaluate("[window.__enter, window.__firstText]")
        assert enter is not None and first is not None
        delays.append(first - enter)
    print(f"first reply text after Enter (ms): {[round(d) for d in delays]}")
    # The bar: first reply text visible <= 300 ms after Enter with the offline model.
    # The best of three, so one hiccup of a loaded machine does not decide it.
    assert min(delays) <= 300, delays
    assert statistics.median(delays) <= 1000, delays

    # Steps in plain words, raw calls only behind the developer toggle.
    steps = page.get_by_test_id("stExpander").filter(has_text="catalog look-up").first
    steps.click()
    expect(steps.get_by_text("Looked up").first).to_be_visible()
    expect(page.get_by_text('"product_id"')).to_have_count(0)
    shot(page, "streamed")
    assert idle_frames(page) == 0


def test_a_refused_table_edit_reverts_with_a_message_and_no_rerun_loop(
    page: Any, app: tuple[str, str]
) -> None:
    from playwright.sync_api import expect

    send(page, "Ernst Handel: 20 tofu, 3 ikura", "Draft for Ernst Handel")
    before = draft_quantities(app[1])
    edit_quantity(page, 0, "20000")
    expect(page.get_by_text("Not changed").first).to_be_visible(timeout=30_000)
    settle(page)
    shot(page, "refused-edit")
    assert draft_quantities(app[1]) == before
    assert idle_frames(page) == 0  # the refused edit does not rerun the page again and again

    edit_quantity(page, 0, "2.5")
    expect(page.get_by_text("not a whole number").first).to_be_visible(timeout=30_000)
    settle(page)
    assert draft_quantities(app[1]) == before

    edit_quantity(page, 0, "25")
    expect(page.get_by_text("Not changed")).to_have_count(0, timeout=30_000)
    settle(page)
    assert sorted(draft_quantities(app[1])) == sorted([25, before[1]])
    shot(page, "edited")


def test_a_reload_keeps_the_conversation_and_the_sidebar_lists_it(page: Any) -> None:
    from playwright.sync_api import expect

    send(page, ORDER, "Draft for Alfreds Futterkiste")
    url = page.url
    assert "c=ui-" in url and "k=" in url
    page.reload()
    expect(page.get_by_text(ORDER).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Total: $368.25").first).to_be_visible(timeout=30_000)
    settle(page)
    shot(page, "reloaded")

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="New conversation").click()
    expect(page.get_by_text("Try an example").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Open drafts").first).to_be_visible()
    settle(page)
    assert page.url != url
    shot(page, "first-page")
    sidebar.get_by_role("button", name=ORDER).click()
    expect(page.get_by_text("Total: $368.25").first).to_be_visible(timeout=30_000)
    settle(page)
    assert page.url == url


def test_an_example_pill_starts_an_order(page: Any) -> None:
    from playwright.sync_api import expect

    pills = page.get_by_test_id("stButtonGroup").get_by_role("radio")
    expect(pills.first).to_be_visible(timeout=30_000)
    assert pills.count() == 3, pills.all_inner_texts()
    example = pills.first.inner_text()
    pills.first.click()
    expect(page.get_by_role("heading", name="Draft for")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(example).first).to_be_visible()
    settle(page)
    shot(page, "example")


def test_a_flagged_line_is_highlighted_and_blocks_confirm(page: Any) -> None:
    from playwright.sync_api import expect

    send(page, "Ernst Handel: 4 chai and 3 ikura", "1 needs attention")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_be_disabled()
    expect(page.get_by_text("Cannot confirm yet").first).to_be_visible()
    expect(page.get_by_text("Chai: 4 asked, discontinued").first).to_be_visible()
    shot(page, "flagged")
