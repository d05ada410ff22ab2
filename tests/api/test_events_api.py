"""GET /api/orders/{id}/events: an order's audit trail over the wire, on both backends.

An order placed, approved and cancelled through the API carries its trail, every event
credited to the API key's owner; the other order routes' key rules and statuses hold.
"""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from agents.ownership import key_owner
from tests.api.conftest import KEY, OTHER_KEY

ALFREDS = "Alfreds Futterkiste: 5 Queso Cabrales and 2 tofu"


def test_an_orders_trail_names_the_key_that_made_it(
    client: TestClient, app: object, thread_id: str
) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": ALFREDS})
    client.post("/api/chat", json={"thread_id": thread_id, "message": "make the tofu 3"})
    order_id = client.post(f"/api/chat/{thread_id}/approve").json()["order_id"]
    with TestClient(app, headers={"X-API-Key": OTHER_KEY}) as other:  # type: ignore[arg-type]
        assert other.post(f"/api/orders/{order_id}/cancel").status_code == 200
        read_by_other = other.get(f"/api/orders/{order_id}/events")

    response = client.get(f"/api/orders/{order_id}/events")
    assert response.status_code == 200, response.text
    trail = response.json()
    assert trail["order_id"] == order_id and read_by_other.json() == trail  # any key reads
    events = trail["events"]
    mine, theirs = key_owner(KEY.encode()), key_owner(OTHER_KEY.encode())
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("drafted", mine),
        ("line_changed", mine),
        ("confirmed", mine),
        ("cancelled", theirs),
    ]
    drafted, changed, confirmed, cancelled = events
    assert [(line["product"], line["quantity"]) for line in drafted["detail"]["lines"]] == [
        ("Queso Cabrales", 5),
        ("Tofu", 2),
    ]
    assert {k: changed["detail"][k] for k in ("product", "before", "after")} == {
        "product": "Tofu",
        "before": 2,
        "after": 3,
    }
    assert confirmed["order_id"] == order_id and confirmed["detail"]["total"] == "174.75"
    assert cancelled["detail"] == {"before": "confirmed"}
    assert all(datetime.fromisoformat(e["created_at"]).tzinfo is not None for e in events)
    assert len({e["draft_id"] for e in events}) == 1
    # The order itself still says who confirmed it as before.
    assert client.get(f"/api/orders/{order_id}").json()["created_by"] == "api"


def test_a_historical_order_has_an_empty_trail(client: TestClient) -> None:
    response = client.get("/api/orders/10248/events")
    assert response.status_code == 200, response.text
    assert response.json() == {"order_id": 10248, "events": []}


def test_the_order_routes_rules_hold(client: TestClient, anonymous: TestClient) -> None:
    missing = client.get("/api/orders/999999/events")
    assert missing.status_code == 404 and missing.json()["detail"] == "There is no order 999999."
    assert client.get("/api/orders/0/events").status_code == 422
    assert anonymous.get("/api/orders/10248/events").status_code == 401
    spec = client.get("/openapi.json").json()["paths"]["/api/orders/{order_id}/events"]["get"]
    assert {"200", "401", "404"} <= set(spec["responses"])
    assert (
        spec["security"]
        == client.get("/openapi.json").json()["paths"]["/api/orders/{order_id}"]["get"]["security"]
    )
