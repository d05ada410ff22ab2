"""The only `st.cache_resource` factories: process-wide clients shared by every session.

Each wraps the package's own factory, so Streamlit and the rest of the product hold the
very same objects. Nothing user-specific (threads, drafts, customers, keys) is cached
here; per-browser state lives in `st.session_state`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy import Engine

from agents.desk import OrderDesk
from config import Settings, get_settings
from db.engine import get_db_engine


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner="Opening the database…")
def db_engine() -> Engine:
    return get_db_engine()


@st.cache_resource(show_spinner="Connecting to Chroma…")
def chroma_client() -> Any:
    from rag.chroma import get_chroma_client

    return get_chroma_client()


@st.cache_resource(show_spinner="Loading the embedding model…")
def embedder() -> Any:
    from rag.embeddings import get_embedder

    return get_embedder()


@st.cache_resource(show_spinner="Starting the order desk…")
def desk() -> OrderDesk:
    db_engine()
    return OrderDesk.open()
