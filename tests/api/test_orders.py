"""GET /api/orders, /api/orders/{id}, POST /api/orders/{id}/cancel over the seeded history."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.models import Product


def place_order(client: TestClient, thread_id: str, message: str) -> dict:
    client.post("/api/chat", json={"thread_id": thread_id, "message": message})
    order_id = client.post(f"/api/chat/{thread_id}/approve").json()["order_id"]
    assert isinstance(order_id, int)
    return client.get(f"/api/orders/{order_id}").json()


def stock(engine: Engine, product_id: int) -> int:
    with Session(engine) as session:
        return session.get(Product, product_id).units_in_stock


def test_a_historical_order(client: TestClient) -> None:
    response = client.get("/api/orders/10248")
    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["customer_id"], order["status"]) == ("VINET", "confirmed")
    assert {line["product_id"]: line["quantity"] for line in order["lines"]} == {
        11: 12,
        42: 10,
        72: 5,
    }
    assert order["total"] == "440.00" and order["lines"][0]["unit_price"] == "14.00"
    assert datetime.fromisoformat(order["created_at"]).tzinfo is not None


def test_list_is_newest_first_and_pages_do_not_overlap(client: TestClient) -> None:
    first = client.get("/api/orders", params={"limit": 5}).json()
    second = client.get("/api/orders", params={"limit": 5, "offset": 5}).json()
    both = client.get("/api/orders", params={"limit": 10}).json()
    ids = [o["order_id"] for o in first["orders"] + second["orders"]]
    assert ids == [o["order_id"] for o in both["orders"]] and len(set(ids)) == 10
    assert (first["limit"], first["offset"], first["next_offset"]) == (5, 0, 5)
    created = [o["created_at"] for o in both["orders"]]
    assert created == sorted(created, reverse=True)


def test_filters(client: TestClient) -> None:
    alfki = client.get("/api/orders", params={"customer_id": "ALFKI", "limit": 200}).json()
    assert alfki["orders"] and {o["customer_id"] for o in alfki["orders"]} == {"ALFKI"}
    assert alfki["next_offset"] is None
    window = {"since": "1997-01-01T00:00:00Z", "until": "1997-02-01T00:00:00+00:00", "limit": 200}
    january = client.get("/api/orders", params=window).json()["orders"]
    assert january and all(o["created_at"].startswith("1997-01") for o in january)
    naive = client.get("/api/orders", params={**window, "since": "1997-01-01T00:00:00"}).json()
    assert [o["order_id"] for o in naive["orders"]] == [o["order_id"] for o in january]


def test_the_last_page_has_no_next_offset(client: TestClient) -> None:
    page = client.get("/api/orders", params={"offset": 1_000_000}).json()
    assert (page["orders"], page["next_offset"]) == ([], None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"status": "shipped"}, "query.status"),
        ({"customer_id": "alfki"}, "query.customer_id"),
        ({"since": "yesterday"}, "query.since"),
    ],
)
def test_bad_filters_are_422(client: TestClient, params: dict, field: str) -> None:
    response = client.get("/api/orders", params=params)
    assert response.status_code == 422 and field in response.json()["detail"]


@pytest.mark.parametrize("order_id", ["0", "-1", "2147483648", "abc", "1.5"])
def test_bad_order_ids_are_422(client: TestClient, order_id: str) -> None:
    assert client.get(f"/api/orders/{order_id}").status_code == 422
    assert client.post(f"/api/orders/{order_id}/cancel").status_code == 422


def test_unknown_order_is_404(client: TestClient) -> None:
    for response in (client.get("/api/orders/999999"), client.post("/api/orders/999999/cancel")):
        assert response.status_code == 404
        assert response.json() == {"detail": "There is no order 999999."}


def test_cancel_returns_stock_once_and_respects_the_customer(
    client: TestClient, store: Engine, thread_id: str
) -> None:
    order = place_order(client, thread_id, "Ernst Handel: 4 konbu")
    path, before = f"/api/orders/{order['order_id']}/cancel", stock(store, 13)

    wrong = client.post(path, json={"customer_id": "ALFKI"})
    assert wrong.status_code == 403 and "another customer" in wrong.json()["detail"]
    assert stock(store, 13) == before

    cancelled = client.post(path, json={"customer_id": "ERNSH"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_at"]
    assert stock(store, 13) == before + 4

    again = client.post(path)
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert stock(store, 13) == before + 4


def test_cancel_without_a_customer(client: TestClient, thread_id: str) -> None:
    order = place_order(client, thread_id, "QUICK: 2 tofu")
    response = client.post(f"/api/orders/{order['order_id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body", [{"customer_id": "alfki"}, {"customer_id": "TOOLONG"}, {"customer": "ALFKI"}, []]
)
def test_bad_cancel_body_is_422(client: TestClient, body: object) -> None:
    assert client.post("/api/orders/10248/cancel", json=body).status_code == 422
    assert client.get("/api/orders/10248").json()["status"] == "confirmed"
