"""API fixtures: the real app over a real offline OrderDesk, on a seeded store per backend.

Seeding Northwind and embedding its catalog takes seconds, so each test module shares one
store per backend (`store`, module-scoped, in a database of its own) and one desk on it;
tests that change it (orders, cancellations) create what they check under fresh thread
ids and measure stock as differences. The app and its TestClient are made per test, so
each test sets its own API_KEYS / API_AUTH_DISABLED before the lifespan reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import chromadb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from agents.desk import OrderDesk
from api import create_app
from config import Settings, get_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from tests.agents.conftest import open_desk
from tests.conftest import release_holds

KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-0123456789abcdef"


def _private_pg_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the test server, and a function that drops it."""
    name = f"orderdesk_api_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings naming an empty database of this module's own, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
        yield Settings(_env_file=None, database_url=url, llm_provider="offline")  # type: ignore[call-arg]
        return
    url, drop = _private_pg_database(request.getfixturevalue("pg_server_url"))
    try:
        yield Settings(_env_file=None, database_url=url, llm_provider="offline")  # type: ignore[call-arg]
    finally:
        drop()


@pytest.fixture(scope="module")
def store(store_settings: Settings) -> Iterator[Engine]:
    """The module's seeded Northwind store, on an engine of its own for the module."""
    engine = create_db_engine(store_settings)
    init_schema(engine)
    seed(engine=engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def api_desk(store: Engine) -> Iterator[OrderDesk]:
    """A real offline OrderDesk on the module's store (in-memory Chroma catalog and memory)."""
    with pytest.MonkeyPatch.context() as patch:  # no developer .env, whatever it says
        patch.setenv("ORDERDESK_ENV_FILE", "")
        patch.setenv("LLM_PROVIDER", "offline")
        get_settings.cache_clear()
        desk = open_desk(store)
    get_settings.cache_clear()
    yield desk
    desk.close()


@pytest.fixture
def api_keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two valid keys in API_KEYS for this test."""
    monkeypatch.setenv("API_KEYS", f"{KEY},{OTHER_KEY}")
    get_settings.cache_clear()
    return [KEY, OTHER_KEY]


@pytest.fixture
def app(api_desk: OrderDesk, api_keys: list[str]) -> FastAPI:
    release_holds(api_desk.engine)  # the module's earlier tests' drafts hold no stock
    return create_app(api_desk, chroma=chromadb.EphemeralClient())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client that sends a valid key (lifespan started)."""
    with TestClient(app, headers={"X-API-Key": KEY}) as test_client:
        yield test_client


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    """A client that sends no key."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def thread_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
