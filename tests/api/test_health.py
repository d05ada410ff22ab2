"""GET /api/health: each part; degraded (200) or unavailable (503) naming what is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import chromadb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agents.desk import OrderDesk
from api import create_app
from config import Settings, get_settings
from db.engine import create_db_engine, init_schema
from tests.agents.conftest import open_desk
from tests.api.conftest import KEY, OTHER_KEY, _private_pg_database


def test_all_parts_up_is_200_without_a_key(anonymous: TestClient, store: Engine) -> None:
    response = anonymous.get("/api/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["failing"], body["auth"]) == ("ok", [], "keys")
    assert body["database"]["ok"] and body["database"]["backend"] == store.dialect.name
    assert "Pool size" in body["database"]["pool"]
    assert body["chroma"]["ok"] and body["chroma"]["error"] is None
    catalogs = {n: c for n, c in body["chroma"]["collections"].items() if n.startswith("catalog_")}
    assert 77 in catalogs.values()  # this module's synced Northwind catalog
    assert body["embedder"] == {"ok": True, "model": "all-MiniLM-L6-v2-onnx-int8", "error": None}
    assert body["model"] == {"ok": True, "provider": "offline", "model": "offline"}


def test_no_secret_in_the_report(
    api_desk: OrderDesk, monkeypatch: pytest.MonkeyPatch, store_settings: Settings
) -> None:
    monkeypatch.setenv("API_KEYS", f"{KEY},{OTHER_KEY}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-show-0123456789")
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    get_settings.cache_clear()
    with TestClient(create_app(api_desk, chroma=chromadb.EphemeralClient())) as client:
        text_ = client.get("/api/health").text
    database = store_settings.database_url.rsplit("/", 1)[-1]
    for secret in (KEY, OTHER_KEY, "sk-do-not-show", store_settings.database_url, database):
        assert secret not in text_


@pytest.fixture
def dead_chroma(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """CHROMA_HOST pointing at a loopback port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    get_settings.cache_clear()
    yield


def test_chroma_down_is_degraded_naming_chroma(
    api_desk: OrderDesk, api_keys: list[str], dead_chroma: None
) -> None:
    with TestClient(create_app(api_desk)) as client:  # a connection from settings
        response = client.get("/api/health")
    assert response.status_code == 200  # orders are still taken: stay in rotation
    body = response.json()
    assert (body["status"], body["failing"]) == ("degraded", ["chroma"])
    assert body["chroma"]["ok"] is False and body["chroma"]["mode"] == "http"
    assert body["chroma"]["error"]
    assert body["database"]["ok"] and body["embedder"]["ok"]


def test_database_down_is_503_naming_the_database(pg_server_url: str, api_keys: list[str]) -> None:
    # A desk on a PostgreSQL database of its own, which is then dropped under it.
    url, drop = _private_pg_database(pg_server_url)
    settings = Settings(_env_file=None, database_url=url, llm_provider="offline")  # type: ignore[call-arg]
    engine = create_db_engine(settings)
    init_schema(engine)
    desk = open_desk(engine)
    try:
        with TestClient(create_app(desk, chroma=chromadb.EphemeralClient())) as client:
            assert client.get("/api/health").status_code == 200
            drop()
            response = client.get("/api/health")
    finally:
        desk.close()
        engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failing"]) == ("unavailable", ["database"])
    assert body["database"]["ok"] is False and "OperationalError" in body["database"]["error"]
    assert url not in response.text
