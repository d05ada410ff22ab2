"""Secrets never reach a log line, the console or a response - at DEBUG, and on failures.

Every secret Order Desk holds is set to a recognisable value - the OpenAI key, two API
keys, a database password - and the process then does what it does on a bad day as well
as a good one, with every logger at DEBUG: a configuration error, the desk opening, the
chat model failing with a 500 and then drafting, an order confirmed, the API started and
called with a wrong key, the right key and a thread of another key, the health report.
Everything logged, printed and answered is searched for each secret.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from api import create_app
from bootstrap import build_services
from config import ConfigError, get_settings, load_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from tests.openai_server import Reply, ScriptedOpenAIServer, draft_12_queso, llm_server_fixture  # noqa: F401

OPENAI_KEY = "sk-SECRET-openai-4242424242424242"
API_KEY = "SECRET-api-key-0001-abcdefgh"
SECOND_KEY = "SECRET-api-key-0002-abcdefgh"
WRONG_KEY = "SECRET-wrong-key-9999-abcdefgh"
DB_PASSWORD = "SECRETdbPassw0rd"  # trust auth accepts any password; it is still a secret
SECRETS = [OPENAI_KEY, API_KEY, SECOND_KEY, WRONG_KEY, DB_PASSWORD]


@pytest.fixture
def secret_env(
    pg_engine: Engine,
    pg_url: str,
    llm_server: ScriptedOpenAIServer,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = make_url(pg_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    for name, value in {
        "DATABASE_URL": url,
        "LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": llm_server.base_url,
        "OPENAI_MODEL": "test-model",
        "LLM_MAX_RETRIES": "0",
        "API_KEYS": f"{API_KEY},{SECOND_KEY}",
        "CHROMA_PATH": str(tmp_path / "chroma"),
        "LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    init_schema(engine)
    seed(engine=engine)
    engine.dispose()
    llm_server.reset()


def test_no_secret_is_logged_printed_or_answered(
    secret_env: None,
    llm_server: ScriptedOpenAIServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    said: list[str] = []

    settings = get_settings()
    said += [repr(settings), str(settings)]
    with monkeypatch.context() as bad:
        bad.setenv("OPENAI_TEMPERATURE", "hot")
        with pytest.raises(ConfigError) as refused:
            load_settings()
        said.append(str(refused.value))
        logging.getLogger("orderdesk.test").error("config refused: %s", refused.value)

    services = build_services(get_settings())  # its engine, Chroma, embedder: all from Settings
    desk = services.desk
    try:
        llm_server.reset(Reply(status=500))
        failed = desk.chat("secret-t1", "Alfreds wants 12 Queso Cabrales")
        assert failed.error is not None
        llm_server.reset(*draft_12_queso())
        drafted = desk.chat("secret-t1", "Alfreds wants 12 Queso Cabrales")
        confirmed = desk.approve("secret-t1")
        assert confirmed.order_id is not None, confirmed.reply
        said += [failed.reply, str(failed.error), drafted.reply, confirmed.reply]

        app = create_app(desk)
        with TestClient(app) as anonymous:
            responses = [
                anonymous.get("/api/health"),
                anonymous.get(
                    "/api/search", params={"q": "tofu"}, headers={"X-API-Key": WRONG_KEY}
                ),
                anonymous.get("/api/search", params={"q": "tofu"}, headers={"X-API-Key": API_KEY}),
                anonymous.post(
                    "/api/chat",
                    json={"thread_id": "secret-t2", "message": "hello"},
                    headers={"X-API-Key": API_KEY},
                ),
                anonymous.post("/api/chat/secret-t2/approve", headers={"X-API-Key": SECOND_KEY}),
            ]
        assert [r.status_code for r in responses][1:] == [401, 200, 200, 403]
        said += [r.text for r in responses] + [str(dict(r.headers)) for r in responses]
    finally:
        services.close()

    # The key did reach the model server - the secret was really in use, not just unset.
    assert any(OPENAI_KEY in h.get("authorization", "") for h in llm_server.headers)
    printed = capfd.readouterr()
    logged = caplog.text
    assert "Traceback" in logged or "went wrong" in logged or "500" in logged  # failures logged
    assert len(caplog.records) > 20  # DEBUG from our code and the libraries was captured
    for secret in SECRETS:
        assert secret not in logged, f"{secret} logged"
        assert secret not in printed.out + printed.err, f"{secret} printed"
        for text in said:
            assert secret not in text, f"{secret} in {text[:200]!r}"
