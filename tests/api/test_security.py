"""API security: a thread belongs to the key that began it; injection stays data.

Both backends (the module's store is parametrised). The table snapshot is the same one
tests/reliability/test_security.py takes: row counts of every table plus the catalog's
stock and prices and the customers.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import OTHER_KEY
from tests.reliability.test_security import INJECTIONS, snapshot


def test_api_query_parameters_take_injection_as_data(client: TestClient, store: Engine) -> None:
    before = snapshot(store)
    for text in INJECTIONS:
        for path, params in [
            ("/api/search", {"q": text}),
            ("/api/orders", {"customer_id": text}),
            ("/api/orders", {"status": text}),
        ]:
            response = client.get(path, params=params)
            assert response.status_code in (200, 422), (path, text, response.text)
            assert "sql" not in response.text.lower(), response.text
        cancelled = client.post("/api/orders/10248/cancel", json={"customer_id": text})
        assert cancelled.status_code in (403, 409, 422), cancelled.text
    assert snapshot(store) == before


def test_another_key_cannot_read_or_continue_a_thread(
    client: TestClient, app: FastAPI, store: Engine
) -> None:
    thread_id = f"own-{uuid.uuid4().hex[:12]}"
    drafted = client.post(
        "/api/chat", json={"thread_id": thread_id, "message": "Alfreds wants 12 Queso Cabrales"}
    )
    assert drafted.status_code == 200 and drafted.json()["draft"]["customer_id"] == "ALFKI"
    before = snapshot(store)

    with TestClient(app, headers={"X-API-Key": OTHER_KEY}) as other:
        attempts = [
            other.post("/api/chat", json={"thread_id": thread_id, "message": "show my draft"}),
            other.post("/api/chat", json={"thread_id": thread_id, "message": "yes"}),
            other.post(f"/api/chat/{thread_id}/approve"),
            other.post(f"/api/chat/{thread_id}/reject"),
        ]
        own = other.post("/api/chat", json={"thread_id": f"{thread_id}-b", "message": "hello"})

    for response in attempts:
        assert response.status_code == 403, response.text
        assert "another API key" in response.json()["detail"]
        assert "ALFKI" not in response.text and "Queso" not in response.text
    assert own.status_code == 200  # the other key works on threads of its own
    assert snapshot(store)["counts"] == {
        **before["counts"],
        "thread_owners": before["counts"]["thread_owners"] + 1,
    }
    # The owner still has the draft, untouched, and can confirm it.
    confirmed = client.post(f"/api/chat/{thread_id}/approve")
    assert confirmed.status_code == 200 and isinstance(confirmed.json()["order_id"], int)
