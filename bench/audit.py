"""What the database says after a load run, checked against what every client was told.

A scale-out is only right if two processes working on one thread leave the same traces
as one process would. `audit_run` reads the store itself after the run - the orders and
drafts through SQLAlchemy, the conversation threads through the LangGraph checkpointer
(`checkpoints` rows by plain SQL, the latest state of each thread through the saver),
the customer memories through Chroma - and returns one `Check` per invariant:

- no 5xx response, and no turn that failed (a 200 saying "something went wrong");
- at most one order per draft; at most one order per thread, and exactly one where an
  approval was meant (the same-thread phase);
- no thread with two drafts open at once (now, or at any moment: their spans overlap);
- no forked checkpoint history: in the default namespace, no two checkpoints of a thread
  share a parent (nor are there two roots);
- no dangling tool call: in each thread's latest state every AI tool call has its tool
  message, unless an interrupt (the confirmation) is pending;
- every message a client sent and the API accepted is in its thread's history (an
  approval that resumed a pending confirmation is not a message, and is not counted);
- every reply agrees with the database: an order a reply reported exists, in that
  thread; every order was reported by some reply; no reply said "not placed" (without
  naming the order) about a thread whose order exists;
- every confirmed order has its summary in the customer memory (`order-<id>`), and - in
  a store with the memory outbox - its `confirmed` event delivered.

`Exchange` is one request as the client saw it; the load and same-thread phases record
one for every request they send.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from agents.reading.text import clean
from memory.habits import order_memory_id
from memory.store import MEMORY_COLLECTION

Expect = Literal["one", "at most one"]  # orders a thread should end with
INTERRUPT = "__interrupt__"  # langgraph's channel for a pending interrupt
# "Order 11078 confirmed", "already confirmed as order 11078": a reply naming an order.
ORDER_NAMED = re.compile(r"\border\s+#?(\d+)\b", re.IGNORECASE)
# A reply that tells the user no order came of it.
NOT_PLACED = re.compile(r"was not placed|not confirmed|nothing was ordered", re.IGNORECASE)


@dataclass(frozen=True)
class Exchange:
    """One request as its client saw it: thread, what was sent, to which process, the answer."""

    thread_id: str
    kind: str  # what the request was for: order, confirm, edit, approve ...
    url: str  # the API process it went to
    message: str | None  # the chat message; None for POST .../approve
    status: int | None  # None: no response at all (a transport error)
    body: dict[str, Any] | None
    latency_ms: float

    @property
    def reply(self) -> str:
        return str((self.body or {}).get("reply") or (self.body or {}).get("detail") or "")

    @property
    def busy(self) -> bool:
        """Refused because another turn of the thread held it: nothing was done."""
        if self.status == 409 and "busy" in self.reply.lower():
            return True
        body = self.body or {}
        return bool(body.get("busy")) or body.get("error") == "conversation busy"

    @property
    def failed(self) -> bool:
        """A 200 whose turn failed (the model, a tool or the database): said so, not done."""
        return self.status == 200 and not self.busy and bool((self.body or {}).get("error"))

    @property
    def accepted(self) -> bool:
        """The API took the message and ran its turn (200, not busy, not failed)."""
        return self.status == 200 and not self.busy and not self.failed

    def reported_orders(self, newer_than: int) -> set[int]:
        """Order ids this answer told the client about (the field, or named in the reply)."""
        found = {int(n) for n in ORDER_NAMED.findall(self.reply) if int(n) > newer_than}
        order_id = (self.body or {}).get("order_id")
        return found | ({order_id} if isinstance(order_id, int) else set())


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  {'OK    ' if self.ok else 'FAILED'} {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


@dataclass(frozen=True)
class Store:
    """Where the run's data is: the database, and the Chroma that holds the memories."""

    engine: Engine
    database_url: str
    chroma: Any  # a chromadb ClientAPI (an HttpClient to the server, or a PersistentClient)


def audit_run(
    store: Store,
    *,
    last_order_id: int,
    exchanges: list[Exchange],
    expect: Mapping[str, Expect],
) -> list[Check]:
    """Every invariant above over the threads in `expect` (the run's threads)."""
    threads = set(expect)
    orders = _new_orders(store.engine, last_order_id)
    by_thread: dict[str, list[int]] = defaultdict(list)
    for order_id, (thread_id, _draft_id) in sorted(orders.items()):
        by_thread[str(thread_id)].append(order_id)
    states = dict(_latest_states(store.database_url, threads))
    return [
        _no_5xx(exchanges),
        _no_failed_turn(exchanges),
        _one_order_per_draft(orders),
        _orders_per_thread(by_thread, expect),
        _no_two_open_drafts(store.engine, threads),
        _no_forks(store.engine, threads),
        _no_dangling_tool_calls(states),
        _accepted_messages_kept(states, exchanges),
        _replies_agree(exchanges, orders, by_thread, last_order_id),
        _summaries_remembered(store.chroma, orders),
        _outbox_delivered(store.engine, orders),
    ]


# --- reading the store ----------------------------------------------------------------


def _new_orders(engine: Engine, last_order_id: int) -> dict[int, tuple[str | None, int | None]]:
    """order id → (thread, draft) of every order placed during the run."""
    query = text(
        "SELECT o.order_id, COALESCE(o.thread_id, d.thread_id), o.draft_id FROM orders o "
        "LEFT JOIN drafts d ON d.draft_id = o.draft_id WHERE o.order_id > :last"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"last": last_order_id}).all()
    return {int(order_id): (thread_id, draft_id) for order_id, thread_id, draft_id in rows}


@contextmanager
def open_saver(database_url: str) -> Iterator[Any]:
    """A read-side LangGraph checkpointer on the run's database (no `setup()`: no DDL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(url.database or "") as saver:
            yield saver
        return
    from langgraph.checkpoint.postgres import PostgresSaver

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with PostgresSaver.from_conn_string(conninfo) as saver:
        yield saver


@dataclass(frozen=True)
class ThreadState:
    messages: list[BaseMessage]
    interrupted: bool


def _latest_states(database_url: str, threads: Iterable[str]) -> Iterator[tuple[str, ThreadState]]:
    with open_saver(database_url) as saver:
        for thread_id in sorted(threads):
            config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
            found = saver.get_tuple(config)
            if found is None:
                continue
            messages = list(found.checkpoint.get("channel_values", {}).get("messages", []))
            pending = found.pending_writes or []
            interrupted = any(channel == INTERRUPT for _task, channel, _value in pending)
            yield thread_id, ThreadState(messages, interrupted)


# --- the checks -----------------------------------------------------------------------


def _no_5xx(exchanges: list[Exchange]) -> Check:
    bad = [e for e in exchanges if e.status is not None and e.status >= 500]
    lost = [e for e in exchanges if e.status is None]
    detail = f"{len(bad)} responses were 5xx" if bad else ""
    if lost:
        detail += ("; " if detail else "") + f"{len(lost)} requests got no response"
    examples = [f"{e.thread_id} {e.kind}: {e.status} {e.reply[:120]!r}" for e in (bad + lost)[:2]]
    return Check(
        "no 5xx response", not bad and not lost, "; ".join([detail, *examples]).strip("; ")
    )


def _no_failed_turn(exchanges: list[Exchange]) -> Check:
    failed = [
        f"{e.thread_id} {e.kind}: {(e.body or {}).get('error')}" for e in exchanges if e.failed
    ]
    return _none("no failed turn (a 200 whose reply is an apology)", failed)


def _one_order_per_draft(orders: Mapping[int, tuple[str | None, int | None]]) -> Check:
    per_draft = Counter(draft for _thread, draft in orders.values() if draft is not None)
    return _none("at most one order per draft", [d for d, n in per_draft.items() if n > 1])


def _orders_per_thread(by_thread: Mapping[str, list[int]], expect: Mapping[str, Expect]) -> Check:
    wrong = []
    for thread_id, wanted in sorted(expect.items()):
        count = len(by_thread.get(thread_id, []))
        if count > 1 or (wanted == "one" and count != 1):
            wrong.append(f"{thread_id}: {count} orders")
    one = sum(wanted == "one" for wanted in expect.values())
    name = f"at most one order per thread, exactly one where an approval was meant ({one})"
    return Check(name, not wrong, _listed(wrong))


def _no_two_open_drafts(engine: Engine, threads: Collection[str]) -> Check:
    """No two drafts of one thread open at the same time, now or at any moment of the run:
    a draft was open from its creation until its last update (its confirmation or
    discard), or until now while it is still open."""
    query = text("SELECT thread_id, draft_id, status, created_at, updated_at FROM drafts")
    with engine.connect() as connection:
        rows = [row for row in connection.execute(query).all() if row.thread_id in threads]
    now = max([row.updated_at for row in rows] + [row.created_at for row in rows], default=None)
    spans: dict[str, list[tuple[Any, Any, int]]] = defaultdict(list)
    for row in rows:
        closed = now if row.status == "open" else row.updated_at
        spans[row.thread_id].append((row.created_at, closed, row.draft_id))
    both = []
    for thread_id, drafts in sorted(spans.items()):
        drafts.sort()
        for (_, closed, first), (opened, _, second) in zip(drafts, drafts[1:], strict=False):
            if opened < closed:
                both.append(f"{thread_id} (drafts {first} and {second})")
    return _none("no thread with two drafts open at once", both)


def _no_forks(engine: Engine, threads: Collection[str]) -> Check:
    """Two checkpoints with one parent (or two roots): two processes wrote on one state."""
    query = text(
        "SELECT thread_id, COUNT(*) FROM checkpoints WHERE checkpoint_ns = '' "
        "GROUP BY thread_id, parent_checkpoint_id HAVING COUNT(*) > 1"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    forked = sorted({str(t) for t, _n in rows if t in threads})
    return _none("no forked checkpoint history", forked)


def _no_dangling_tool_calls(states: Mapping[str, ThreadState]) -> Check:
    dangling = []
    for thread_id, state in states.items():
        answered = {m.tool_call_id for m in state.messages if isinstance(m, ToolMessage)}
        ais = [m for m in state.messages if isinstance(m, AIMessage)]
        for ai in ais:
            waiting = state.interrupted and ai is ais[-1]  # the confirmation being asked
            missing = [c["name"] for c in ai.tool_calls if c["id"] not in answered]
            if missing and not waiting:
                dangling.append(f"{thread_id}: {', '.join(missing)}")
    return _none("no dangling tool call in any thread's latest state", dangling)


def _accepted_messages_kept(states: Mapping[str, ThreadState], exchanges: list[Exchange]) -> Check:
    """Each accepted message is a HumanMessage of its thread (as often as it was accepted)."""
    sent: Counter[tuple[str, str]] = Counter(
        (e.thread_id, _folded(e.message))
        for e in exchanges
        if e.message is not None and e.accepted and e.kind not in ("confirm", "approve")
    )
    missing = []
    for (thread_id, message), times in sorted(sent.items()):
        state = states.get(thread_id)
        kept = sum(
            isinstance(m, HumanMessage) and _folded(str(m.content)) == message
            for m in (state.messages if state else [])
        )
        if kept < times:
            missing.append(f"{thread_id}: {message[:40]!r} sent {times}, kept {kept}")
    return _none("every accepted message is in its thread's history", missing)


def _replies_agree(
    exchanges: list[Exchange],
    orders: Mapping[int, tuple[str | None, int | None]],
    by_thread: Mapping[str, list[int]],
    last_order_id: int,
) -> Check:
    wrong, reported = [], set()
    for e in exchanges:
        named = e.reported_orders(last_order_id)
        reported |= named
        for order_id in named:
            if order_id not in orders or orders[order_id][0] != e.thread_id:
                wrong.append(f"{e.thread_id} {e.kind}: reported order {order_id}, not the thread's")
        placed = set(by_thread.get(e.thread_id, []))
        if e.accepted and placed and not (named & placed) and NOT_PLACED.search(e.reply):
            wrong.append(
                f"{e.thread_id} {e.kind}: said {NOT_PLACED.search(e.reply)[0]!r} "
                f"but order {min(placed)} exists"
            )
    threads = {e.thread_id for e in exchanges}
    unreported = [
        f"order {order_id} of {thread_id}: no reply reported it"
        for order_id, (thread_id, _draft) in sorted(orders.items())
        if thread_id in threads and order_id not in reported
    ]
    return _none("every reply agrees with the database", wrong + unreported)


def _summaries_remembered(
    chroma: Any, orders: Mapping[int, tuple[str | None, int | None]]
) -> Check:
    wanted = {order_memory_id(order_id) for order_id in orders}
    if not wanted:
        return Check("every confirmed order has its memory summary", True, "no orders")
    try:
        collection = chroma.get_collection(MEMORY_COLLECTION)
        stored = set(collection.get(ids=sorted(wanted), include=[])["ids"])
    except Exception as error:  # noqa: BLE001 - no collection, or Chroma down: none stored
        return Check("every confirmed order has its memory summary", False, f"{error}"[:200])
    missing = sorted(wanted - stored)
    detail = f"{len(missing)} of {len(wanted)} missing: {_listed(missing)}" if missing else ""
    return Check("every confirmed order has its memory summary", not missing, detail)


def _outbox_delivered(engine: Engine, orders: Mapping[int, tuple[str | None, int | None]]) -> Check:
    """Each order's `confirmed` event is in the memory outbox, delivered (where the table
    exists: stores from before the outbox have none)."""
    name = "every order's memory outbox event delivered"
    if not inspect(engine).has_table("memory_outbox"):
        return Check(name, True, "no memory_outbox table in this store: not checked")
    query = text(
        "SELECT order_id, delivered_at, last_error FROM memory_outbox "
        "WHERE event = 'confirmed' AND order_id > :last"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"last": min(orders, default=0) - 1}).all()
    delivered = {row.order_id for row in rows if row.delivered_at is not None}
    errors = {row.order_id: row.last_error for row in rows if row.delivered_at is None}
    wrong = [
        f"order {order_id}: "
        + (f"undelivered ({errors[order_id]})" if order_id in errors else "no outbox row")
        for order_id in sorted(orders)
        if order_id not in delivered
    ]
    return _none(name, wrong)


def _folded(message: str | None) -> str:
    return " ".join(clean(message or "").split())


def _none(name: str, offenders: Collection[Any]) -> Check:
    return Check(name, not offenders, _listed(offenders))


def _listed(items: Any, most: int = 5) -> str:
    items = sorted(map(str, items))
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more
