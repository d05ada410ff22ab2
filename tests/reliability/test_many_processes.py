"""One conversation served by two processes at once: one turn at a time, one order.

Two real child processes (`turn_child`), each with its own offline desk, share the test
database - as two API replicas behind a load balancer do. For several threads the same
order message goes to both at once (a double submit), then "yes" to one and the Confirm
button to the other at once. Afterwards, for every thread: exactly one order, never
two open drafts, one unforked checkpoint history, no tool call without its result, and
every order reported by a reply. The lock itself is checked across processes too: held
in one, a second process waits, gets "busy" after its wait, and gets the lock as soon as
the holder dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from db.locks import ThreadBusy, ThreadLocks
from db.models import Draft, DraftStatus, Order
from db.seed import seed
from tests.agents.conftest import open_desk

ROOT = Path(__file__).resolve().parents[2]
THREADS = 6
CUSTOMERS = ["BLAUS", "ALFKI", "ERNSH", "FRANK", "BONAP", "QUICK"]


class Child:
    """A turn_child process: send it request lines, read its JSON answers."""

    def __init__(self, database_url: str, log: Path, wait_s: float = 30) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ORDERDESK_ENV_FILE": "",
            "THREAD_LOCK_WAIT_S": str(wait_s),
        }
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.turn_child"],
            cwd=ROOT,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.log = log

    def ready(self) -> None:
        assert self.readline() == "ready", self.log.read_text()[-3000:]

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def answer(self) -> dict:
        line = self.readline()
        assert line, self.log.read_text()[-3000:]
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._log.close()


@contextmanager
def children(engine: Engine, tmp_path: Path, n: int, **kwargs: float) -> Iterator[list[Child]]:
    url = engine.url.render_as_string(hide_password=False)
    started = [Child(url, tmp_path / f"child{i}.log", **kwargs) for i in range(n)]
    try:
        for child in started:
            child.ready()
        yield started
    finally:
        for child in started:
            child.close()


def forks(engine: Engine, thread_id: str) -> int:
    """Checkpoints of the thread's main history that have more than one child."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM (SELECT parent_checkpoint_id FROM checkpoints "
                "WHERE thread_id = :t AND checkpoint_ns = '' AND parent_checkpoint_id IS NOT NULL "
                "GROUP BY parent_checkpoint_id HAVING count(*) > 1) AS forked"
            ),
            {"t": thread_id},
        ).scalar_one()


def dangling_tool_calls(desk, thread_id: str) -> list[str]:
    state = desk.agent.get_state({"configurable": {"thread_id": thread_id}})
    messages = state.values.get("messages", [])
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    calls = [c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    return [] if state.interrupts else [c for c in calls if c not in answered]


def test_one_thread_on_two_processes_at_once_orders_once(engine: Engine, tmp_path: Path) -> None:
    seed(engine=engine)
    threads = [f"t-{uuid.uuid4().hex[:10]}" for _ in range(THREADS)]
    with children(engine, tmp_path, 2) as (left, right):
        # The same order message sent to both processes at once (a double submit).
        for thread_id, customer in zip(threads, CUSTOMERS, strict=True):
            message = json.dumps(f"Customer: {customer}\n- boston crab meat - 2")
            for child in (left, right):
                child.send(f"chat {thread_id} {message}")
        drafted = [child.answer() for child in (left, right) for _ in threads]
        assert not [t for t in drafted if t["error"]], drafted
        # "yes" on one process and the Confirm button on the other, at once.
        for thread_id in threads:
            left.send(f"chat {thread_id} " + json.dumps("yes"))
            right.send(f"approve {thread_id}")
        approved = [child.answer() for child in (left, right) for _ in threads]

    desk = open_desk(engine)
    try:
        with Session(engine) as session:
            for thread_id in threads:
                orders = session.scalars(
                    select(Order.order_id)
                    .join(Draft, Order.draft_id == Draft.draft_id)
                    .where(Draft.thread_id == thread_id)
                ).all()
                assert len(orders) == 1, (thread_id, orders)
                reported = {t["order_id"] for t in approved if t["thread"] == thread_id}
                assert orders[0] in reported, (thread_id, orders, reported)
                open_drafts = session.scalar(
                    select(func.count()).where(
                        Draft.thread_id == thread_id, Draft.status == DraftStatus.OPEN
                    )
                )
                assert open_drafts == 0
                assert forks(engine, thread_id) == 0, thread_id
                assert dangling_tool_calls(desk, thread_id) == [], thread_id
        # No reply claims an order that is not there, or says "not placed" for one that is.
        for turn in approved:
            if turn["order_id"] is None:
                assert (
                    "confirmed" not in turn["reply"].lower() or "already" in turn["reply"].lower()
                ), turn["reply"]
    finally:
        desk.close()


def test_a_busy_thread_waits_then_says_busy_and_is_free_when_the_holder_dies(
    engine: Engine, tmp_path: Path
) -> None:
    seed(engine=engine)
    thread_id, other = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    locks = ThreadLocks(engine, wait_s=0.5)
    try:
        with children(engine, tmp_path, 1) as (holder,):
            holder.send(f"hold {thread_id} 600")
            assert holder.answer() == {"held": thread_id}
            started = time.monotonic()
            with pytest.raises(ThreadBusy), locks.hold(thread_id):
                pass
            assert 0.4 < time.monotonic() - started < 5
            with locks.hold(other):  # another conversation is not held up
                pass
            holder.process.send_signal(signal.SIGKILL)
            holder.process.wait(timeout=30)
            with locks.hold(thread_id):  # the dead holder's lock went with it
                pass
    finally:
        locks.close()


def test_a_turn_that_cannot_get_its_thread_says_busy_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    seed(engine=engine)
    thread_id = f"t-{uuid.uuid4().hex[:10]}"
    with children(engine, tmp_path, 1) as (holder,):
        holder.send(f"hold {thread_id} 600")
        assert holder.answer() == {"held": thread_id}
        desk = open_desk(engine)
        desk._locks.wait_s = 0.3
        try:
            turn = desk.chat(thread_id, "Customer ALFKI, 5 chai")
            assert turn.busy and turn.order_id is None and "busy" in turn.reply
            assert desk.current_draft(thread_id) is None
            assert desk.history(thread_id) == []
            assert desk.approve(thread_id).busy
        finally:
            desk.close()
