"""Chroma clients by settings, a connection that waits for Chroma, health_check that never
raises, search that falls back to spelling, and collections that reopen."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bootstrap import build_services
from config import get_settings, load_settings
from db.seed import seed
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.chroma import ChromaConnection, create_chroma_client, health_check
from rag.embeddings import MiniLMEmbeddingFunction
from tests.chroma_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _use_server(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    get_settings.cache_clear()


def test_persistent_client_by_default_kept_by_its_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    connection = ChromaConnection(get_settings())
    assert connection.client is None  # nothing made until it is needed
    client = connection.connect()
    assert connection.connect() is client and connection.client is client
    client.create_collection("notes").add(ids=["1"], embeddings=[[0.1, 0.2]])
    report = health_check(connection)
    assert report["reachable"] is True and report["mode"] == "persistent"
    assert report["collections"] == {"notes": 1}
    assert (tmp_path / "chroma" / "chroma.sqlite3").exists()


def test_a_connection_to_an_unusable_store_raises_until_it_is_usable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    connection = ChromaConnection(load_settings(chroma_path=blocker))
    for _ in range(2):  # each use tries again, and says why it cannot
        with pytest.raises(OSError, match="is not a usable directory"):
            connection.connect()
        assert connection.client is None
    assert health_check(connection)["error"]
    blocker.unlink()  # the store is back
    assert connection.connect() is connection.client is not None
    assert health_check(connection)["reachable"] is True


def test_a_given_client_is_reported_as_given(chroma_client: object) -> None:
    connection = ChromaConnection(get_settings(), client=chroma_client)  # type: ignore[arg-type]
    assert connection.connect() is chroma_client
    assert health_check(connection)["mode"] == "given"
    assert health_check(chroma_client)["mode"] == "given"  # type: ignore[arg-type]


def test_http_client_against_a_real_server(
    monkeypatch: pytest.MonkeyPatch, chroma_server: int, embedder: MiniLMEmbeddingFunction
) -> None:
    _use_server(monkeypatch, chroma_server)
    connection = ChromaConnection(get_settings())
    client = connection.connect()
    name = "http_check"
    collection = get_catalog_collection(client, embedder=embedder, name=name)
    try:
        collection.upsert(ids=["72", "4"], documents=["Mozzarella di Giovanni", "Cajun Seasoning"])
        found = collection.query(query_texts=["mozarella cheese"], n_results=1)
        assert found["ids"] == [["72"]]
        report = health_check(connection)
        assert report["reachable"] is True and report["mode"] == "http"
        assert report["collections"][name] == 2
        assert report["location"] == f"http://127.0.0.1:{chroma_server}"
    finally:
        client.delete_collection(name)


def test_health_check_reports_an_unreachable_server_without_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_server(monkeypatch, free_port())  # nothing listens there
    report = health_check()
    assert report["reachable"] is False
    assert report["collections"] == {}
    assert report["error"]


def test_search_answers_lexically_when_chroma_is_down(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    embedder: MiniLMEmbeddingFunction,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed(engine=engine, catalog="northwind")
    _use_server(monkeypatch, free_port())
    services = build_services(get_settings(), engine=engine, embedder=embedder)
    try:
        search = services.catalog.search
        result = search("mozarella")
        assert result.degraded is True
        assert result.best is not None and result.best.product_id == 72
        assert search("louisiana hot").ambiguous is True
        assert search("laptop").no_match is True
        assert services.chroma is None and services.memory is None
    finally:
        services.close()
    said = caplog.text  # each fallback says so
    assert "catalog index not synced (Chroma unavailable?)" in said
    assert "customer memory unavailable (Chroma down?)" in said
    assert "catalog search without vectors (Chroma unavailable)" in said


def test_collection_reopens_in_a_new_process_with_its_embedding_function(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine: Engine,
    embedder: MiniLMEmbeddingFunction,
) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    seed(engine=engine, catalog="northwind")
    client = create_chroma_client(get_settings())
    sync_catalog(
        engine=engine,
        collection=get_catalog_collection(client, embedder=embedder),
        embedder=embedder,
    )
    script = textwrap.dedent(
        f"""
        import chromadb
        import rag.embeddings  # registers the embedding function by name
        client = chromadb.PersistentClient(path={str(tmp_path / "chroma")!r})
        collection = client.get_collection("catalog")  # no embedding function passed
        # Chroma 1.5 rebuilds the function from the stored config through its registry;
        # `_embedding_function` stays a placeholder, `configuration` holds the real one.
        print(type(collection.configuration["embedding_function"]).__name__)
        print(collection.query(query_texts=["cajun seasoning"], n_results=1)["ids"][0][0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["MiniLMEmbeddingFunction", "4"]
