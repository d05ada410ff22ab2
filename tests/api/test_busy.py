"""A conversation held by another process: chat, approve and reject answer 409, and do nothing.

The thread's lock is really held - by a child process taking the same `db.locks` lock a
desk in another API replica would (an advisory lock on PostgreSQL, a lock file beside
the SQLite database) - while this module's desk waits only THREAD_LOCK_WAIT_S for it.
Once the child lets go, the very same request succeeds: the 409 was the lock, not the
request.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from agents.desk import OrderDesk
from api.errors import BUSY_DETAIL
from config import PROJECT_ROOT, get_settings
from tests.agents.conftest import open_desk
from tests.api.test_chat import orders_of_thread

WAIT_S = 0.3  # how long this module's desk waits for a held thread

HOLDER = """
import sys
from sqlalchemy import create_engine
from db.locks import thread_lock
with thread_lock(create_engine(sys.argv[1]), sys.argv[2], wait_s=30):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture(scope="module")
def api_desk(store: Engine) -> Iterator[OrderDesk]:
    """The conftest's desk, but one that gives up on a held thread after WAIT_S."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDERDESK_ENV_FILE", "")
        patch.setenv("LLM_PROVIDER", "offline")
        patch.setenv("THREAD_LOCK_WAIT_S", str(WAIT_S))
        get_settings.cache_clear()
        desk = open_desk(store)
    get_settings.cache_clear()
    yield desk
    desk.close()


@contextmanager
def held_by_another_process(store: Engine, thread_id: str) -> Iterator[None]:
    """`thread_id`'s lock held by a child process for the body."""
    url = store.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, thread_id],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield
    finally:
        assert child.stdin is not None
        child.stdin.close()
        assert child.wait(timeout=30) == 0


def assert_busy(response: Response, thread_id: str) -> dict:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["detail"] == BUSY_DETAIL
    turn = body["turn"]
    assert turn["thread_id"] == thread_id and turn["busy"] is True
    assert turn["order_id"] is None and turn["tool_calls"] == []
    return turn


def test_chat_on_a_held_thread_is_409_and_changes_nothing(
    client: TestClient, store: Engine, thread_id: str
) -> None:
    message = {"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"}
    with held_by_another_process(store, thread_id):
        turn = assert_busy(client.post("/api/chat", json=message), thread_id)
    assert turn["draft"] is None  # the message was not read
    after = client.post("/api/chat", json=message)
    assert after.status_code == 200 and after.json()["busy"] is False
    assert {line["product_id"] for line in after.json()["draft"]["lines"]} == {14}


def test_approve_on_a_held_thread_is_409_and_orders_nothing(
    client: TestClient, store: Engine, thread_id: str
) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"})
    with held_by_another_process(store, thread_id):
        turn = assert_busy(client.post(f"/api/chat/{thread_id}/approve"), thread_id)
    assert turn["draft"]["customer_id"] == "ERNSH"  # the draft is shown, untouched
    assert orders_of_thread(store, thread_id) == 0
    approved = client.post(f"/api/chat/{thread_id}/approve")
    assert approved.status_code == 200 and isinstance(approved.json()["order_id"], int)
    assert orders_of_thread(store, thread_id) == 1


def test_reject_on_a_held_thread_is_409_and_keeps_the_draft(
    client: TestClient, store: Engine, thread_id: str
) -> None:
    client.post("/api/chat", json={"thread_id": thread_id, "message": "Ernst Handel: 3 tofu"})
    with held_by_another_process(store, thread_id):
        turn = assert_busy(client.post(f"/api/chat/{thread_id}/reject"), thread_id)
    assert turn["draft"] is not None
    rejected = client.post(f"/api/chat/{thread_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["draft"] is None


def test_the_409_is_documented_on_every_chat_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/chat", "/api/chat/{thread_id}/approve", "/api/chat/{thread_id}/reject"):
        documented = paths[path]["post"]["responses"]["409"]["content"]["application/json"]
        assert "BusyOut" in str(documented["schema"]), path
