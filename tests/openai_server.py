"""A scripted OpenAI-compatible server, and a desk built from the environment to talk to it.

`ScriptedOpenAIServer` is a tiny FastAPI app (uvicorn in a background thread, on a free
127.0.0.1 port) whose `POST /v1/chat/completions` answers in the real wire format from a
script - tool calls with JSON-string arguments, text, an HTTP error, a raw body (not
JSON, no choices), or a reply slower than the client's timeout - and records every
request, its headers and when it arrived. `open_desk` builds the desk with the composition
root (`bootstrap.build_services`) from the environment (LLM_PROVIDER=openai,
OPENAI_BASE_URL pointing at the server) on a seeded store, so settings, the model factory,
retries and timeouts run as in production.

Test modules import the fixtures (`from tests.openai_server import llm_server_fixture`);
each fixture's function is named `<fixture>_fixture` so the import does not shadow the
test's argument.
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
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import Engine

from agents.desk import OrderDesk
from bootstrap import Services, build_services
from config import get_settings
from db.seed import seed
from rag.embeddings import MiniLMEmbeddingFunction
from tests.agents.fixtures_loop import draft_lines

QUESO, QUESO_PRICE, QUESO_STOCK = 11, Decimal("21.00"), 22


# --- the script -----------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer: a chat completion message, an HTTP error, a raw body, a delay."""

    message: dict[str, Any] | None = None
    status: int = 200
    delay_s: float = 0.0
    body: str | dict[str, Any] | None = None  # sent as is instead of a chat completion


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


def drafted_12(desk: OrderDesk, server: ScriptedOpenAIServer, thread_id: str) -> None:
    """Say "Alfreds wants 12 Queso Cabrales" to the desk; the draft must be 12 Queso."""
    server.reset(*draft_12_queso())
    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales")
    assert turn.error is None, turn.error
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]


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


# --- the server -----------------------------------------------------------------------


@dataclass
class ScriptedOpenAIServer:
    """Answers /v1/chat/completions from `script`, recording each request's body and headers."""

    port: int
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.monotonic() of each request
    unexpected: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, *replies: Reply) -> None:
        self.script[:] = list(replies)
        self.requests.clear()
        self.headers.clear()
        self.arrived.clear()
        self.unexpected.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Response:
            self.arrived.append(time.monotonic())
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
            if body.get("stream") and reply.status == 200 and reply.body is None:
                return StreamingResponse(
                    streamed(reply.message or {}), media_type="text/event-stream"
                )
            return scripted_response(reply)

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything_else(path: str) -> JSONResponse:
            self.unexpected.append(path)
            return JSONResponse({"error": {"message": f"no route {path}"}}, status_code=404)

        return app


def scripted_response(reply: Reply) -> Response:
    if isinstance(reply.body, str):
        return Response(reply.body, status_code=reply.status, media_type="text/html")
    if reply.body is not None:
        return JSONResponse(reply.body, status_code=reply.status)
    if reply.status != 200:
        body = {"error": {"message": "scripted failure", "type": "server_error"}}
        return JSONResponse(body, status_code=reply.status)
    return JSONResponse(completion(reply.message or {}))


async def streamed(message: dict[str, Any]) -> Any:
    """`message` as OpenAI streams it (server-sent events of chat.completion.chunk): the
    content a word at a time, each tool call in one chunk, then the finish reason."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "test-model",
    }

    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"

    yield event({"role": "assistant", "content": ""})
    content = message.get("content") or ""
    for position, word in enumerate(content.split(" ") if content else []):
        await asyncio.sleep(0.005)
        yield event({"content": word if position == 0 else " " + word})
    for index, call in enumerate(message.get("tool_calls") or []):
        yield event({"tool_calls": [{"index": index, **call}]})
    yield event({}, "tool_calls" if message.get("tool_calls") else "stop")
    yield "data: [DONE]\n\n"


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


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module", name="llm_server")
def llm_server_fixture() -> Iterator[ScriptedOpenAIServer]:
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


@pytest.fixture(scope="module", name="chroma_dir")
def chroma_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CHROMA_PATH for the module: the catalog is embedded once, later syncs are no-ops."""
    return tmp_path_factory.mktemp("openai_chroma")


OpenDesk = Callable[..., OrderDesk]


@pytest.fixture(name="open_desk")
def open_desk_fixture(
    engine: Engine,
    llm_server: ScriptedOpenAIServer,
    chroma_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: MiniLMEmbeddingFunction,
) -> Iterator[OpenDesk]:
    """The services' desk from the environment (on the test's engine), pointed at the
    scripted server."""
    seed(engine=engine)
    llm_server.reset()
    opened: list[Services] = []

    def build(*, timeout_s: float = 10.0, max_retries: int = 0) -> OrderDesk:
        for name, value in {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": llm_server.base_url,
            "OPENAI_MODEL": "test-model",
            "LLM_MAX_RETRIES": str(max_retries),
            "LLM_TIMEOUT_S": str(timeout_s),
            "CHROMA_PATH": str(chroma_dir),
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        services = build_services(get_settings(), engine=engine, embedder=embedder)
        opened.append(services)
        return services.desk

    yield build
    for services in opened:
        services.close()
    get_settings.cache_clear()
    assert not llm_server.unexpected, llm_server.unexpected
