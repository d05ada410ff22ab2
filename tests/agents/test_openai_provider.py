"""The `openai` provider end to end, with no network: ChatOpenAI against a local server.

A tiny OpenAI-compatible server (`tests/openai_server.py`: FastAPI + uvicorn in a
background thread, on a free 127.0.0.1 port) answers `POST /v1/chat/completions` in the
real wire format from a script - tool calls with JSON-string arguments, text, an HTTP
500, malformed arguments, or a reply slower than the client's timeout - and records
every request. The desk is built by `bootstrap.build_services` from the environment
(LLM_PROVIDER=openai, OPENAI_BASE_URL pointing at the server) on a seeded store of each
backend, so settings, the model factory, the tools' JSON schemas and the facade's
approval handling are all exercised as in production. Retries, backoff and other model
faults are in `tests/reliability/test_model_faults.py`.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from tests.agents.fixtures_loop import draft_lines, stock, store_snapshot, thread_orders
from tests.openai_server import (  # noqa: F401 - fixtures
    QUESO,
    QUESO_PRICE,
    QUESO_STOCK,
    OpenDesk,
    Reply,
    ScriptedOpenAIServer,
    call_ids,
    chroma_dir_fixture,
    draft_12_queso,
    drafted_12,
    llm_server_fixture,
    open_desk_fixture,
    text,
    tool_answers,
    tool_calls,
)

ALL_TOOLS = {
    "search_catalog",
    "find_alternatives",
    "swap_line",
    "ship_available",
    "find_customer",
    "draft_order",
    "update_draft",
    "discard_draft",
    "confirm_order",
    "cancel_order",
    "order_status",
    "recent_orders",
    "usual_products",
    "recall_customer",
    "remember",
}


@pytest.fixture
def thread_id() -> str:
    return f"openai-{uuid.uuid4().hex[:12]}"


# --- the happy path ---------------------------------------------------------------------


def test_an_order_drafted_and_confirmed_over_the_wire(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    script = draft_12_queso()
    llm_server.reset(*script)

    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")

    assert turn.error is None, turn.error
    assert turn.reply == "12 x Queso Cabrales for Alfreds Futterkiste, 252.00. Confirm?"
    assert turn.draft is not None and turn.draft.customer_id == "ALFKI"
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert turn.draft.total == Decimal("252.00")
    assert len(llm_server.requests) == 3 and not llm_server.script

    first = llm_server.requests[0]
    assert first["model"] == "test-model"
    assert llm_server.headers[0]["authorization"] == "Bearer test-key"
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert set(tools) == ALL_TOOLS
    assert all(t["type"] == "function" for t in first["tools"])
    lines = tools["draft_order"]["parameters"]["properties"]["lines"]
    assert lines["type"] == "array"
    assert all("runtime" not in t["parameters"].get("properties", {}) for t in tools.values())
    system = first["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are Order Desk")
    assert "<draft>null</draft>" in system["content"]
    # The model is told the date, for "deliver by Friday".
    day = datetime.now(UTC).date()
    assert f"Today is {day:%A}, {day.isoformat()}." in system["content"]
    # The message names Alfreds: what we remember of them is in the prompt. (CHROMA_PATH
    # is the module's, so an order confirmed on the other backend may be listed.)
    assert '<memories customer_id="ALFKI">\n' in system["content"]
    assert first["messages"][1] == {"role": "user", "content": "Alfreds wants 12 Queso Cabrales"}

    # The tools' answers went back under the ids the server gave its calls.
    found = tool_answers(llm_server.requests[1])
    customer_call, search_call = call_ids(script[0])
    assert found[customer_call]["match"]["customer_id"] == "ALFKI"
    assert found[search_call]["candidates"][0]["product_id"] == QUESO
    assert found[search_call]["candidates"][0]["unit_price"] == "21.00"
    drafted = tool_answers(llm_server.requests[2])[call_ids(script[1])[0]]["draft"]
    assert drafted["lines"][0]["unit_price"] == "21.00" and drafted["confirmable"] is True
    assert '"customer_id": "ALFKI"' in llm_server.requests[2]["messages"][0]["content"]

    confirm = tool_calls(("confirm_order", {}))
    llm_server.reset(confirm, text("Order placed."))
    done = desk.chat(thread_id, "yes")

    assert done.error is None and done.reply == "Order placed."
    assert done.order_id is not None and not done.pending
    assert thread_orders(engine, thread_id) == [
        (done.order_id, [(QUESO, 12, QUESO_PRICE, Decimal("0"))])
    ]
    assert stock(engine, QUESO) == QUESO_STOCK - 12
    committed = tool_answers(llm_server.requests[1])[call_ids(confirm)[0]]
    assert committed["order"]["order_id"] == done.order_id


def test_a_streamed_turn_over_the_wire(
    open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    from agents.desk import ReplyText, StepDone, TurnDone

    desk = open_desk()
    llm_server.reset(*draft_12_queso())

    events = list(desk.chat_stream(thread_id, "Alfreds wants 12 Queso Cabrales"))

    assert isinstance(events[-1], TurnDone)
    turn = events[-1].turn
    assert turn.error is None, turn.error
    assert turn.reply == "12 x Queso Cabrales for Alfreds Futterkiste, 252.00. Confirm?"
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    # The model was asked to stream, and its words came as they arrived.
    assert [request.get("stream") for request in llm_server.requests] == [True] * 3
    pieces = [e.text for e in events if isinstance(e, ReplyText)]
    assert len(pieces) > 5 and "".join(pieces) == turn.reply
    steps = [e.step.name for e in events if isinstance(e, StepDone)]
    assert steps == ["find_customer", "search_catalog", "draft_order"]
    # A turn that is not streamed does not ask for a stream.
    llm_server.reset(text("Anything else?"))
    assert desk.chat(thread_id, "thanks").reply == "Anything else?"
    assert not llm_server.requests[0].get("stream")


def test_a_new_message_rejects_an_unasked_confirmation_over_the_wire(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    script = draft_12_queso()
    unasked = tool_calls(("confirm_order", {}))
    llm_server.reset(script[0], script[1], unasked)
    assert desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales").pending
    assert thread_orders(engine, thread_id) == []

    llm_server.reset(
        text("Not confirmed."),
        tool_calls(("update_draft", {"set_quantities": [{"product_id": QUESO, "quantity": 5}]})),
        text("Now 5 x Queso Cabrales. Confirm?"),
    )
    turn = desk.chat(thread_id, "make it 5 instead")

    assert turn.error is None and turn.reply == "Now 5 x Queso Cabrales. Confirm?"
    rejected = llm_server.requests[0]["messages"][-1]
    assert rejected["role"] == "tool" and rejected["tool_call_id"] == call_ids(unasked)[0]
    assert "did not confirm" in rejected["content"]
    assert thread_orders(engine, thread_id) == []
    assert stock(engine, QUESO) == QUESO_STOCK
    assert draft_lines(desk, thread_id) == [(QUESO, 5, QUESO_PRICE)]


# --- failures -------------------------------------------------------------------------


def test_a_server_error_is_a_clear_turn_and_the_next_turn_works(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    llm_server.reset(*draft_12_queso())
    desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")
    before = store_snapshot(engine)

    llm_server.reset(Reply(status=500))
    failed = desk.chat(thread_id, "make it 5 instead")

    assert failed.error is not None and "went wrong" in failed.reply
    assert len(llm_server.requests) == 1  # LLM_MAX_RETRIES=0: asked once
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert store_snapshot(engine) == before

    llm_server.reset(
        tool_calls(("update_draft", {"set_quantities": [{"product_id": QUESO, "quantity": 5}]})),
        text("Now 5 x Queso Cabrales."),
    )
    recovered = desk.chat(thread_id, "make it 5 instead")

    assert recovered.error is None and recovered.reply == "Now 5 x Queso Cabrales."
    assert draft_lines(desk, thread_id) == [(QUESO, 5, QUESO_PRICE)]


def test_malformed_tool_arguments_write_nothing_and_raise_nothing(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    before = store_snapshot(engine)
    llm_server.reset(
        tool_calls(("draft_order", '{"customer_id": "ALFKI", "lines": [{"product_id": 11,')),
        text("Sorry, could you repeat the order?"),
    )

    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")

    assert store_snapshot(engine) == before
    assert desk.current_draft(thread_id) is None
    assert turn.order_id is None and not turn.pending

    # The thread goes on: the broken call is answered in the history sent next time.
    drafted_12(desk, llm_server, thread_id)


def test_malformed_tool_arguments_give_a_clear_reply(
    open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk()
    llm_server.reset(
        tool_calls(("draft_order", '{"customer_id": "ALFKI", "lines": [{"product_id": 11,')),
        text("Sorry, could you repeat the order?"),
    )

    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")

    assert turn.reply.strip()


def test_a_slow_server_times_out_with_a_clear_reply(
    engine: Engine, open_desk: OpenDesk, llm_server: ScriptedOpenAIServer, thread_id: str
) -> None:
    desk = open_desk(timeout_s=1)
    before = store_snapshot(engine)
    llm_server.reset(Reply({"role": "assistant", "content": "too late"}, delay_s=4))

    started = time.monotonic()
    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")
    elapsed = time.monotonic() - started

    assert elapsed < 3.5, f"the turn took {elapsed:.1f} s with LLM_TIMEOUT_S=1"
    assert turn.error is not None and "went wrong" in turn.reply
    assert "did not answer in time" in turn.reply
    assert store_snapshot(engine) == before
