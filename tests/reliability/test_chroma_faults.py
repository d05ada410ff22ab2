"""Chroma unavailable, for real: the desk, the HTTP API and the UI keep taking orders.

Four real ways to lose the vector store: CHROMA_PATH under a regular file, CHROMA_PATH
that is itself a file (the tests run as root, so a chmod would not stop them), a real
`chroma run` server stopped under the running app, and one frozen with SIGSTOP (its
port still accepts connections, nothing answers: only CHROMA_TIMEOUT_S ends the wait).
In each case the app starts from the environment (offline model), /api/health names
chroma as the part down (degraded or 503) while the database is fine, search answers by
spelling with `degraded` set, and a chat turn drafts an order that approve confirms. The
Streamlit app shows Chroma down and takes the same order.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api import create_app
from config import get_settings
from db.engine import create_db_engine, init_schema
from db.models import Order, Product
from db.seed import seed
from memory.store import FailFastCollection, MemoryStore, MemoryUnavailable, get_memories_collection
from rag.chroma import create_chroma_client, health_check
from rag.embeddings import MiniLMEmbeddingFunction
from tests.chroma_server import start_chroma_server
from tests.ui.test_pages import app, click, orders_placed, say, table

KEY = "chroma-faults-key-0123456789"
QUESO, QUESO_STOCK = 11, 22
ORDER = "Alfreds Futterkiste wants 12 Queso Cabrales"
TIMEOUT_S = 1.0  # CHROMA_TIMEOUT_S in these tests


@dataclass
class ChromaFault:
    mode: str  # what the health report calls the client: persistent or http
    up_at_start: bool  # Chroma works until `cause()` is called
    error: str  # what the health report's error says
    cause: Callable[[], None]  # takes Chroma away (nothing to do when it never worked)


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    monkeypatch.setenv("API_KEYS", KEY)
    monkeypatch.setenv("CHROMA_TIMEOUT_S", str(TIMEOUT_S))
    _forget_clients()
    yield
    _forget_clients()


def _forget_clients() -> None:
    st.cache_resource.clear()  # the app's cached services, closed
    get_settings.cache_clear()


@pytest.fixture(params=["path_under_a_file", "path_is_a_file", "server_stopped", "server_frozen"])
def chroma_fault(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ChromaFault]:
    """The environment for one way of losing Chroma; `cause()` makes it happen."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    if request.param == "path_under_a_file":
        monkeypatch.setenv("CHROMA_PATH", str(blocker / "chroma"))
        yield ChromaFault("persistent", False, "is not a usable directory (Not a directory)", noop)
        return
    if request.param == "path_is_a_file":
        monkeypatch.setenv("CHROMA_PATH", str(blocker))
        yield ChromaFault("persistent", False, "is not a usable directory (File exists)", noop)
        return
    server = start_chroma_server(tmp_path / "chroma-server")
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(server.port))
    try:
        if request.param == "server_stopped":
            yield ChromaFault("http", True, "ConnectError", server.stop)
        else:
            yield ChromaFault("http", True, f"no answer within {TIMEOUT_S:g} s", server.pause)
    finally:
        server.stop()


def noop() -> None:
    pass


@pytest.fixture
def sqlite_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A seeded SQLite store, DATABASE_URL for the app: the test's engine on it."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'orders.db'}")
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    init_schema(engine)
    seed(engine=engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_sqlite(sqlite_engine: Engine) -> str:
    return get_settings().database_url


@pytest.fixture
def store(chroma_fault: ChromaFault, request: pytest.FixtureRequest) -> Engine:
    """A seeded store as deployed beside this Chroma: an embedded store on SQLite, a Chroma
    server with PostgreSQL (several app processes share both)."""
    if chroma_fault.mode == "persistent":
        return request.getfixturevalue("sqlite_engine")
    engine: Engine = request.getfixturevalue("pg_engine")
    seed(engine=engine)
    return engine


def queso_stock(engine: Engine) -> int:
    with Session(engine) as session:
        product = session.get(Product, QUESO)
        assert product is not None
        return product.units_in_stock


def order_exists(engine: Engine, order_id: int) -> bool:
    with Session(engine) as session:
        return session.get(Order, order_id) is not None


def assert_chroma_down(health: Any, fault: ChromaFault) -> None:
    body = health.json()
    # Orders can still be taken, so the API may call this "degraded" (200) rather than
    # "unavailable" (503); never "ok", and chroma is the one part named.
    expected = {"degraded": 200, "unavailable": 503}
    assert health.status_code == expected.get(body["status"]), health.text
    assert body["failing"] == ["chroma"]
    assert body["chroma"]["ok"] is False and body["chroma"]["mode"] == fault.mode
    assert fault.error in body["chroma"]["error"]
    assert body["database"]["ok"] is True and body["embedder"]["ok"] is True


# --- the HTTP API (and the desk it opens) ---------------------------------------------


def test_the_api_starts_and_takes_an_order_without_chroma(
    chroma_fault: ChromaFault, store: Engine
) -> None:
    engine = store
    # No desk given: the lifespan runs build_services() from the environment, catalog
    # sync included, as `uvicorn api:app` does.
    with TestClient(create_app(), headers={"X-API-Key": KEY}) as client:
        if chroma_fault.up_at_start:
            assert client.get("/api/health").status_code == 200
            found = client.get("/api/search", params={"q": "mozarella"}).json()
            assert found["degraded"] is False
        chroma_fault.cause()

        assert_chroma_down(client.get("/api/health"), chroma_fault)

        found = client.get("/api/search", params={"q": "mozarella"})
        assert found.status_code == 200, found.text
        assert found.json()["degraded"] is True
        assert found.json()["candidates"][0]["product_id"] == 72  # Mozzarella di Giovanni

        thread_id = f"chroma-{uuid.uuid4().hex[:10]}"
        turn = client.post("/api/chat", json={"thread_id": thread_id, "message": ORDER})
        assert turn.status_code == 200, turn.text
        drafted = turn.json()
        assert drafted["error"] is None and drafted["draft"]["customer_id"] == "ALFKI"
        assert [(line["product_id"], line["quantity"]) for line in drafted["draft"]["lines"]] == [
            (QUESO, 12)
        ]
        assert queso_stock(engine) == QUESO_STOCK  # a draft reserves nothing

        done = client.post(f"/api/chat/{thread_id}/approve")
        assert done.status_code == 200, done.text
        order_id = done.json()["order_id"]
        assert order_id is not None, done.json()

    assert order_exists(engine, order_id)
    assert queso_stock(engine) == QUESO_STOCK - 12


# --- the Streamlit app ----------------------------------------------------------------


def test_the_ui_shows_chroma_down_and_takes_an_order(
    chroma_fault: ChromaFault, seeded_sqlite: str
) -> None:
    at = app()
    assert not at.exception, at.exception
    if chroma_fault.up_at_start:
        assert any("🟢 Chroma up" in m.value for m in at.sidebar.markdown)
    chroma_fault.cause()
    at.run()

    assert not at.exception, at.exception
    health = [m.value for m in at.sidebar.markdown]
    assert "🔴 Chroma unavailable: search uses spelling only" in health, health
    assert "🟢 database up" in health, health

    say(at, ORDER)
    assert table(at) == {QUESO: 12}
    click(at, "Confirm")
    assert at.success and "confirmed" in at.success[0].value
    assert orders_placed(seeded_sqlite) == 1


# --- a server that accepts connections and never answers ------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose connections the kernel accepts; nobody ever reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_health_check_gives_up_on_a_server_that_never_answers(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(silent_port))
    get_settings.cache_clear()
    reports: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: reports.append(health_check()), daemon=True)

    worker.start()
    worker.join(timeout=TIMEOUT_S + 10)  # without a timeout it would wait forever

    assert not worker.is_alive(), "health_check still waiting on a silent Chroma server"
    (report,) = reports
    assert report["reachable"] is False and report["mode"] == "http"
    assert f"no answer within {TIMEOUT_S:g} s (CHROMA_TIMEOUT_S)" in report["error"]


def test_memory_fails_fast_while_chroma_is_frozen_then_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: MiniLMEmbeddingFunction
) -> None:
    """One timeout, not one per call: later memory calls refuse at once, until the retry."""
    server = start_chroma_server(tmp_path / "chroma")
    try:
        monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("CHROMA_PORT", str(server.port))
        get_settings.cache_clear()
        client = create_chroma_client(get_settings())
        collection = get_memories_collection(client, embedder=embedder)
        memory = MemoryStore(FailFastCollection(collection, retry_after_s=3), embedder=embedder)
        memory.add("ALFKI", "Always wants the 1 kg packs.", "preference")

        server.pause()
        with pytest.raises(Exception) as first:  # the real timeout, from httpx
            memory.recall("ALFKI", "pack sizes")
        assert not isinstance(first.value, MemoryUnavailable)
        with pytest.raises(MemoryUnavailable):  # no second wait on the frozen server
            memory.recall("ALFKI", "pack sizes")
        with pytest.raises(MemoryUnavailable):
            memory.add("ALFKI", "Pays on delivery.", "note")

        server.process.send_signal(signal.SIGCONT)
        time.sleep(3.2)  # the retry window (a behaviour under test, not a speed goal)
        assert [m.text for m in memory.recall("ALFKI", "pack sizes")] == [
            "Always wants the 1 kg packs."
        ]
    finally:
        server.stop()
