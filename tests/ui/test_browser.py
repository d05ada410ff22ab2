"""One real-browser smoke test: headless Chromium takes an order through the running app.

Starts `streamlit run app.py` on a free loopback port over a freshly seeded store, then
drives Debian's Chromium with Playwright: type an order, see the draft; give the draft an
open item (as the desk does for a phrase it could not place) and see Confirm disabled
with the question beside it; answer it, click Confirm, see the order id. Screenshots of
the blocked draft and the confirmed order are saved in the test's tmp dir.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from config import PROJECT_ROOT
from db.engine import init_schema
from db.models import Order
from db.seed import seed

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, str, Any]:
    """`streamlit run app.py` on a free port over a freshly seeded SQLite store in
    `tmp_path`: (server, its address, the store's URL, its log file)."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = create_engine(url)
    init_schema(engine)
    seed(engine=engine)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "ORDERDESK_ENV_FILE": "",
    }
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            # No reloading of modules another process edits while the test runs.
            "--server.fileWatcherType",
            "none",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for(f"http://127.0.0.1:{port}/_stcore/health", server, tmp_path / "streamlit.log")
    return server, f"http://127.0.0.1:{port}", url, log


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    server, address, url, log = start_app(tmp_path)
    try:
        yield address, url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def wait_for(health: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not start within 60 s:\n{log.read_text()[-2000:]}")


def ask(page: Any, message: str, answer: str) -> None:
    """Send a chat message and wait for `answer` in the reply: the page runs again."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(message)
    box.press("Enter")
    expect_visible(page.get_by_text(answer).last)


def expect_visible(locator: Any) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=60_000)


def test_take_an_order_in_a_real_browser(running_app: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    address, database_url = running_app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(address, timeout=60_000)
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=60_000)
        # A product the catalog does not have is named and blocks Confirm, with the reason.
        box.fill("Alfreds Futterkiste wants 12 Queso Cabrales, 5 tofu and 3 blue widgets")
        box.press("Enter")
        expect(page.get_by_text("Total: $368.25").first).to_be_visible(timeout=60_000)
        confirm = page.get_by_role("button", name="Confirm")
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
        page.get_by_role("button", name="Confirm").click()
        confirmed = page.get_by_text("confirmed for Alfreds Futterkiste").first
        expect(confirmed).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Confirm")).to_have_count(0, timeout=30_000)
        page.screenshot(path=str(tmp_path / "confirmed.png"), full_page=True)
        browser.close()

    engine = create_engine(database_url)
    with Session(engine) as session:
        orders = session.scalars(select(Order).where(Order.order_id > 11077)).all()
        assert [(o.customer_id, str(o.total)) for o in orders] == [("ALFKI", "368.25")]
    engine.dispose()
    assert (tmp_path / "confirmed.png").stat().st_size > 10_000
    assert (tmp_path / "needs_attention.png").stat().st_size > 10_000
