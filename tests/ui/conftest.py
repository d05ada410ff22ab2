"""Stores the app opens in AppTest: an empty one (schema only) and a seeded one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine

from config import get_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed


def fresh_clients() -> None:
    """Forget the app's cached services (closing them): the next run builds its own."""
    st.cache_resource.clear()


@pytest.fixture
def store_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An empty store (schema only) that the app will open: the test's engine on it."""
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    fresh_clients()
    engine = create_db_engine(get_settings())
    init_schema(engine)
    yield engine
    fresh_clients()
    engine.dispose()


@pytest.fixture
def store(store_engine: Engine) -> str:
    """The empty store's URL."""
    return get_settings().database_url


@pytest.fixture
def seeded(store: str, store_engine: Engine) -> str:
    seed(engine=store_engine)
    return store
