"""Chroma clients by settings, health_check that never raises, and collections that reopen."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config import get_settings
from db.seed import seed
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.chroma import get_chroma_client, health_check
from rag.embeddings import MiniLMEmbeddingFunction
from rag.search import search_catalog
from tests.chroma_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _use_server(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    get_settings.cache_clear()


def test_persistent_client_by_default_once_per_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    client = get_chroma_client()
    assert client is get_chroma_client()
    client.create_collection("notes").add(ids=["1"], embeddings=[[0.1, 0.2]])
    report = health_check()
    assert report["reachable"] is True and report["mode"] == "persistent"
    assert report["collections"] == {"notes": 1}
    assert (tmp_path / "chroma" / "chroma.sqlite3").exists()


def test_http_client_against_a_real_server(
    monkeypatch: pytest.MonkeyPatch, chroma_server: int, embedder: MiniLMEmbeddingFunction
) -> None:
    _use_server(monkeypatch, chroma_server)
    client = get_chroma_client()
    name = "http_check"
    collection = get_catalog_collection(client, embedder=embedder, name=name)
    try:
        collection.upsert(ids=["72", "4"], documents=["Mozzarella di Giovanni", "Cajun Seasoning"])
        found = collection.query(query_texts=["mozarella cheese"], n_results=1)
        assert found["ids"] == [["72"]]
        report = health_check()
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
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    seed(engine=engine, catalog="northwind")
    _use_server(monkeypatch, free_port())
    result = search_catalog("mozarella")
    assert result.degraded is True
    assert result.best is not None and result.best.product_id == 72
    assert search_catalog("louisiana hot").ambiguous is True
    assert search_catalog("laptop").no_match is True


def test_collection_reopens_in_a_new_process_with_its_embedding_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: Engine
) -> None:
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    seed(engine=engine, catalog="northwind")
    sync_catalog(engine=engine, collection=get_catalog_collection(get_chroma_client()))
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


def test_process_wide_search_is_created_once_across_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: Engine
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from rag.search import get_catalog_search

    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    seed(engine=engine, catalog="northwind")
    with ThreadPoolExecutor(8) as pool:
        instances = list(pool.map(lambda _: get_catalog_search(), range(32)))
    assert len({id(instance) for instance in instances}) == 1
    assert search_catalog("tofu").best.product_id == 14  # type: ignore[union-attr]
