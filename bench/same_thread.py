"""The same conversation on two API processes at once: a double submit, two edits, two approvals.

Behind a load balancer a retry, a double click or a second browser tab sends one thread's
requests to different processes at the same moment. For each of `count` threads this
phase sends, as pairs fired together (a barrier each) to two different API processes
(round-robin over the replicas, so with one replica both go to the same one):

1. the same order message twice (a double submit) - one draft must come of it;
2. two different edits at once ("make the boysenberry 2", "make the ale 3");
3. two approvals at once - "yes" and "yes", approve and approve, or "yes" and approve,
   in turn - exactly one order must come of it, and the replies must say so.

Each pair waits for both answers before the next. Every request is recorded as an
`Exchange` for `bench.audit`; a 409 (the thread is busy) is a fair answer to a duplicate.
The products are well stocked ones the load phase does not touch, so no refusal for
stock can blur the outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, text

from bench.audit import Check, Exchange

PRODUCTS = {6: "boysenberry spread", 34: "sasquatch ale"}  # id → what the clients type
ORDER = {6: 1, 34: 2}
EDITS = ("make the boysenberry 2", "make the ale 3")
EDITED = {6: 2, 34: 3}  # the draft once both edits are applied, in either order
APPROVALS: tuple[tuple[str, str], ...] = (
    ("yes", "yes"),
    ("approve", "approve"),
    ("yes", "approve"),
)
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SamePlan:
    """One thread whose every step is sent twice at once, to two processes."""

    thread_id: str
    customer_id: str
    approvals: tuple[str, str]

    def order_message(self) -> str:
        items = "".join(f"\n- {PRODUCTS[pid]} - {qty}" for pid, qty in ORDER.items())
        return f"Customer: {self.customer_id}{items}"


def make_same_plans(customers: Sequence[str], count: int, run: str) -> list[SamePlan]:
    return [
        SamePlan(
            thread_id=f"same-{run}-{index}",
            customer_id=customers[index % len(customers)],
            approvals=APPROVALS[index % len(APPROVALS)],
        )
        for index in range(count)
    ]


def run_same_thread(
    urls: Sequence[str], key: str, plans: list[SamePlan], timeout_s: float
) -> tuple[list[Exchange], float]:
    """Every plan at once (its pairs in order); all exchanges and the wall time."""
    deadline = time.monotonic() + timeout_s
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=10)

    def one(index_plan: tuple[int, SamePlan]) -> list[Exchange]:
        index, plan = index_plan
        # One client per "tab": each pair's two requests go over different connections.
        with (
            httpx.Client(headers={"X-API-Key": key}, timeout=timeout) as left,
            httpx.Client(headers={"X-API-Key": key}, timeout=timeout) as right,
        ):
            targets = (urls[index % len(urls)], urls[(index + 1) % len(urls)])
            return _steps(plan, (left, right), targets, deadline)

    began = time.perf_counter()
    with ThreadPoolExecutor(max(1, len(plans))) as pool:
        exchanges = [e for done in pool.map(one, enumerate(plans)) for e in done]
    return exchanges, time.perf_counter() - began


def _steps(
    plan: SamePlan,
    clients: tuple[httpx.Client, httpx.Client],
    urls: tuple[str, str],
    deadline: float,
) -> list[Exchange]:
    message = plan.order_message()
    pairs = [
        ("order", (message, message)),
        ("edit", EDITS),
        ("approval", plan.approvals),
    ]
    exchanges: list[Exchange] = []
    for kind, (first, second) in pairs:
        if time.monotonic() >= deadline:
            break
        exchanges += _pair(plan.thread_id, kind, clients, urls, (first, second))
    return exchanges


def _pair(
    thread_id: str,
    kind: str,
    clients: tuple[httpx.Client, httpx.Client],
    urls: tuple[str, str],
    messages: tuple[str, str],
) -> list[Exchange]:
    """Both requests released together by a barrier; both answers."""
    together = threading.Barrier(2, timeout=30)

    def send(side: int) -> Exchange:
        request = _request(thread_id, messages[side])
        together.wait()
        return _exchange(
            thread_id,
            _kind(kind, messages[side]),
            urls[side],
            messages[side],
            lambda: request(clients[side], urls[side]),
        )

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, (0, 1)))


def _kind(kind: str, message: str) -> str:
    return ("approve" if message == "approve" else "confirm") if kind == "approval" else kind


def _request(thread_id: str, message: str) -> Callable[[httpx.Client, str], httpx.Response]:
    if message == "approve":  # the Confirm button, not a chat message
        return lambda client, url: client.post(f"{url}/api/chat/{thread_id}/approve")
    body = {"thread_id": thread_id, "message": message}
    return lambda client, url: client.post(f"{url}/api/chat", json=body)


def _exchange(
    thread_id: str, kind: str, url: str, message: str, send: Callable[[], httpx.Response]
) -> Exchange:
    sent = time.perf_counter()
    status: int | None
    body: dict[str, Any] | None
    try:
        response = send()
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:300]}
    except httpx.HTTPError as error:
        status, body = None, {"detail": f"{type(error).__name__}: {error}"}
    latency = (time.perf_counter() - sent) * 1000
    text = None if message == "approve" else message
    return Exchange(thread_id, kind, url, text, status, body, latency)


def no_lost_edit(engine: Engine, exchanges: list[Exchange], last_order_id: int) -> Check:
    """Where both edits were accepted, the thread's order has both (none overwrote the other)."""
    edits: dict[str, int] = {}
    for e in exchanges:
        if e.kind == "edit":
            edits[e.thread_id] = edits.get(e.thread_id, 0) + e.accepted
    both = sorted(thread for thread, accepted in edits.items() if accepted == 2)
    query = text(
        "SELECT o.thread_id, l.product_id, l.quantity FROM orders o "
        "JOIN order_lines l ON l.order_id = o.order_id WHERE o.order_id > :last"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"last": last_order_id}).all()
    lines: dict[str, dict[int, int]] = {}
    for thread_id, product_id, quantity in rows:
        lines.setdefault(thread_id, {})[product_id] = quantity
    lost = [f"{t}: {lines[t]}" for t in both if t in lines and lines[t] != EDITED]
    detail = ", ".join(lost[:5]) or f"{len(both)} threads had both edits accepted"
    return Check("no lost edit (two edits at once: the order has both)", not lost, detail)
