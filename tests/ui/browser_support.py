"""What real-browser tests need: `streamlit run app.py` over a freshly seeded store, and
Debian's Chromium driven by Playwright.

`served_app(tmp_path)` starts the app on a free loopback port over a new SQLite file
seeded with Northwind (Chroma on disk beside it) and yields (address, database URL);
`chromium_page(playwright)` opens a page in headless Chromium. Tests skip where there is
no Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from config import PROJECT_ROOT
from db.engine import init_schema
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
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_app(tmp_path: Path, **env: str) -> Iterator[tuple[str, str]]:
    """The app on a seeded store: (its address, the store's URL); stopped afterwards."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = create_engine(url)
    init_schema(engine)
    seed(engine=engine)
    engine.dispose()
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "ORDERDESK_ENV_FILE": "",
        **env,
    }
    log_path = tmp_path / "streamlit.log"
    with log_path.open("w") as log:
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
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/_stcore/health", server, log_path)
            yield f"http://127.0.0.1:{port}", url
        finally:
            server.terminate()
            server.wait(timeout=20)


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


def chromium_page(playwright: Any, *, width: int = 1400, height: int = 1000) -> tuple[Any, Any]:
    """(browser, page) in headless Chromium; close the browser when done."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    return browser, browser.new_page(viewport={"width": width, "height": height})


def expect_visible(locator: Any, timeout_ms: int = 60_000) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=timeout_ms)
