"""The only `st.cache_resource` factories: process-wide clients shared by every session.

Each wraps the package's own factory, so Streamlit and the rest of the product hold the
very same objects. Nothing user-specific (threads, drafts, customers, keys) is cached
here; per-browser state lives in `st.session_state`.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from config import Settings, get_settings
from db.engine import get_db_engine


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner="Opening the database…")
def db_engine() -> Engine:
    return get_db_engine()
