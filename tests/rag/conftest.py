"""Fixtures for rag tests: the real embedding model (once per session), real Chroma, catalogs.

Chroma collections are in-memory (`EphemeralClient`) and named per test, or per session
for the two seeded catalogs: products keep Northwind's and Superstore's own ids on every
backend, so one embedded index serves the SQLite and the PostgreSQL runs alike (the
second backend's sync finds it up to date). `chroma_server` starts a real `chroma run`
on a free loopback port for the HttpClient tests (`tests/chroma_server.py`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from sqlalchemy import Engine

from db.seed import seed
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.embeddings import MiniLMEmbeddingFunction
from rag.search import CatalogSearch
from tests.chroma_server import start_chroma_server

CASES = Path(__file__).with_name("cases.jsonl")


@pytest.fixture
def collection(chroma_client: ClientAPI, embedder: MiniLMEmbeddingFunction) -> Iterator[Collection]:
    """An empty catalog collection of this test's own."""
    name = f"catalog_{uuid.uuid4().hex[:8]}"
    yield get_catalog_collection(chroma_client, embedder=embedder, name=name)
    chroma_client.delete_collection(name)


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


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server (`chroma run`) on a free loopback port; yields the port."""
    server = start_chroma_server(tmp_path_factory.mktemp("chroma_server"))
    try:
        yield server.port
    finally:
        server.stop()
