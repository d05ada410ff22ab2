"""The Streamlit app's one cached resource: the services, built once per process however
many sessions ask at once, and closed when the cache lets them go."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import streamlit as st

from config import get_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from ui import resources


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A seeded SQLite store and a Chroma directory, as the app finds them in Settings."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    init_schema(engine)
    seed(engine=engine)
    engine.dispose()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_many_sessions_at_once_get_one_set_of_services(app_env: None) -> None:
    start = threading.Barrier(16)

    def first_page(_: int) -> int:
        start.wait()
        return id(resources.services())

    with ThreadPoolExecutor(max_workers=16) as pool:
        identities = set(pool.map(first_page, range(16)))
    assert len(identities) == 1
    services = resources.services()
    assert resources.memory_store() is services.memory is services.desk.memory
    assert resources.chroma() is services.chroma_connection

    relay = services.relay
    assert relay is not None and relay._thread is not None and relay._thread.is_alive()
    st.cache_resource.clear()  # the cache lets them go: closed
    assert not relay._thread.is_alive()
    assert resources.services() is not services  # the next page builds anew
