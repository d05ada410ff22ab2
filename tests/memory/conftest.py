"""Fixtures for memory tests: the real embedding model (once per session) and real Chroma.

Each test gets a memories collection of its own (unique name) on the session's in-memory
Chroma client, created the way the rest of the suite creates it, so no test sees another's
memories and nothing is written under var/chroma.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from chromadb.api import ClientAPI

from memory.store import MemoryStore, open_memory_store
from rag.embeddings import MiniLMEmbeddingFunction


@pytest.fixture
def store(chroma_client: ClientAPI, embedder: MiniLMEmbeddingFunction) -> Iterator[MemoryStore]:
    """An empty memory store of this test's own."""
    name = f"memories_{uuid.uuid4().hex[:8]}"
    yield open_memory_store(chroma_client, embedder=embedder, name=name)
    chroma_client.delete_collection(name)
