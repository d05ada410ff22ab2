"""The process's one Chroma client, chosen by Settings, and a health check that never raises.

`CHROMA_HOST` set → `HttpClient` (several app processes share one Chroma server);
otherwise a `PersistentClient` under `CHROMA_PATH`. Tests build an `EphemeralClient`
with `create_chroma_client(..., ephemeral=True)`. Telemetry is off: the product runs
offline. `health_check()` reports whether Chroma answers, and each collection's count,
so the app can start and warn when the vector store is down.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

import rag.embeddings  # noqa: F401 - registers the embedding function collections name
from config import Settings, get_settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_client: ClientAPI | None = None


def chroma_mode(settings: Settings) -> str:
    """`http` when a Chroma server is configured, else `persistent`."""
    return "http" if settings.chroma_host else "persistent"


def chroma_location(settings: Settings) -> str:
    """Where the store lives, for logs and the UI."""
    if settings.chroma_host:
        scheme = "https" if settings.chroma_ssl else "http"
        return f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
    return str(settings.chroma_path)


def create_chroma_client(settings: Settings, *, ephemeral: bool = False) -> ClientAPI:
    """A new client for `settings` (raises if a configured server cannot be reached)."""
    if ephemeral:
        # Chroma keeps one in-memory system per process and refuses a second one with
        # other settings, so this must match a plain `chromadb.EphemeralClient()`.
        return chromadb.EphemeralClient()
    options = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            settings=options,
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=options)


def get_chroma_client() -> ClientAPI:
    """The process-wide client, created on first successful call (thread-safe)."""
    global _client
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            _client = create_chroma_client(get_settings())
            log.info("chroma client ready at %s", chroma_location(get_settings()))
        return _client


def reset_chroma_client() -> None:
    """Forget the process-wide client (tests, or after the settings changed)."""
    global _client
    with _lock:
        _client = None


def health_check(client: ClientAPI | None = None) -> dict[str, Any]:
    """Whether Chroma answers, and how many records each collection holds. Never raises."""
    settings = get_settings()
    report: dict[str, Any] = {
        "reachable": False,
        "mode": chroma_mode(settings) if client is None else "given",
        "location": chroma_location(settings),
        "collections": {},
        "error": None,
    }
    try:
        client = client or get_chroma_client()
        client.heartbeat()
        report["collections"] = {c.name: c.count() for c in client.list_collections()}
        report["reachable"] = True
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable", reported
        report["error"] = f"{type(error).__name__}: {error}"
        log.warning("chroma unavailable at %s: %s", report["location"], report["error"])
    return report
