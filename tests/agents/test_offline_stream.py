"""Streaming the offline order model: the chunks add up to what `invoke` answers.

The model is the real one (built by `agents.models.build_chat_model` over the seeded
Northwind customers and product names) inside a real OrderDesk; a callback records each
call the agent makes to it during a real order turn, and each recorded call is then
streamed and invoked again on the same messages. One backend (SQLite) is enough: the
database only feeds the tool results the model reads.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import LLMResult
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from agents.models import build_chat_model
from agents.offline.model import TURN_HAD_DRAFT, OfflineOrderModel
from config import get_settings
from orders.catalog import list_products
from orders.customers import CustomerIndex
from tests.agents.fixtures_loop import (  # noqa: F401 - fixtures
    DeskFactory,
    catalog_fixture,
    loop_collection_fixture,
    make_desk_fixture,
    store_fixture,
    thread_id_fixture,
)

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ORDER = (
    "Alfreds Futterkiste wants 12 Queso Cabrales, a dozen of the cajun seasoning and 5 mozzarella"
)


class CallRecorder(BaseCallbackHandler):
    """The messages of every call to the model and the message it answered."""

    def __init__(self) -> None:
        self.inputs: list[list[BaseMessage]] = []
        self.outputs: list[BaseMessage] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.inputs.append(list(messages[0]))

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.outputs.append(response.generations[0][0].message)  # type: ignore[attr-defined]


class TokenRecorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


@pytest.fixture(name="model")
def model_fixture(store: Engine) -> OfflineOrderModel:
    with Session(store) as session:
        customers = CustomerIndex.load(session=session)
        names = [product.name for product in list_products(session=session)]
    model = build_chat_model(
        get_settings(), provider="offline", customers=customers, product_names=names
    )
    assert isinstance(model, OfflineOrderModel)
    return model


@pytest.fixture(name="calls")
def calls_fixture(model: OfflineOrderModel, make_desk: DeskFactory, thread_id: str) -> CallRecorder:
    """The model calls of one real order turn through the desk."""
    desk = make_desk(model)  # type: ignore[arg-type]
    recorder = CallRecorder()
    model.callbacks = [recorder]
    turn = desk.chat(thread_id, ORDER)
    model.callbacks = None
    assert turn.draft is not None and turn.draft.customer_id == "ALFKI"
    assert len(recorder.inputs) >= 3  # find the customer, search products, draft, reply
    return recorder


def added(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def calls_of(message: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(call["name"], call["args"]) for call in message.tool_calls]


def assert_same_answer(streamed: AIMessage, invoked: AIMessage) -> None:
    assert streamed.content == invoked.content
    assert calls_of(streamed) == calls_of(invoked)  # tool call ids are new on every call
    assert streamed.additional_kwargs == invoked.additional_kwargs
    assert streamed.usage_metadata == invoked.usage_metadata
    assert streamed.invalid_tool_calls == []


def test_every_call_of_an_order_turn_streams_to_what_invoke_answers(
    model: OfflineOrderModel, calls: CallRecorder
) -> None:
    for messages, answered in zip(calls.inputs, calls.outputs, strict=True):
        chunks = list(model.stream(messages))
        full = added(chunks)
        invoked = model.invoke(messages)
        assert_same_answer(full, invoked)
        assert full.content == answered.content  # the replay is the turn's own call
        assert calls_of(full) == calls_of(answered)  # type: ignore[arg-type]
        assert len({chunk.id for chunk in chunks}) == 1 and full.id
        assert [chunk.chunk_position for chunk in chunks][-1] == "last"
        assert sum(1 for chunk in chunks if chunk.usage_metadata) == 1
        ids = [call["id"] for call in full.tool_calls]
        assert all(ids) and len(set(ids)) == len(ids)
    first = model.invoke(calls.inputs[0])
    assert first.tool_calls and TURN_HAD_DRAFT in first.additional_kwargs


def test_the_reply_streams_word_by_word(model: OfflineOrderModel, calls: CallRecorder) -> None:
    reply = calls.inputs[-1]  # the call that writes the priced draft out
    chunks = list(model.stream(reply))
    texts = [str(chunk.content) for chunk in chunks if chunk.content]
    invoked = model.invoke(reply)
    assert "$690.00.\n" in str(invoked.content)  # "Draft for Alfreds ...: 3 lines, total ..."
    assert len(texts) > 10 and "".join(texts) == invoked.content
    assert all(len(text.split()) == 1 for text in texts)
    assert added(chunks).response_metadata["model_name"] == "offline"


def test_a_two_part_reply_keeps_its_blank_line(
    model: OfflineOrderModel, make_desk: DeskFactory, thread_id: str
) -> None:
    """Two requests in one message: two replies joined by a blank line, streamed as is."""
    desk = make_desk(model)  # type: ignore[arg-type]
    recorder = CallRecorder()
    model.callbacks = [recorder]
    desk.chat(thread_id, "where is order 10248? and where is order 10250?")
    model.callbacks = None
    chunks = list(model.stream(recorder.inputs[-1]))
    text = str(model.invoke(recorder.inputs[-1]).content)
    assert "\n\n" in text and "".join(str(chunk.content) for chunk in chunks) == text
    assert any(str(chunk.content).endswith(".\n\n") for chunk in chunks)


def test_astream_adds_up_to_ainvoke(model: OfflineOrderModel, calls: CallRecorder) -> None:
    async def both(messages: list[BaseMessage]) -> tuple[AIMessage, AIMessage]:
        chunks = [chunk async for chunk in model.astream(messages)]
        return added(chunks), await model.ainvoke(messages)

    for messages in (calls.inputs[0], calls.inputs[-1]):
        streamed, invoked = asyncio.run(both(messages))
        assert_same_answer(streamed, invoked)


def test_usage_counts_the_words_read_and_written(
    model: OfflineOrderModel, calls: CallRecorder
) -> None:
    messages = calls.inputs[-1]
    usage = model.invoke(messages).usage_metadata
    assert usage is not None
    read = 0
    for message in messages:
        said = [message.text] + [
            json.dumps({"name": c["name"], "args": c["args"]})
            for c in getattr(message, "tool_calls", [])
        ]
        read += len(" ".join(said).split())
    assert usage["input_tokens"] == read > 100  # the system prompt is most of it
    assert usage["output_tokens"] == len(str(model.invoke(messages).content).split())
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_stop_cuts_stream_and_invoke_alike(model: OfflineOrderModel, calls: CallRecorder) -> None:
    messages = calls.inputs[-1]
    whole = str(model.invoke(messages).content)
    stop = "total"
    cut = model.invoke(messages, stop=[stop])
    streamed = added(list(model.stream(messages, stop=[stop])))
    assert cut.content == streamed.content == whole[: whole.index(stop)]
    greeting = str(OfflineOrderModel().invoke("Hello").content)
    by_default = OfflineOrderModel(stop=["orders"])  # stop sequences given at construction
    assert by_default.invoke("Hello").content == greeting[: greeting.index("orders")]


def test_stream_reports_each_chunk_to_a_run_manager(
    model: OfflineOrderModel, calls: CallRecorder
) -> None:
    """Called with a run manager (as the v2 event bridge does), `_stream` reports each
    chunk's text itself; `stream()` passes none and reports them on its own."""
    messages = calls.inputs[-1]
    recorder = TokenRecorder()
    (run_manager,) = CallbackManager(handlers=[recorder]).on_chat_model_start({}, [messages])
    chunks = list(model._stream(messages, run_manager=run_manager))
    assert recorder.tokens == [chunk.text for chunk in chunks]
    via_stream = TokenRecorder()
    list(model.stream(messages, config={"callbacks": [via_stream]}))
    assert "".join(via_stream.tokens) == "".join(recorder.tokens) == model.invoke(messages).content
