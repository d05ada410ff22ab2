"""What routes depend on, as `Annotated[..., Depends(...)]` aliases: settings, the desk
and the services it was built with, the caller (by API key) and the conversations that
caller owns.

Every route but `/api/health` needs an `X-API-Key` header matching one of `API_KEYS`;
with no keys configured the API refuses to start unless `API_AUTH_DISABLED=true` (a demo
mode, allowed on a loopback `API_HOST` only). A thread belongs to the key that first
used it: `OwnedThread` (a thread id in the path) and `OwnedChat` (one in the chat body)
claim it for the caller or answer 403, so no route checks ownership by hand.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated

from chromadb.api import ClientAPI
from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.security import APIKeyHeader

from agents.desk import OrderDesk
from agents.ownership import claim_thread, key_owner
from api.schemas import ChatIn, ThreadId
from bootstrap import Services
from config import ConfigError, Settings, get_settings
from rag.chroma import ChromaConnection

log = logging.getLogger(__name__)

DEMO_OWNER = "demo"  # owns every thread when auth is disabled (demo mode)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

SettingsDep = Annotated[Settings, Depends(get_settings)]


# --- the API keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """The accepted API keys (as bytes), or `disabled` for the explicit demo mode."""

    keys: tuple[bytes, ...]
    disabled: bool = False

    def accepts(self, presented: str | None) -> bool:
        return self.owner_of(presented) is not None

    def owner_of(self, presented: str | None) -> str | None:
        """The thread owner id of the presented key (None: not a key of ours)."""
        if self.disabled:
            return DEMO_OWNER
        if not presented:
            return None
        # Headers arrive decoded as latin-1: this recovers the bytes the client sent.
        candidate = presented.encode("latin-1", "replace")
        # Compare against every key, without stopping early, so timing tells nothing.
        matched: bytes | None = None
        for key in self.keys:
            if hmac.compare_digest(candidate, key):
                matched = key
        return key_owner(matched) if matched is not None else None


def check_auth(settings: Settings) -> KeyRing:
    """The API's auth policy from Settings; raises ConfigError rather than run open."""
    keys = tuple(key.get_secret_value().encode() for key in settings.api_keys)
    if not settings.api_auth_disabled:
        if not keys:
            raise ConfigError(
                "API_KEYS is not set: the HTTP API does not run without keys. Set "
                "API_KEYS=key1,key2 (16+ characters each), or API_AUTH_DISABLED=true for a "
                "local demo on a loopback API_HOST."
            )
        return KeyRing(keys)
    if keys:
        raise ConfigError("API_AUTH_DISABLED=true and API_KEYS are both set: choose one.")
    if settings.api_host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"API_AUTH_DISABLED=true needs a loopback API_HOST (127.0.0.1, localhost, ::1), "
            f"not {settings.api_host!r}."
        )
    return KeyRing((), disabled=True)


def key_ring(settings: Settings) -> KeyRing:
    """`check_auth`, saying so in the log when auth is off."""
    ring = check_auth(settings)
    if ring.disabled:
        log.warning("HTTP API auth is DISABLED (API_AUTH_DISABLED=true): demo mode, loopback only")
    return ring


api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="One of the keys in API_KEYS"
)


def require_key(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> str:
    """The caller's owner id from its key; 401 without a valid one."""
    owner = request.app.state.auth.owner_of(key)
    if owner is None:
        raise HTTPException(
            401, "Missing or invalid X-API-Key header.", headers={"WWW-Authenticate": "APIKey"}
        )
    return owner


Owner = Annotated[str, Depends(require_key)]


# --- the desk and the caller's threads ------------------------------------------------


def get_desk(request: Request) -> OrderDesk:
    return request.app.state.desk


def get_services(request: Request) -> Services | None:
    """What the lifespan built (None when a caller injected its own desk)."""
    return request.app.state.services


def get_chroma(request: Request) -> ChromaConnection | ClientAPI:
    """The Chroma whose health is reported: the services' connection, or a given client."""
    return request.app.state.chroma


DeskDep = Annotated[OrderDesk, Depends(get_desk)]
ServicesDep = Annotated[Services | None, Depends(get_services)]
ChromaDep = Annotated[ChromaConnection | ClientAPI, Depends(get_chroma)]


def claim(desk: OrderDesk, owner: str, thread_id: str) -> str:
    """`thread_id` if `owner` owns it (or it is new, and now theirs); 403 if another's."""
    if not claim_thread(desk.engine, thread_id, owner):
        raise HTTPException(
            403,
            f"Thread {thread_id!r} belongs to another API key: use your own thread_id.",
        )
    return thread_id


def owned_thread(desk: DeskDep, owner: Owner, thread_id: Annotated[ThreadId, Path()]) -> str:
    """The path's `thread_id`, claimed for the caller."""
    return claim(desk, owner, thread_id)


def owned_chat(desk: DeskDep, owner: Owner, body: ChatIn) -> ChatIn:
    """The chat body, its `thread_id` claimed for the caller."""
    claim(desk, owner, body.thread_id)
    return body


OwnedThread = Annotated[str, Depends(owned_thread)]
OwnedChat = Annotated[ChatIn, Depends(owned_chat)]
