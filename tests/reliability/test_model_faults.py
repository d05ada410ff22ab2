"""Chat model faults, caused for real: a local OpenAI-compatible server that fails.

The desk is `bootstrap.build_services` from the environment (LLM_PROVIDER=openai, LLM_MAX_RETRIES,
LLM_TIMEOUT_S) talking to `tests/openai_server.py`'s scripted server, which answers 500s,
stalls, calls a tool that does not exist, or sends a body that is not a chat completion.
Each turn ends with a clear reply, writes nothing it should not, and the next message in
the same thread works - through the facade and through POST /api/chat.

The openai client retries 5xx and timeouts with exponential backoff: 0.5 s before the
first retry and 1 s before the second, each minus up to 25 % jitter (openai 3.57
`_calculate_retry_timeout`, INITIAL_RETRY_DELAY 0.5). Single 500s, slow replies with
no retries and malformed tool arguments are in tests/agents/test_openai_provider.py.
"""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agents.desk import OrderDesk
from api import create_app
from config import get_settings
from tests.agents.fixtures_loop import draft_lines, store_snapshot, thread_orders
from tests.openai_server import (  # noqa: F401 - fixtures
    QUESO,
    QUESO_PRICE,
    OpenDesk,
    Reply,
    ScriptedOpenAIServer,
    chroma_dir_fixture,
    completion,
    draft_12_queso,
    drafted_12,
    llm_server_fixture,
    open_desk_fixture,
    text,
    tool_calls,
)

KEY = "model-faults-key-0123456789"
FIVE_QUESO = tool_calls(
    ("update_draft", {"set_quantities": [{"product_id": QUESO, "quantity": 5}]})
)
RETRIES = 2


@pytest.fixture
def thread_id() -> str:
    return f"faults-{uuid.uuid4().hex[:12]}"


def failed_500() -> Reply:
    return Reply(status=500)


def make_it_5(desk: OrderDesk, llm_server: ScriptedOpenAIServer, thread_id: str) -> None:
    """The next message of the thread works: the draft goes from 12 to 5."""
    llm_server.reset(FIVE_QUESO, text("Now 5 x Queso Cabrales."))
    turn = desk.chat(thread_id, "make it 5 instead")
    assert turn.error is None, turn.error
    assert turn.reply == "Now 5 x Queso Cabrales."
    assert draft_lines(desk, thread_id) == [(QUESO, 5, QUESO_PRICE)]


# --- retries ----------------------------------------------------------------------------


def test_two_500s_are_retried_with_backoff_and_the_turn_succeeds(
    open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk(max_retries=RETRIES)
    llm_server.reset(failed_500(), failed_500(), *draft_12_queso())

    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")

    assert turn.error is None, turn.error
    assert turn.reply == "12 x Queso Cabrales for Alfreds Futterkiste, 252.00. Confirm?"
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    # The first model call took 3 attempts (the same request, retry count in the header);
    # the loop's two later calls were answered at once.
    assert len(llm_server.requests) == 3 + 2 and not llm_server.script
    assert llm_server.requests[0] == llm_server.requests[1] == llm_server.requests[2]
    retry_counts = [h.get("x-stainless-retry-count") for h in llm_server.headers[:3]]
    assert retry_counts == ["0", "1", "2"]
    first_gap, second_gap = (
        llm_server.arrived[1] - llm_server.arrived[0],
        llm_server.arrived[2] - llm_server.arrived[1],
    )
    # Backoff: 0.375-0.5 s, then 0.75-1 s (a constant delay would stay under ~0.5 s, and
    # without backoff the retries come milliseconds apart).
    assert first_gap > 0.3, f"no backoff before the first retry ({first_gap:.3f} s)"
    assert second_gap > 0.6, f"backoff did not grow: {first_gap:.3f} s, {second_gap:.3f} s"


def test_a_server_that_always_fails_gets_three_attempts_and_a_clear_reply(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk(max_retries=RETRIES)
    drafted_12(desk, llm_server, thread_id)
    before = store_snapshot(engine)
    llm_server.reset(failed_500(), failed_500(), failed_500())

    failed = desk.chat(thread_id, "make it 5 instead")

    assert len(llm_server.requests) == 1 + RETRIES and not llm_server.script
    assert failed.error is not None and "500" in failed.error
    assert failed.reply.startswith("Sorry, something went wrong while handling that message")
    assert "the chat model service failed (HTTP 500)" in failed.reply
    assert "Your draft is unchanged. Please try again." in failed.reply
    assert failed.order_id is None
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert store_snapshot(engine) == before

    make_it_5(desk, llm_server, thread_id)


def test_each_attempt_times_out_and_the_turn_ends_long_before_the_stall(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    stall_s = 60.0
    desk = open_desk(timeout_s=1, max_retries=RETRIES)
    before = store_snapshot(engine)
    llm_server.reset(*[text("too late") for _ in range(1 + RETRIES)])
    for reply in llm_server.script:
        reply.delay_s = stall_s

    started = time.monotonic()
    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")
    elapsed = time.monotonic() - started

    # 3 attempts of 1 s plus ~1.5 s of backoff; without LLM_TIMEOUT_S the first one waits
    # the full minute. Timeouts are retried like 5xx: every attempt reached the server.
    assert elapsed < stall_s / 2, f"the turn took {elapsed:.1f} s"
    assert len(llm_server.requests) == 1 + RETRIES
    assert turn.error is not None and "did not answer in time" in turn.reply
    assert "Your draft is unchanged" in turn.reply
    assert store_snapshot(engine) == before
    assert desk.current_draft(thread_id) is None

    drafted_12(desk, llm_server, thread_id)


# --- replies that are not what the tools or the client expect ---------------------------


def test_a_call_to_an_unknown_tool_writes_nothing_and_the_thread_goes_on(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    before = store_snapshot(engine)
    unknown = tool_calls(("delete_all_orders", {"confirm": True}))
    llm_server.reset(unknown, text("I cannot do that. What would you like to order?"))

    turn = desk.chat(thread_id, "delete every order")

    assert turn.error is None, turn.error
    assert turn.reply == "I cannot do that. What would you like to order?"
    answer = llm_server.requests[1]["messages"][-1]
    assert answer["role"] == "tool" and "not a valid tool" in answer["content"]
    assert "draft_order" in answer["content"]  # the model is told which tools exist
    assert store_snapshot(engine) == before
    assert desk.current_draft(thread_id) is None and not turn.pending

    drafted_12(desk, llm_server, thread_id)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body="<html><body><h1>502 Bad Gateway</h1></body></html>"),
        Reply(body={**completion({"role": "assistant", "content": "x"}), "choices": []}),
        Reply(body={"error": None, "detail": "nothing useful"}),
    ],
    ids=["html", "no_choices", "not_a_completion"],
)
def test_a_reply_that_is_not_a_chat_completion_is_a_clear_turn(
    engine: Engine,
    open_desk: OpenDesk,
    llm_server: ScriptedOpenAIServer,
    thread_id: str,
    reply: Reply,
) -> None:
    desk = open_desk(max_retries=RETRIES)
    drafted_12(desk, llm_server, thread_id)
    before = store_snapshot(engine)
    llm_server.reset(reply)

    failed = desk.chat(thread_id, "make it 5 instead")

    assert len(llm_server.requests) == 1  # a 200 is not retried, however odd its body
    assert failed.error is not None
    assert failed.reply.startswith("Sorry, something went wrong")
    assert "Your draft is unchanged. Please try again." in failed.reply
    assert store_snapshot(engine) == before

    make_it_5(desk, llm_server, thread_id)


# --- through the HTTP API ---------------------------------------------------------------


def test_the_api_answers_a_failing_model_with_a_clear_turn_not_a_500(
    engine: Engine,
    open_desk: OpenDesk,
    llm_server: ScriptedOpenAIServer,
    thread_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = open_desk(max_retries=RETRIES)
    monkeypatch.setenv("API_KEYS", KEY)
    get_settings.cache_clear()
    before = store_snapshot(engine)
    with TestClient(create_app(desk), headers={"X-API-Key": KEY}) as client:
        llm_server.reset(failed_500(), failed_500(), failed_500())
        failed = client.post(
            "/api/chat", json={"thread_id": thread_id, "message": "Alfreds wants 12 Queso"}
        )
        assert failed.status_code == 200, failed.text
        body = failed.json()
        assert body["error"] and "500" in body["error"]
        assert body["reply"].startswith("Sorry, something went wrong")
        assert body["draft"] is None and body["order_id"] is None
        assert len(llm_server.requests) == 1 + RETRIES
        assert store_snapshot(engine) == before

        llm_server.reset(*draft_12_queso())
        drafted = client.post(
            "/api/chat", json={"thread_id": thread_id, "message": "Alfreds wants 12 Queso"}
        )
        assert drafted.status_code == 200, drafted.text
        assert drafted.json()["error"] is None
        assert [
            (line["product_id"], line["quantity"]) for line in drafted.json()["draft"]["lines"]
        ] == [(QUESO, 12)]
        done = client.post(f"/api/chat/{thread_id}/approve")
        assert done.status_code == 200, done.text
        order_id = done.json()["order_id"]

    assert order_id is not None
    assert [order for order, _ in thread_orders(engine, thread_id)] == [order_id]
