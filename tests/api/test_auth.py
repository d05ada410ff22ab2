"""X-API-Key on every route but health; the explicit demo mode; refusing to run open."""

from __future__ import annotations

import chromadb
import pytest
from fastapi.testclient import TestClient

from agents.desk import OrderDesk
from api import create_app
from api.deps import KeyRing
from config import ConfigError, get_settings
from tests.api.conftest import KEY, OTHER_KEY

# Every protected operation, called with a well-formed request.
ROUTES = [
    ("GET", "/api/search?q=tofu", None),
    ("POST", "/api/chat", {"thread_id": "auth-check", "message": "hello"}),
    ("POST", "/api/chat/auth-check/approve", None),
    ("POST", "/api/chat/auth-check/reject", None),
    ("GET", "/api/orders", None),
    ("GET", "/api/orders/10248", None),
    ("POST", "/api/orders/999999/cancel", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("key", [None, "", "wrong-key-0123456789abcdef", KEY[:-1], KEY + "x"])
def test_every_route_refuses_a_missing_or_wrong_key(
    anonymous: TestClient, method: str, path: str, body: object, key: str | None
) -> None:
    headers = {} if key is None else {"X-API-Key": key}
    response = anonymous.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid X-API-Key header."}
    assert response.headers["www-authenticate"] == "APIKey"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("key", [KEY, OTHER_KEY])
def test_every_configured_key_is_accepted(
    anonymous: TestClient, method: str, path: str, body: object, key: str
) -> None:
    # Each key on a thread of its own: a thread belongs to the key that began it.
    own = f"auth-check-{key[:6]}"
    path = path.replace("auth-check", own)
    body = {**body, "thread_id": own} if isinstance(body, dict) and "thread_id" in body else body
    response = anonymous.request(method, path, json=body, headers={"X-API-Key": key})
    assert response.status_code in {200, 404}, response.text  # 404: order 999999


def test_a_non_ascii_key_is_refused_not_an_error(anonymous: TestClient) -> None:
    response = anonymous.get(
        "/api/orders", headers={"X-API-Key": "clé-0123456789abcdef".encode("latin-1")}
    )
    assert response.status_code == 401


def test_key_ring_compares_whole_keys() -> None:
    ring = KeyRing((KEY.encode(), OTHER_KEY.encode()))
    assert ring.accepts(KEY) and ring.accepts(OTHER_KEY)
    assert not any(ring.accepts(k) for k in (None, "", KEY.upper(), KEY + KEY, f" {KEY}"))


def test_no_keys_refuses_to_start(api_desk: OrderDesk) -> None:
    get_settings.cache_clear()  # API_KEYS unset (tests/conftest.py clears it)
    with pytest.raises(ConfigError, match="API_KEYS is not set"):
        with TestClient(create_app(api_desk)):
            pass


def test_demo_mode_is_explicit_and_open(
    api_desk: OrderDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_AUTH_DISABLED", "true")
    get_settings.cache_clear()
    with TestClient(create_app(api_desk, chroma=chromadb.EphemeralClient())) as client:
        assert client.get("/api/search", params={"q": "tofu"}).status_code == 200
        assert client.get("/api/health").json()["auth"] == "disabled"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"API_AUTH_DISABLED": "true", "API_KEYS": KEY}, "both set"),
        ({"API_AUTH_DISABLED": "true", "API_HOST": "0.0.0.0"}, "loopback API_HOST"),
    ],
)
def test_demo_mode_refused_with_keys_or_off_loopback(
    api_desk: OrderDesk, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=message):
        with TestClient(create_app(api_desk)):
            pass
