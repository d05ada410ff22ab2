"""POST /api/chat, /approve, /reject: the facade's turns as JSON, orders committed once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import Order
from orders.drafts import open_draft_for_thread, set_open_items

ALFREDS = (
    "Alfreds Futterkiste wants 12 Queso Cabrales, a dozen of the cajun seasoning and 5 mozzarella"
)


def orders_of_thread(engine: Engine, thread_id: str) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Order).where(Order.thread_id == thread_id)
        return session.scalar(query)


def draft_lines(turn: dict) -> dict[int, int]:
    return {line["product_id"]: line["quantity"] for line in turn["draft"]["lines"]}


def test_a_message_becomes_a_priced_draft(client: TestClient, thread_id: str) -> None:
    response = client.post("/api/chat", json={"thread_id": thread_id, "message": ALFREDS})
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["thread_id"] == thread_id
    assert turn["pending"] is True and turn["order_id"] is None and turn["error"] is None
    assert turn["draft"]["customer_id"] == "ALFKI" and turn["draft"]["confirmable"] is True
    assert draft_lines(turn) == {11: 12, 4: 12, 72: 5}
    assert turn["draft"]["total"] == "690.00"  # money is a decimal string
    assert {line["unit_price"] for line in turn["draft"]["lines"]} == {"21.00", "22.00", "34.80"}
    assert "$690.00" in turn["reply"]
    assert "draft_order" in [call["name"] for call in turn["tool_calls"]]


def test_approve_commits_once(client: TestClient, store: Engine, thread_id: str) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": ALFREDS})
    approved = client.post(f"/api/chat/{thread_id}/approve").json()
    assert isinstance(approved["order_id"], int) and approved["pending"] is False
    again = client.post(f"/api/chat/{thread_id}/approve").json()
    assert again["order_id"] is None  # nothing left to confirm
    assert orders_of_thread(store, thread_id) == 1
    order = client.get(f"/api/orders/{approved['order_id']}").json()
    assert (order["customer_id"], order["status"], order["created_by"]) == (
        "ALFKI",
        "confirmed",
        "api",
    )
    assert {line["product_id"]: line["quantity"] for line in order["lines"]} == {
        11: 12,
        4: 12,
        72: 5,
    }
    assert order["total"] == "690.00"


def test_yes_in_chat_confirms(client: TestClient, store: Engine, thread_id: str) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"})
    turn = client.post("/api/chat", json={"thread_id": thread_id, "message": "yes, confirm"})
    assert turn.status_code == 200 and isinstance(turn.json()["order_id"], int)
    assert orders_of_thread(store, thread_id) == 1


def test_reject_discards_the_draft(client: TestClient, store: Engine, thread_id: str) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"})
    rejected = client.post(f"/api/chat/{thread_id}/reject").json()
    assert rejected["draft"] is None and rejected["pending"] is False
    assert client.post(f"/api/chat/{thread_id}/approve").json()["order_id"] is None
    assert orders_of_thread(store, thread_id) == 0


QUESTION = "We have no blue widgets: what did you mean by '3 blue widgets'?"


def ask_about_widgets(engine: Engine, thread_id: str, items: list[dict] | None = None) -> None:
    """Give the thread's open draft an open item, as the desk does for an unplaced phrase."""
    with Session(engine) as session:
        draft = open_draft_for_thread(session=session, thread_id=thread_id)
        assert draft is not None
        wanted = [{"kind": "unplaced", "phrase": "3 blue widgets", "question": QUESTION}]
        set_open_items(
            session=session, draft_id=draft.draft_id, items=wanted if items is None else items
        )
        session.commit()


def test_approve_while_the_draft_needs_attention_is_409_naming_the_question(
    client: TestClient, store: Engine, thread_id: str
) -> None:
    drafted = client.post(
        "/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"}
    )
    assert drafted.json()["draft"]["open_items"] == []
    assert drafted.json()["draft"]["needs_attention"] is False
    ask_about_widgets(store, thread_id)

    refused = client.post(f"/api/chat/{thread_id}/approve")

    assert refused.status_code == 409, refused.text
    assert QUESTION in refused.json()["detail"]
    assert orders_of_thread(store, thread_id) == 0
    with Session(store) as session:
        assert open_draft_for_thread(session=session, thread_id=thread_id) is not None

    said_yes = client.post("/api/chat", json={"thread_id": thread_id, "message": "yes"})
    assert said_yes.status_code == 200
    turn = said_yes.json()
    assert turn["order_id"] is None and turn["pending"] is False
    assert turn["attention"] == [QUESTION] and QUESTION in turn["reply"]
    draft = turn["draft"]
    assert draft["needs_attention"] is True and draft["confirmable"] is False
    assert draft["open_items"] == [
        {
            "kind": "unplaced",
            "phrase": "3 blue widgets",
            "quantity": None,
            "question": QUESTION,
            "candidates": [],
        }
    ]
    assert orders_of_thread(store, thread_id) == 0

    ask_about_widgets(store, thread_id, items=[])  # answered
    approved = client.post(f"/api/chat/{thread_id}/approve")
    assert approved.status_code == 200 and isinstance(approved.json()["order_id"], int)
    assert approved.json()["attention"] == []
    assert orders_of_thread(store, thread_id) == 1


def test_threads_do_not_share_drafts(client: TestClient, thread_id: str) -> None:
    other = thread_id + "-b"
    client.post("/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"})
    turn = client.post("/api/chat", json={"thread_id": other, "message": "QUICK: 2 konbu"}).json()
    assert (turn["draft"]["customer_id"], draft_lines(turn)) == ("QUICK", {13: 2})
    mine = client.post("/api/chat", json={"thread_id": thread_id, "message": "add 1 tofu"}).json()
    assert (mine["draft"]["customer_id"], draft_lines(mine)) == ("ERNSH", {14: 4})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thread_id": "t1", "message": "x" * 4001}, "body.message"),
        ({"thread_id": "t1", "message": ""}, "body.message"),
        ({"thread_id": "t1", "message": "10 tofu\x00"}, "body.message"),
        ({"thread_id": "t1"}, "body.message"),
        ({"thread_id": "../etc", "message": "hi"}, "body.thread_id"),
        ({"thread_id": "a b", "message": "hi"}, "body.thread_id"),
        ({"thread_id": "t" * 65, "message": "hi"}, "body.thread_id"),
        ({"thread_id": 7, "message": "hi"}, "body.thread_id"),
        ({"thread_id": "t1", "message": "hi", "price": 1}, "body.price"),
    ],
)
def test_bad_chat_input_is_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["detail"].startswith("Invalid request: ") and field in error["detail"]
    assert [".".join(map(str, e["loc"])) for e in error["errors"]] == [field]


def test_a_lone_surrogate_is_422(client: TestClient) -> None:
    raw = b'{"thread_id": "t1", "message": "tofu \\ud800"}'
    response = client.post("/api/chat", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "body.message" in response.json()["detail"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"null", b'"text"'])
def test_malformed_bodies_are_422(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/chat", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"].startswith("Invalid request")


@pytest.mark.parametrize("path", ["/api/chat/a%20b/approve", "/api/chat/" + "x" * 65 + "/reject"])
def test_bad_thread_in_path_is_422(client: TestClient, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 422 and "path.thread_id" in response.json()["detail"]
