"""The `openai` provider end to end, with no network: ChatOpenAI against a local server.

Each test module run starts a tiny OpenAI-compatible server (FastAPI + uvicorn in a
background thread, on a free 127.0.0.1 port) whose `POST /v1/chat/completions` answers
in the real wire format from a script - tool calls with JSON-string arguments, text, an
HTTP 500, malformed arguments, or a reply slower than the client's timeout - and records
every request. The desk is built by `OrderDesk.open()` from the environment
(LLM_PROVIDER=openai, OPENAI_BASE_URL pointing at the server) on a seeded store of each
backend, so settings, the model factory, the tools' JSON schemas and the facade's
approval handling are all exercised as in production.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from agents.desk import OrderDesk
from config import get_settings
from db.engine import dispose_engine
from db.seed import seed
from rag.chroma import reset_chroma_client
from rag.search import reset_catalog_search
from tests.agents.fixtures_loop import (
    close_saver,
    draft_lines,
    stock,
    store_snapshot,
    thread_orders,
)

QUESO, QUESO_PRICE, QUESO_STOCK = 11, Decimal("21.00"), 22
ALL_TOOLS = {
    "search_catalog",
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


# --- the scripted server --------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer: a chat completion message, an HTTP error, or a delay first."""

    message: dict[str, Any] | None = None
    status: int = 200
    delay_s: float = 0.0


def tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    """An assistant message calling tools; a str argument is sent as is (even if not JSON)."""
    return Reply(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for name, args in calls
            ],
        }
    )


def text(content: str) -> Reply:
    return Reply({"role": "assistant", "content": content})


@dataclass
class ScriptedOpenAIServer:
    """Answers /v1/chat/completions from `script`, recording each request's body and headers."""

    port: int
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, *replies: Reply) -> None:
        self.script[:] = list(replies)
        self.requests.clear()
        self.headers.clear()
        self.unexpected.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            problem = unanswered_tool_calls(body["messages"])
            if problem:  # what OpenAI answers to a history it cannot continue
                self.unexpected.append(problem)
                error = {"message": problem, "type": "invalid_request_error"}
                return JSONResponse({"error": error}, status_code=400)
            if not self.script:
                self.unexpected.append("chat completion beyond the script")
                return JSONResponse({"error": {"message": "script exhausted"}}, status_code=500)
            reply = self.script.pop(0)
            await wait_unless_disconnected(request, reply.delay_s)
            if reply.status != 200:
                body = {"error": {"message": "scripted failure", "type": "server_error"}}
                return JSONResponse(body, status_code=reply.status)
            return JSONResponse(completion(reply.message or {}))

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything_else(path: str) -> JSONResponse:
            self.unexpected.append(path)
            return JSONResponse({"error": {"message": f"no route {path}"}}, status_code=404)

        return app


def unanswered_tool_calls(messages: list[dict[str, Any]]) -> str | None:
    """OpenAI's rule: an assistant message's tool_calls are each answered by a tool message."""
    waiting: set[str] = set()
    for message in messages:
        if message["role"] == "tool":
            waiting.discard(message.get("tool_call_id", ""))
            continue
        if waiting:
            break
        if message["role"] == "assistant":
            waiting = {c["id"] for c in message.get("tool_calls") or []}
    return f"tool_calls {sorted(waiting)} have no tool message" if waiting else None


async def wait_unless_disconnected(request: Request, seconds: float) -> None:
    """Sleep like a slow model, but stop once the client has given up (clean shutdown)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)


def completion(message: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion body as OpenAI sends it."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
    }


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedOpenAIServer]:
    """The scripted server on a free loopback port, for the whole module."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server_state = ScriptedOpenAIServer(port=sock.getsockname()[1])
    config = uvicorn.Config(
        server_state.app(), log_level="warning", timeout_graceful_shutdown=1, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the scripted OpenAI server did not start"
    yield server_state
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def chroma_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CHROMA_PATH for the module: the catalog is embedded once, later syncs are no-ops."""
    return tmp_path_factory.mktemp("openai_chroma")


OpenDesk = Callable[..., OrderDesk]


@pytest.fixture
def open_desk(
    engine: Engine,
    llm_server: ScriptedOpenAIServer,
    chroma_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[OpenDesk]:
    """`OrderDesk.open()` from the environment, pointed at the scripted server."""
    seed(engine=engine)
    llm_server.reset()
    opened: list[OrderDesk] = []

    def build(*, timeout_s: float = 10.0) -> OrderDesk:
        for name, value in {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": llm_server.base_url,
            "OPENAI_MODEL": "test-model",
            "LLM_MAX_RETRIES": "0",
            "LLM_TIMEOUT_S": str(timeout_s),
            "CHROMA_PATH": str(chroma_dir),
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        reset_chroma_client()
        reset_catalog_search()
        desk = OrderDesk.open()
        opened.append(desk)
        return desk

    yield build
    for desk in opened:
        close_saver(desk._checkpointer)
    reset_chroma_client()
    reset_catalog_search()
    get_settings.cache_clear()
    dispose_engine()
    assert not llm_server.unexpected, llm_server.unexpected


@pytest.fixture
def thread_id() -> str:
    return f"openai-{uuid.uuid4().hex[:12]}"


def draft_12_queso() -> list[Reply]:
    """The server's answers to "Alfreds wants 12 Queso Cabrales"."""
    return [
        tool_calls(
            ("find_customer", {"name_or_code": "Alfreds"}),
            ("search_catalog", {"query": "Queso Cabrales", "k": 3}),
        ),
        tool_calls(
            (
                "draft_order",
                {"customer_id": "ALFKI", "lines": [{"product_id": QUESO, "quantity": 12}]},
            )
        ),
        text("12 x Queso Cabrales for Alfreds Futterkiste, 252.00. Confirm?"),
    ]


def tool_answers(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `tool` role messages at the end of a request, by tool_call_id, parsed."""
    answers: dict[str, dict[str, Any]] = {}
    for message in reversed(request["messages"]):
        if message["role"] != "tool":
            break
        answers[message["tool_call_id"]] = json.loads(message["content"])
    return answers


def call_ids(reply: Reply) -> list[str]:
    assert reply.message is not None
    return [c["id"] for c in reply.message["tool_calls"]]


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
    llm_server.reset(*draft_12_queso())
    retried = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")
    assert retried.error is None, retried.error
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]


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
    assert "Timeout" in turn.reply
    assert store_snapshot(engine) == before
