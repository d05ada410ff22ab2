"""The Streamlit app starts on a configured store and shows it; bad set-ups get a clear page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from config import PROJECT_ROOT
from db.seed import seed

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture(autouse=True)
def _no_cached_clients() -> Iterator[None]:
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    return app.run()


def test_store_page_shows_the_seeded_catalog(engine: Engine) -> None:
    seed(engine=engine)
    app = run_app()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {"Customers": "91", "Products": "77", "Orderable now": "66", "Orders": "830"}
    table = app.dataframe[0].value
    assert len(table) == 77
    assert "Pâté chinois" in set(table["product"])


def test_empty_store_says_how_to_seed(engine: Engine) -> None:
    app = run_app()
    assert not app.exception
    assert "python -m db.seed" in app.warning[0].value


def test_bad_configuration_is_shown_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/shop")
    app = run_app()
    assert not app.exception
    assert "DATABASE_URL: unknown scheme 'mysql'" in app.error[0].value


def test_unreachable_database_is_shown_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    app = run_app()
    assert not app.exception
    assert "cannot be reached" in app.error[0].value
