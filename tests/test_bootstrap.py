"""The composition root: one engine, one embedder, one Chroma connection, handed to every
part; `close()` releases what it built, once; Chroma down at start and back later.

Real parts throughout: the test's database (SQLite and PostgreSQL), a Chroma directory in
tmp_path as in production (`CHROMA_PATH`), the real embedding model, the offline model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from bootstrap import Services, build_services
from config import get_settings
from db.migrate import SchemaNotCurrent, upgrade
from db.models import MemoryOutbox
from db.seed import seed
from memory.store import open_memory_store
from rag import search as search_module
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.embeddings import MiniLMEmbeddingFunction

ORDER = "Alfreds Futterkiste wants 12 Queso Cabrales"


def relay_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "memory-outbox-relay")


@pytest.fixture
def chroma_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    get_settings.cache_clear()
    return tmp_path / "chroma"


def test_every_part_gets_the_same_engine_embedder_and_chroma(
    engine: Engine, chroma_dir: Path, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine)
    services = build_services(get_settings())
    try:
        assert services.engine is not engine  # built from DATABASE_URL: its own, one
        desk = services.desk
        assert desk.engine is services.engine
        assert services.relay is not None and services.relay.engine is services.engine
        assert desk.relay is services.relay
        assert desk.catalog is services.catalog and desk.memory is services.memory
        assert services.memory is not None
        assert services.memory.embedder is services.embedder is services.catalog.embedder
        assert services.chroma is not None
        assert services.chroma.get_collection("catalog").count() == 77  # synced on build
        assert services.catalog.search("mozarella").degraded is False
        # The loaded model is one per process, whoever makes an embedder.
        assert services.embedder._model is embedder._model
    finally:
        services.close()


def test_close_releases_what_was_built_once(
    engine: Engine, chroma_dir: Path, embedder: MiniLMEmbeddingFunction
) -> None:
    seed(engine=engine)
    before = relay_threads()
    services = build_services(get_settings(), embedder=embedder)
    pool = services.engine.pool
    assert relay_threads() == before + 1
    services.close()
    services.close()  # a second close does nothing
    assert relay_threads() == before
    assert services.engine.pool is not pool  # disposed: a new, empty pool

    given = build_services(get_settings(), engine=engine, embedder=embedder, start_relay=False)
    assert given.engine is engine and relay_threads() == before
    pool = engine.pool
    given.close()
    assert engine.pool is pool  # the caller's engine is the caller's to dispose


def test_a_failed_build_releases_what_it_had_made(
    tmp_path: Path, chroma_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no_schema.db'}")
    get_settings.cache_clear()
    before = relay_threads()
    with pytest.raises(SchemaNotCurrent, match="at nothing.*run python -m db.migrate"):
        build_services(get_settings())  # no process creates tables: it says what to run
    assert relay_threads() == before


def test_a_schema_behind_the_code_stops_the_build_with_the_command_to_run(
    tmp_path: Path, chroma_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store one revision behind (the previous release's) is refused, not half used."""
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    engine = create_engine(url)
    try:
        upgrade(engine, revision="0001_baseline")
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        with pytest.raises(SchemaNotCurrent, match="0001_baseline, code needs 0005"):
            build_services(get_settings())
        upgrade(engine)
        build_services(get_settings(), sync_catalog=False).close()
    finally:
        engine.dispose()


def test_the_api_on_a_schema_it_cannot_use_says_so_in_one_line(tmp_path: Path) -> None:
    """`uvicorn api:app` on a database nobody migrated: one line and exit 2, no traceback,
    before any worker serves."""
    env = {
        **os.environ,
        "ORDERDESK_ENV_FILE": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "API_AUTH_DISABLED": "true",
        "CHROMA_PATH": str(tmp_path / "chroma"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "api:app", "--port", "0"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    [line] = [text for text in done.stderr.splitlines() if "not started" in text]
    assert "run python -m db.migrate" in line


def test_chroma_down_at_start_is_used_once_it_is_back(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: MiniLMEmbeddingFunction,
) -> None:
    seed(engine=engine)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("CHROMA_PATH", str(blocker))
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    monkeypatch.setattr(search_module, "RETRY_CHROMA_AFTER_S", 0.0)
    get_settings.cache_clear()
    services: Services = build_services(
        get_settings(), engine=engine, embedder=embedder, start_relay=False
    )
    try:
        desk = services.desk
        assert services.chroma is None and services.memory is None
        assert services.catalog.search("mozarella").degraded is True
        desk.chat("t-down", ORDER)
        assert desk.approve("t-down").order_id is not None  # orders are taken all the same
        assert undelivered(engine) == 1  # its summary waits in the outbox

        blocker.unlink()  # Chroma is back (CHROMA_PATH usable again)
        client = services.chroma_connection.connect()  # type: ignore[union-attr]
        sync_catalog(
            engine=engine,
            collection=get_catalog_collection(client, embedder=embedder),
            embedder=embedder,
        )  # the UI's Re-index button
        assert services.catalog.search("mozarella").degraded is False
        desk.chat("t-back", "Alfreds Futterkiste wants 5 tofu")
        order_id = desk.approve("t-back").order_id
        assert order_id is not None and undelivered(engine) == 1  # its own, at once
        assert services.relay is not None and services.relay.deliver_due() == 1  # the backlog
        assert undelivered(engine) == 0
        remembered = open_memory_store(client, embedder=embedder).list("ALFKI")
        assert {f"order-{order_id}", f"order-{order_id - 1}"} <= {m.id for m in remembered}
    finally:
        services.close()


def undelivered(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(MemoryOutbox)
                .where(MemoryOutbox.delivered_at.is_(None))
            )
            or 0
        )
