"""Bad input: hostile and odd messages get a clear reply, raise nothing and change nothing.

Every case of hostile.jsonl (empty and blank messages, 100 KB of text, control characters,
NUL and lone surrogates, emoji, right-to-left text and bidi overrides, SQL injection as
products and customers, absurd quantities, unknown customers, prompt injection, markup,
look-alike letters, approvals with nothing to approve) goes through a real offline
OrderDesk and through the HTTP API, on SQLite and PostgreSQL. Each case is sent in a
fresh thread, followed by the Confirm button (and, at the desk, by "yes"), so an injected
confirmation cannot sneak through; the reply must say what is wrong (`expect`, a keyword),
no turn may fail or commit an order, and the database must be exactly as it was: the
row count of every table, every product's stock and price (`snapshot`), the customers,
the cancelled orders - save the API's record of who began the thread.

The store is seeded once per backend for the module (`store`, `api_desk` from the API
fixtures); the snapshot is taken around each case. The same text is also sent as a
catalog search and as the customer code of a cancellation (as JSON and as a raw body).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from agents.desk import OrderDesk, Turn
from api.errors import MAX_BODY_BYTES
from db.models import Order, OrderStatus
from tests.api.conftest import (  # noqa: F401 - fixtures used by the tests below
    api_desk,
    api_keys,
    app,
    client,
    store,
    store_settings,
)
from tests.reliability.test_security import snapshot

CORPUS = Path(__file__).with_name("hostile.jsonl")
# Signs that an exception or a database error reached the user.
LEAKS = re.compile(
    r"traceback|exception|operationalerror|programmingerror|dataerror|integrityerror|"
    r"sqlalchemy|psycopg|sqlite3|sqlstate|syntax error|something went wrong",
    re.IGNORECASE,
)
HISTORICAL_ORDER = 10248  # a Northwind order (VINET's), the target of the cancel probes


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    message: str
    expect: str | None = None
    before: list[str] = field(default_factory=list)  # earlier turns of the same thread
    api: int = 200  # what POST /api/chat answers (4xx: refused at the API's door)


def _generated(spec: dict[str, Any]) -> str:
    """`prefix` + `repeat` repeated, cut to `bytes` of UTF-8."""
    text = spec.get("prefix", "")
    while len(text.encode()) < spec["bytes"]:
        text += spec["repeat"]
    return text.encode()[: spec["bytes"]].decode("utf-8", "ignore")


def load_corpus() -> list[Case]:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        message = row["message"] if row["message"] is not None else _generated(row["generate"])
        extra = {key: row[key] for key in ("expect", "before", "api") if key in row}
        cases.append(Case(row["id"], row["category"], message, **extra))
    return cases


CASES = load_corpus()


def cancelled_orders(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        query = select(Order.order_id).where(Order.status == OrderStatus.CANCELLED)
        return list(connection.scalars(query))


def new_thread() -> str:
    return f"hostile-{uuid.uuid4().hex[:12]}"


def assert_clear(reply: str, case: Case) -> None:
    assert reply.strip(), f"{case.id}: empty reply"
    assert not LEAKS.search(reply), f"{case.id}: an error leaked into the reply: {reply!r}"


# --- the corpus itself ------------------------------------------------------------------


def test_corpus_covers_every_kind_of_bad_input() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    kinds = {case.category for case in CASES}
    assert kinds >= {
        "empty",
        "whitespace",
        "huge",
        "control",
        "emoji",
        "rtl",
        "sql_injection",
        "quantity",
        "unknown_customer",
        "prompt_injection",
        "markup",
        "long_name",
        "lookalike",
        "repeated_yes",
    }
    assert max(len(case.message.encode("utf-8", "surrogatepass")) for case in CASES) >= 100 * 1024


# --- the desk -----------------------------------------------------------------------------


def assert_refused(turn: Turn, case: Case) -> None:
    assert_clear(turn.reply, case)
    assert turn.error is None, f"{case.id}: the turn failed: {turn.error}"
    assert turn.order_id is None, f"{case.id}: order {turn.order_id} was placed"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_desk_refuses_or_asks(api_desk: OrderDesk, case: Case) -> None:  # noqa: F811
    desk = api_desk
    before = snapshot(desk.engine)
    thread = new_thread()
    for earlier in case.before:
        assert_refused(desk.chat(thread, earlier), case)
    turn = desk.chat(thread, case.message)
    assert_refused(turn, case)
    if case.expect:
        assert case.expect.lower() in turn.reply.lower(), f"{case.id}: {turn.reply!r}"
    assert turn.draft is None and desk.current_draft(thread) is None
    yes = desk.chat(thread, "yes")
    assert_refused(yes, case)
    assert "no draft" in yes.reply
    approved = desk.approve(thread)
    assert_refused(approved, case)
    assert "no open draft" in approved.reply
    assert snapshot(desk.engine) == before


# --- the HTTP API -------------------------------------------------------------------------


def post_json(client: TestClient, path: str, payload: dict[str, Any]) -> Response:  # noqa: F811
    # json.dumps escapes lone surrogates (\ud800), as a hostile client would send them.
    body = json.dumps(payload)
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


def assert_answered(response: Response, case: Case, expected: int) -> dict[str, Any]:
    assert response.status_code == expected, f"{case.id}: {response.status_code} {response.text}"
    body = response.json()
    if expected >= 400:
        assert isinstance(body["detail"], str) and body["detail"].strip()
        assert_clear(body["detail"], case)
    return body


def assert_api_turn(response: Response, case: Case, expected: int = 200) -> None:
    body = assert_answered(response, case, expected)
    if expected == 200:
        assert_clear(body["reply"], case)
        assert body["order_id"] is None and body["error"] is None, f"{case.id}: {body}"
        assert body["draft"] is None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_api_refuses_or_asks(client: TestClient, store: Engine, case: Case) -> None:  # noqa: F811
    before = snapshot(store)
    thread = new_thread()
    for earlier in case.before:
        assert_api_turn(
            post_json(client, "/api/chat", {"thread_id": thread, "message": earlier}), case
        )
    response = post_json(client, "/api/chat", {"thread_id": thread, "message": case.message})
    assert_api_turn(response, case, case.api)
    if case.api == 413:
        assert "too large" in response.json()["detail"]
    elif case.api == 422:
        assert response.json()["errors"][0]["loc"] == ["body", "message"]
    elif case.expect:
        assert case.expect.lower() in response.json()["reply"].lower()
    approved = client.post(f"/api/chat/{thread}/approve")
    assert_api_turn(approved, case)
    assert "no open draft" in approved.json()["reply"]
    # The one write allowed: the API key claimed the new thread (thread_owners).
    claimed = before["counts"]["thread_owners"] + 1
    assert snapshot(store) == {**before, "counts": {**before["counts"], "thread_owners": claimed}}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_search_and_cancel_with_hostile_text(
    client: TestClient,  # noqa: F811
    store: Engine,  # noqa: F811
    case: Case,
) -> None:
    before, cancelled = snapshot(store), cancelled_orders(store)
    # Percent-encoded UTF-8 (surrogates passed through), as a hostile client would send it;
    # cut at 8 KB, about the longest URL servers accept (and far over the 200 allowed).
    query = quote(case.message[:8192].encode("utf-8", "surrogatepass"))
    searched = client.get(f"/api/search?q={query}")
    if 1 <= len(case.message) <= 200:
        body = assert_answered(searched, case, 200)
        assert body["degraded"] is False  # Chroma is up: odd text must not look like an outage
        assert isinstance(body["candidates"], list) and isinstance(body["no_match"], bool)
    else:
        assert_answered(searched, case, 422)
    # Hostile text as the customer code of a cancellation: refused, never a cancel.
    path = f"/api/orders/{HISTORICAL_ORDER}/cancel"
    refused = post_json(client, path, {"customer_id": case.message})
    if len(json.dumps({"customer_id": case.message})) > MAX_BODY_BYTES:
        assert_answered(refused, case, 413)
    elif re.fullmatch(r"[A-Z0-9]{1,5}", case.message):
        assert_answered(refused, case, 403)  # a well-formed code, not the order's customer
    else:
        assert_answered(refused, case, 422)
    if case.message:  # (an empty body is no body: the trusted cancel, not bad input)
        raw = client.post(
            path,
            content=case.message.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "application/json"},
        )
        assert raw.status_code in (400, 413, 422), f"{case.id}: {raw.status_code} {raw.text}"
        assert_clear(raw.json()["detail"], case)
    assert snapshot(store) == before and cancelled_orders(store) == cancelled
