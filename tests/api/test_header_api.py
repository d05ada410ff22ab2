"""The order header through the desk and the API: OrderDesk.set_header, the draft and order
schemas, and GET /api/orders?po=... on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agents.desk import OrderDesk
from api.render import draft_out
from db.locks import ThreadLocks, thread_lock
from orders.header import utc_today

ORDER = "Alfreds Futterkiste wants 3 Queso Cabrales"


@pytest.fixture
def drafted(client: TestClient, thread_id: str) -> str:
    """A thread with an open draft for Alfreds (Berlin, Germany)."""
    turn = client.post("/api/chat", json={"thread_id": thread_id, "message": ORDER}).json()
    assert turn["draft"] and turn["draft"]["customer_id"] == "ALFKI", turn
    return thread_id


def draft_of(desk: OrderDesk, thread_id: str) -> dict:
    """The thread's draft as the API renders it (DraftOut, in JSON)."""
    out = draft_out(desk.current_draft(thread_id))
    assert out is not None
    return out.model_dump(mode="json")


def test_a_new_draft_shows_an_empty_header_and_the_default_ship_to(
    client: TestClient, thread_id: str
) -> None:
    turn = client.post("/api/chat", json={"thread_id": thread_id, "message": ORDER}).json()
    draft = turn["draft"]  # as POST /api/chat answers it
    header = ("customer_po", "requested_date", "ship_to", "notes")
    assert [draft[name] for name in header] == [None, None, None, None]
    assert (draft["ship_to_default"], draft["ship_to_effective"]) == (
        "Berlin, Germany",
        "Berlin, Germany",
    )


def test_the_desk_sets_the_header_and_the_order_carries_it(
    api_desk: OrderDesk, client: TestClient, drafted: str
) -> None:
    when = utc_today() + timedelta(days=20)
    turn = api_desk.set_header(
        drafted, customer_po=" PO-7781 ", requested_date=when, notes="dock 3", user="amy"
    )
    assert turn.error is None and turn.reply == ""
    assert turn.draft is not None and turn.draft.customer_po == "PO-7781"
    draft = draft_of(api_desk, drafted)
    assert (draft["customer_po"], draft["requested_date"], draft["notes"]) == (
        "PO-7781",
        when.isoformat(),
        "dock 3",
    )
    turn = api_desk.set_header(drafted, ship_to="Lyon store")
    assert turn.draft is not None and turn.draft.customer_po == "PO-7781"  # left as it was
    assert draft_of(api_desk, drafted)["ship_to_effective"] == "Lyon store"

    order_id = client.post(f"/api/chat/{drafted}/approve").json()["order_id"]
    order = client.get(f"/api/orders/{order_id}").json()
    assert (order["customer_po"], order["requested_date"], order["ship_to"], order["notes"]) == (
        "PO-7781",
        when.isoformat(),
        "Lyon store",
        "dock 3",
    )
    assert (order["ship_to_default"], order["ship_to_effective"]) == (
        "Berlin, Germany",
        "Lyon store",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requested_date": date(2020, 1, 1)}, "1 Jan 2020 is in the past"),
        ({"requested_date": utc_today() + timedelta(days=400)}, "more than 365 days ahead"),
        ({"customer_po": "x" * 51}, "at most 50 fit"),
        ({"colour": "red"}, "'colour' is not a header field"),
    ],
)
def test_a_refused_value_is_the_turns_error_and_changes_nothing(
    api_desk: OrderDesk, client: TestClient, drafted: str, fields: dict, message: str
) -> None:
    api_desk.set_header(drafted, customer_po="KEEP-1")
    before = draft_of(api_desk, drafted)
    turn = api_desk.set_header(drafted, notes="would be lost", **fields)
    assert turn.error is not None and message in turn.error and turn.reply == turn.error
    assert turn.draft is not None and turn.draft.customer_po == "KEEP-1"
    assert turn.draft.notes is None
    assert draft_of(api_desk, drafted) == before


def test_without_an_open_draft_nothing_is_set(api_desk: OrderDesk, thread_id: str) -> None:
    turn = api_desk.set_header(thread_id, customer_po="7781")
    assert turn.error == "There is no open draft to change." and turn.draft is None


@pytest.fixture
def impatient(
    api_desk: OrderDesk, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The desk gives up on a held thread after 0.2 s (its own locks, on the same database)."""
    locks = ThreadLocks(store, wait_s=0.2)
    monkeypatch.setattr(api_desk, "_locks", locks)
    yield
    locks.close()


@pytest.mark.usefixtures("impatient")
def test_a_held_thread_is_busy_and_nothing_changes(
    api_desk: OrderDesk, store: Engine, client: TestClient, drafted: str
) -> None:
    with thread_lock(store, drafted, wait_s=5):
        turn = api_desk.set_header(drafted, customer_po="7781")
    assert turn.busy and turn.error == "conversation busy"
    assert draft_of(api_desk, drafted)["customer_po"] is None
    assert api_desk.set_header(drafted, customer_po="7781").error is None  # the lock, not the value


def test_orders_are_listed_by_po(api_desk: OrderDesk, client: TestClient) -> None:
    po = f"PO-{uuid.uuid4().hex[:8].upper()}"
    when = utc_today() + timedelta(days=3)
    placed = []
    for header in ({"customer_po": po, "requested_date": when}, {"customer_po": po + "-B"}):
        thread_id = f"t-{uuid.uuid4().hex[:12]}"
        client.post("/api/chat", json={"thread_id": thread_id, "message": ORDER})
        assert api_desk.set_header(thread_id, **header).error is None
        placed.append(client.post(f"/api/chat/{thread_id}/approve").json()["order_id"])

    page = client.get("/api/orders", params={"po": po.lower()}).json()
    assert (page["total"], [order["order_id"] for order in page["orders"]]) == (1, placed[:1])
    assert page["orders"][0]["customer_po"] == po
    day = {"delivery_from": when.isoformat(), "delivery_until": when.isoformat(), "po": po}
    assert client.get("/api/orders", params=day).json()["total"] == 1
    later = {**day, "delivery_from": (when + timedelta(days=1)).isoformat()}
    assert client.get("/api/orders", params=later).json()["total"] == 0
    assert client.get("/api/orders", params={"po": "NO-SUCH-PO"}).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"po": ""},
        {"po": "x" * 51},
        {"po": "a\x01b"},
        {"delivery_from": "1797000000"},
        {"delivery_until": "2026-12-20T00:00:00"},
        {"delivery_from": "next friday"},
    ],
)
def test_bad_filters_are_422(client: TestClient, params: dict) -> None:
    response = client.get("/api/orders", params=params)
    assert response.status_code == 422, response.text


def test_the_schemas_document_the_header(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("DraftOut", "OrderOut"):
        fields = schemas[name]["properties"]
        assert {"customer_po", "requested_date", "ship_to", "notes", "ship_to_effective"} <= set(
            fields
        ), name
    query = {p["name"] for p in spec["paths"]["/api/orders"]["get"]["parameters"]}
    assert {"po", "delivery_from", "delivery_until"} <= query
