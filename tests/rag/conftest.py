"""Fixtures for rag tests: the real embedding model (once per session), real Chroma, catalogs.

Chroma collections are in-memory (`EphemeralClient`) and named per test, or per session
for the two seeded catalogs: products keep Northwind's and Superstore's own ids on every
backend, so one embedded index serves the SQLite and the PostgreSQL runs alike (the
second backend's sync finds it up to date). `chroma_server` starts a real `chroma run`
on a free loopback port for the HttpClient tests.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine

from db.seed import seed
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.chroma import reset_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction
from rag.search import CatalogSearch, reset_catalog_search

CASES = Path(__file__).with_name("cases.jsonl")


@pytest.fixture
def collection(chroma_client: ClientAPI, embedder: MiniLMEmbeddingFunction) -> Iterator[Collection]:
    """An empty catalog collection of this test's own."""
    name = f"catalog_{uuid.uuid4().hex[:8]}"
    yield get_catalog_collection(chroma_client, embedder=embedder, name=name)
    chroma_client.delete_collection(name)


@pytest.fixture(autouse=True)
def _fresh_rag_singletons() -> Iterator[None]:
    reset_chroma_client()
    reset_catalog_search()
    yield
    reset_chroma_client()
    reset_catalog_search()


@pytest.fixture(scope="session")
def catalog_collections(
    chroma_client: ClientAPI, embedder: MiniLMEmbeddingFunction
) -> dict[str, Collection]:
    """One shared index per demo catalog, filled by the first test that seeds it."""
    return {
        name: get_catalog_collection(chroma_client, embedder=embedder, name=f"shared_{name}")
        for name in ("northwind", "superstore")
    }


def seeded_search(
    engine: Engine,
    catalog: str,
    collections: dict[str, Collection],
    embedder: MiniLMEmbeddingFunction,
) -> CatalogSearch:
    seed(engine=engine, catalog=catalog)  # type: ignore[arg-type]
    sync_catalog(engine=engine, collection=collections[catalog], embedder=embedder)
    return CatalogSearch(engine=engine, collection=collections[catalog], embedder=embedder)


@pytest.fixture
def northwind(
    engine: Engine,
    catalog_collections: dict[str, Collection],
    embedder: MiniLMEmbeddingFunction,
) -> CatalogSearch:
    return seeded_search(engine, "northwind", catalog_collections, embedder)


@pytest.fixture
def superstore(
    engine: Engine,
    catalog_collections: dict[str, Collection],
    embedder: MiniLMEmbeddingFunction,
) -> CatalogSearch:
    return seeded_search(engine, "superstore", catalog_collections, embedder)


def load_cases() -> list[dict[str, object]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server (`chroma run`) on a free loopback port; yields the port."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = tmp_path_factory.mktemp("chroma_server") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(log.parent / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("chroma run did not start within 30 s")
