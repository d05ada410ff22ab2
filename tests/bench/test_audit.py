"""bench.audit's checks catch what they are for, on a store made to show each fault.

A real SQLite file with the ORM tables and a real `SqliteSaver` on it: two drafts of one
thread open at once, a checkpoint history that forks, a latest state with a tool call and
no tool message (and the same with the approval interrupt pending, which is fine), a
message the API accepted that the history lacks, and replies that contradict the orders.
Each check must fail on its fault and pass without it - the scale-out runs in
test_cluster.py only show that a healthy run passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import Engine, create_engine, insert
from sqlalchemy.pool import NullPool

from bench.audit import (
    INTERRUPT,
    Exchange,
    _accepted_messages_kept,
    _latest_states,
    _no_dangling_tool_calls,
    _no_forks,
    _no_two_open_drafts,
    _replies_agree,
)
from db.models import Base, Draft, DraftStatus

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = create_engine(url, poolclass=NullPool)
    Base.metadata.create_all(engine)
    with SqliteSaver.from_conn_string(str(tmp_path / "audit.db")) as saver:
        saver.setup()
    yield engine, url
    engine.dispose()


def add_draft(engine: Engine, thread: str, status: DraftStatus, opened: int, closed: int) -> None:
    row = {"thread_id": thread, "status": status, "created_at": T0 + timedelta(seconds=opened)}
    with engine.begin() as connection:
        connection.execute(insert(Draft).values(updated_at=T0 + timedelta(seconds=closed), **row))


def test_two_drafts_open_at_once_are_found_even_after_both_closed(
    store: tuple[Engine, str],
) -> None:
    engine, _ = store
    add_draft(engine, "fine", DraftStatus.CONFIRMED, 0, 5)
    add_draft(engine, "fine", DraftStatus.OPEN, 6, 6)  # the next order, after the first
    assert _no_two_open_drafts(engine, {"fine"}).ok
    add_draft(engine, "double", DraftStatus.CONFIRMED, 0, 5)
    add_draft(engine, "double", DraftStatus.CONFIRMED, 2, 7)  # opened while the first was
    check = _no_two_open_drafts(engine, {"fine", "double"})
    assert not check.ok and "double" in check.detail and "fine" not in check.detail


def save(saver: SqliteSaver, thread: str, messages: list[Any], parent: str | None) -> str:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"messages": messages}
    configurable = {"thread_id": thread, "checkpoint_ns": ""}
    if parent:
        configurable["checkpoint_id"] = parent
    saved = saver.put({"configurable": configurable}, checkpoint, {}, {})
    return str(saved["configurable"]["checkpoint_id"])


def test_a_forked_history_and_a_dangling_tool_call_are_found(store: tuple[Engine, str]) -> None:
    engine, url = store
    asked = AIMessage("", tool_calls=[{"name": "confirm_order", "args": {}, "id": "c1"}])
    with SqliteSaver.from_conn_string(url.removeprefix("sqlite:///")) as saver:
        root = save(saver, "chain", [HumanMessage("hi")], None)
        save(
            saver, "chain", [HumanMessage("hi"), asked, ToolMessage("ok", tool_call_id="c1")], root
        )
        root = save(saver, "fork", [HumanMessage("hi")], None)
        save(saver, "fork", [HumanMessage("hi"), AIMessage("a")], root)
        save(saver, "fork", [HumanMessage("hi"), AIMessage("b")], root)  # same parent
        save(saver, "dangling", [HumanMessage("yes"), asked], None)
        waiting = save(saver, "waiting", [HumanMessage("yes"), asked], None)
        config = {
            "configurable": {"thread_id": "waiting", "checkpoint_ns": "", "checkpoint_id": waiting}
        }
        saver.put_writes(config, [(INTERRUPT, "approve?")], task_id="t1")  # type: ignore[arg-type]
    threads = {"chain", "fork", "dangling", "waiting"}
    forks = _no_forks(engine, threads)
    assert not forks.ok and forks.detail == "fork"
    states = dict(_latest_states(url, threads))
    assert states["waiting"].interrupted and not states["dangling"].interrupted
    dangling = _no_dangling_tool_calls(states)
    assert not dangling.ok and dangling.detail == "dangling: confirm_order"


def exchange(thread: str, message: str | None, body: dict[str, Any], status: int = 200) -> Exchange:
    return Exchange(thread, "order", "http://replica", message, status, body, 1.0)


def test_a_lost_message_is_found_and_a_busy_one_is_not_counted(store: tuple[Engine, str]) -> None:
    _, url = store
    with SqliteSaver.from_conn_string(url.removeprefix("sqlite:///")) as saver:
        save(saver, "t", [HumanMessage("Customer: ALFKI - tofu - 2")], None)
    states = dict(_latest_states(url, {"t"}))
    kept = exchange("t", "Customer: ALFKI\n- tofu - 2", {"reply": "Draft"})
    busy = exchange("t", "make the tofu 3", {"detail": "The conversation is busy"}, status=409)
    assert _accepted_messages_kept(states, [kept, busy]).ok
    lost = exchange("t", "make the tofu 3", {"reply": "Draft"})
    check = _accepted_messages_kept(states, [kept, lost])
    assert not check.ok and "make the tofu 3" in check.detail


def test_replies_that_contradict_the_orders_are_found() -> None:
    orders = {101: ("t", 1)}
    told = exchange("t", "yes", {"reply": "✅ Order 101 confirmed", "order_id": 101})
    assert _replies_agree([told], orders, {"t": [101]}, last_order_id=100).ok
    denied = exchange("t", "yes", {"reply": "The order was not placed: draft closed"})
    check = _replies_agree([denied, denied], orders, {"t": [101]}, last_order_id=100)
    assert not check.ok and "no reply reported it" in check.detail
    check = _replies_agree([told, denied], orders, {"t": [101]}, last_order_id=100)
    assert not check.ok and "was not placed" in check.detail
    foreign = exchange("u", "yes", {"reply": "✅ Order 101 confirmed", "order_id": 101})
    assert not _replies_agree([told, foreign], orders, {"t": [101]}, last_order_id=100).ok
