"""The only `st.cache_resource`: the process's services, shared by every session.

`services()` is the composition root's `build_services(get_settings())`, made once per
Streamlit process (each stage shown as a spinner the first time) and handed to every page;
the other functions here are the parts pages ask for by name. Nothing user-specific
(threads, drafts, customers, keys) is cached here; per-browser state lives in
`st.session_state`. A build that fails (the database is down) is not cached: the next
run tries again. Clearing the cache (`st.cache_resource.clear()`) closes the services.
"""

from __future__ import annotations

import streamlit as st

from bootstrap import Services, build_services
from config import Settings, get_settings
from memory.store import MemoryStore, MemoryUnavailable
from rag.chroma import ChromaConnection


def _close(built: Services) -> None:
    built.close()


@st.cache_resource(show_spinner=False, on_release=_close)
def services() -> Services:
    return build_services(get_settings(), step=st.spinner)


def settings() -> Settings:
    """The process's Settings (read by pages that must render while services are down)."""
    return get_settings()


def chroma() -> ChromaConnection | None:
    return services().chroma_connection


def memory_store() -> MemoryStore:
    """The customer memory store; MemoryUnavailable when Chroma could not be reached."""
    store = services().memory
    if store is None:
        raise MemoryUnavailable("Chroma could not be reached when the app started.")
    return store
