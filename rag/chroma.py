"""The Chroma client chosen by Settings, a connection that waits for it, and a health check.

`CHROMA_HOST` set → `HttpClient` (several app processes share one Chroma server);
otherwise a `PersistentClient` under `CHROMA_PATH`. Tests build an `EphemeralClient`
with `create_chroma_client(..., ephemeral=True)`. Telemetry is off: the product runs
offline. The composition root (`bootstrap.build_services`) holds one `ChromaConnection`:
the client once Chroma answered, a new attempt on each use while it has not, so a process
started with Chroma down picks it up when it returns. `health_check()` reports whether
Chroma answers, and each collection's count, so the app can start and warn when the
vector store is down.

chromadb's HttpClient has no timeout option (1.5.9 builds its session with
`httpx.Client(timeout=None)` and already calls the server in its constructor), so a
server that accepts connections and never answers would hang the health check and every
turn. Every request to a Chroma server is therefore bounded by `CHROMA_TIMEOUT_S`: the
server's heartbeat is probed with that timeout before the client is built, and the
client's own session gets the same timeout.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.fastapi import FastAPI as ChromaHttpAPI
from chromadb.config import Settings as ChromaSettings

import rag.embeddings  # noqa: F401 - registers the embedding function collections name
from config import Settings, get_settings

log = logging.getLogger(__name__)


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
        return _http_client(settings, options)
    try:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # e.g. a file where the directory should be: say which setting
        message = f"CHROMA_PATH {settings.chroma_path} is not a usable directory"
        raise type(error)(f"{message} ({error.strerror or error})") from error
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=options)


def _http_client(settings: Settings, options: ChromaSettings) -> ClientAPI:
    """An HttpClient whose every request gives up after CHROMA_TIMEOUT_S."""
    url = ChromaHttpAPI.resolve_url(
        chroma_server_host=settings.chroma_host or "",
        chroma_server_http_port=settings.chroma_port,
        chroma_server_ssl_enabled=settings.chroma_ssl,
        default_api_path=options.chroma_server_api_default_path,
    )
    try:  # the constructor calls the server with no timeout: make sure it answers first
        httpx.get(f"{url}/heartbeat", timeout=settings.chroma_timeout_s).raise_for_status()
    except httpx.TimeoutException as error:
        raise TimeoutError(_no_answer(settings)) from error
    client = chromadb.HttpClient(
        host=settings.chroma_host or "",
        port=settings.chroma_port,
        ssl=settings.chroma_ssl,
        settings=options,
    )
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(settings.chroma_timeout_s)
    else:  # a chromadb upgrade moved it: say so rather than hang silently later
        log.warning("cannot bound Chroma HTTP requests: chromadb has no httpx session here")
    return client


class ChromaConnection:
    """One composition root's way to Chroma: the client once made, a new attempt until then.

    `connect()` returns the client, making it on first success (thread-safe); while Chroma
    cannot be reached each call tries again and raises why not. A given `client` (a
    test's EphemeralClient, a caller's own) is used as it is, and reported as "given".
    """

    def __init__(self, settings: Settings, *, client: ClientAPI | None = None) -> None:
        self.settings = settings
        self.given = client is not None
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> ClientAPI | None:
        """The client, if one was made already (None: Chroma has not answered yet)."""
        return self._client

    @property
    def mode(self) -> str:
        """`given`, `http` or `persistent`: for logs and the health report."""
        return "given" if self.given else chroma_mode(self.settings)

    def connect(self) -> ClientAPI:
        """The client, made now if it was not yet (raises when Chroma cannot be reached)."""
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = create_chroma_client(self.settings)
                log.info("chroma client ready at %s", chroma_location(self.settings))
            return self._client


def health_check(source: ClientAPI | ChromaConnection | None = None) -> dict[str, Any]:
    """Whether Chroma answers, and how many records each collection holds. Never raises.

    `source` is a connection (a composition root's), a client (reported as "given"), or
    nothing: then one attempt with a new client from Settings.
    """
    if isinstance(source, ChromaConnection):
        connection = source
    elif source is not None:
        connection = ChromaConnection(get_settings(), client=source)
    else:
        connection = ChromaConnection(get_settings())
    settings = connection.settings
    report: dict[str, Any] = {
        "reachable": False,
        "mode": connection.mode,
        "location": chroma_location(settings),
        "collections": {},
        "error": None,
    }
    try:
        client = connection.connect()
        client.heartbeat()
        report["collections"] = {c.name: c.count() for c in client.list_collections()}
        report["reachable"] = True
    except httpx.TimeoutException as error:
        report["error"] = f"{type(error).__name__}: {_no_answer(settings)}"
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable", reported
        report["error"] = f"{type(error).__name__}: {error}"
    if report["error"]:
        log.warning("chroma unavailable at %s: %s", report["location"], report["error"])
    return report


def _no_answer(settings: Settings) -> str:
    return (
        f"Chroma at {chroma_location(settings)} gave no answer within "
        f"{settings.chroma_timeout_s:g} s (CHROMA_TIMEOUT_S)"
    )
