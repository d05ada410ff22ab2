"""Load: 100 conversations at once take orders to confirmation against limited stock.

Starts `uvicorn api:app` (one worker, offline model) on a free loopback port over a
freshly seeded store, cuts three products (Tofu, Konbu, Ikura) to 20 units each, then
runs `--conversations` conversations at once, each in its own thread and httpx client:
POST /api/chat with an order (1-3 units of one or two of the scarce products, sometimes
a well-stocked one too) → a draft; then confirm it, half by saying "yes", half with
POST /api/chat/{thread}/approve. Together they ask for far more than there is, so some
confirmations are refused for stock, and that refusal ends the conversation.

Afterwards the database itself is audited: every order a client was told about exists
once, with the thread, customer and lines that client asked for; no thread has two
orders; no order exists that no client was told about; no refusal left an order; stock
is never negative; for every product, stock before = stock after + units sold; no
refusal for stock came while the stock was there; and no request got a 5xx. It prints
the outcome counts, throughput, turn latency per kind and each check (OK / FAILED), and
exits 1 if any check failed.

    python -m bench.load [--conversations 100] [--database-url URL] [--timeout 300]

`--database-url` names a PostgreSQL server: a scratch database is made on it and dropped
afterwards (default: a temporary SQLite file). `tests/reliability/test_load.py` runs the
same conversations and audit in-process on both backends.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from sqlalchemy import Engine, create_engine, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from bench.server import add_database_option, api_server, latency_line, seeded_store
from config import normalize_database_url
from db.models import Customer, Order, Product

BENCH_DB = "orderdesk_bench_load"
SCARCE = {14: "tofu", 13: "konbu", 10: "ikura"}  # product id → what the clients type
PLENTIFUL = {55: "pate chinois", 40: "boston crab meat"}
SCARCE_STOCK = 20
REQUEST_TIMEOUT_S = 60.0
# What a refusal for stock says: the domain's "Not enough stock of X: 0 available, 2
# asked." (approve, or a confirmation that lost the race) or the draft's "only 0 in stock".
STOCK_REFUSAL = re.compile(r"not enough stock|only \d+ in stock", re.IGNORECASE)

Kind = Literal["confirmed", "stock", "other", "error", "not run"]


@dataclass(frozen=True)
class Plan:
    """What one conversation asks for and how it confirms."""

    thread_id: str
    customer_id: str
    lines: dict[int, int]  # product id → units
    say_yes: bool  # confirm by chat ("yes") rather than /approve

    def message(self) -> str:
        names = SCARCE | PLENTIFUL
        items = "".join(f"\n- {names[pid]} - {qty}" for pid, qty in self.lines.items())
        return f"Customer: {self.customer_id}{items}"


@dataclass
class Outcome:
    """What happened to one conversation, as its client saw it."""

    plan: Plan
    kind: Kind = "not run"
    order_id: int | None = None
    reply: str = ""  # the confirmation's reply (the refusal, for a refused one)
    problem: str | None = None  # why it is "other" or "error"
    statuses: list[int] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Baseline:
    """The store just before the conversations: stock of every product, last order id."""

    stock: dict[int, int]
    last_order_id: int


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  {'OK    ' if self.ok else 'FAILED'} {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


# --- the scenario ---------------------------------------------------------------------


def limit_stock(engine: Engine) -> Baseline:
    """Cut the scarce products to SCARCE_STOCK units; return the stock everything starts at."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(Product)
            .where(Product.product_id.in_(SCARCE))
            .values(units_in_stock=SCARCE_STOCK)
        )
    with Session(engine) as session:
        stock = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
        last = session.scalar(select(func.max(Order.order_id))) or 0
    return Baseline(stock={int(k): int(v) for k, v in stock.items()}, last_order_id=last)


def make_plans(engine: Engine, count: int) -> list[Plan]:
    """`count` conversations, one customer each (cycling through the customers)."""
    with Session(engine) as session:
        customers = list(session.scalars(select(Customer.customer_id).order_by("customer_id")))
    run = uuid.uuid4().hex[:8]
    plans = []
    for index in range(count):
        rng = random.Random(index)  # the same orders every run
        scarce = rng.sample(sorted(SCARCE), rng.choice((1, 2)))
        lines = {pid: rng.randint(1, 3) for pid in scarce}
        if rng.random() < 0.5:
            lines[rng.choice(sorted(PLENTIFUL))] = rng.randint(1, 5)
        plans.append(
            Plan(
                thread_id=f"load-{run}-{index}",
                customer_id=customers[index % len(customers)],
                lines=lines,
                say_yes=index % 2 == 0,
            )
        )
    return plans


def converse(client: httpx.Client, plan: Plan, deadline: float) -> Outcome:
    """Draft the plan's order, then confirm it; record what the client was told."""
    outcome = Outcome(plan)
    order = {"thread_id": plan.thread_id, "message": plan.message()}
    drafted = _send(outcome, "chat", deadline, lambda: client.post("/api/chat", json=order))
    if drafted is None:
        return outcome
    draft = drafted.get("draft") or {}
    seen = {line["product_id"]: line["quantity"] for line in draft.get("lines", [])}
    if draft.get("customer_id") != plan.customer_id or seen != plan.lines:
        outcome.kind, outcome.reply = "other", drafted.get("reply", "")
        outcome.problem = f"drafted {draft.get('customer_id')} {seen}, asked {plan.lines}"
        return outcome

    def confirm() -> httpx.Response:
        if plan.say_yes:
            return client.post("/api/chat", json={"thread_id": plan.thread_id, "message": "yes"})
        return client.post(f"/api/chat/{plan.thread_id}/approve")

    confirmed = _send(outcome, "confirm", deadline, confirm)
    if confirmed is None:
        return outcome
    outcome.reply = confirmed.get("reply", "")
    if isinstance(confirmed.get("order_id"), int):
        outcome.kind, outcome.order_id = "confirmed", confirmed["order_id"]
    elif STOCK_REFUSAL.search(outcome.reply):
        outcome.kind = "stock"
    else:
        outcome.kind, outcome.problem = "other", f"not confirmed: {outcome.reply[:300]!r}"
    return outcome


def _send(
    outcome: Outcome, kind: str, deadline: float, request: Callable[[], httpx.Response]
) -> dict[str, Any] | None:
    """One request: its status and latency recorded; the body, or None (outcome says why)."""
    if time.monotonic() >= deadline:
        outcome.kind, outcome.problem = "not run", "overall deadline passed"
        return None
    sent = time.perf_counter()
    try:
        response = request()
    except httpx.HTTPError as error:
        outcome.kind, outcome.problem = "error", f"{kind}: {type(error).__name__}: {error}"
        return None
    outcome.latencies_ms[kind].append((time.perf_counter() - sent) * 1000)
    outcome.statuses.append(response.status_code)
    if response.status_code != 200:
        outcome.kind = "error" if response.status_code >= 500 else "other"
        outcome.problem = f"{kind}: HTTP {response.status_code} {response.text[:200]}"
        return None
    return response.json()


def run_conversations(
    base_url: str, key: str, plans: list[Plan], timeout_s: float
) -> tuple[list[Outcome], float]:
    """All plans at once (a thread and a client each); the outcomes and the wall time."""
    deadline = time.monotonic() + timeout_s
    start = threading.Barrier(len(plans), timeout=60)  # every client ready, then all go

    def one(plan: Plan) -> Outcome:
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=10)
        with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=timeout) as c:
            start.wait()
            return converse(c, plan, deadline)

    began = time.perf_counter()
    with ThreadPoolExecutor(len(plans)) as pool:
        outcomes = list(pool.map(one, plans))
    return outcomes, time.perf_counter() - began


# --- the audit ------------------------------------------------------------------------


def audit(engine: Engine, baseline: Baseline, outcomes: list[Outcome]) -> list[Check]:
    """Check the database against what the clients were told; one Check per invariant."""
    with Session(engine) as session:
        query = (
            select(Order)
            .where(Order.order_id > baseline.last_order_id)
            .options(selectinload(Order.lines))
        )
        placed = {order.order_id: order for order in session.scalars(query)}
        stock = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
    sold: Counter[int] = Counter()
    for order in placed.values():
        for line in order.lines:
            sold[line.product_id] += line.quantity
    reported = [o for o in outcomes if o.kind == "confirmed"]
    refused = [o for o in outcomes if o.kind in ("stock", "other")]
    per_thread = Counter(order.thread_id for order in placed.values())
    five_xx = sum(status >= 500 for o in outcomes for status in o.statuses)
    return [
        Check("no 5xx response", five_xx == 0, f"{five_xx} responses were 5xx" if five_xx else ""),
        _every_conversation_answered(outcomes),
        _reported_orders_exist(reported, placed),
        _none("no thread has two orders", [t for t, n in per_thread.items() if n > 1]),
        _none(
            "no order that no client was told about",
            set(placed) - {o.order_id for o in reported},
        ),
        _none("refusals placed no order", {o.plan.thread_id for o in refused} & set(per_thread)),
        _none("stock never negative", [pid for pid, units in stock.items() if units < 0]),
        _stock_balances(baseline, stock, sold),
        _refusals_for_stock_justified(outcomes, stock),
    ]


def _none(name: str, offenders: Collection[Any]) -> Check:
    return Check(name, not offenders, _listed(offenders))


def _every_conversation_answered(outcomes: list[Outcome]) -> Check:
    unanswered = [o for o in outcomes if o.kind in ("error", "not run")]
    details = [f"{o.plan.thread_id} {o.kind}: {o.problem}" for o in unanswered[:3]]
    return Check("every conversation got its answers", not unanswered, "; ".join(details))


def _reported_orders_exist(reported: list[Outcome], placed: dict[int, Order]) -> Check:
    """Each order id a client got is a distinct order of its thread, customer and lines."""
    wrong = []
    ids = Counter(o.order_id for o in reported)
    for outcome in reported:
        order = placed.get(outcome.order_id)  # type: ignore[arg-type]
        lines = {line.product_id: line.quantity for line in order.lines} if order else None
        if (
            order is None
            or ids[outcome.order_id] > 1
            or order.thread_id != outcome.plan.thread_id
            or order.customer_id != outcome.plan.customer_id
            or lines != outcome.plan.lines
        ):
            wrong.append(f"order {outcome.order_id} of {outcome.plan.thread_id}")
    return Check("every reported order exists once, with its lines", not wrong, _listed(wrong))


def _stock_balances(baseline: Baseline, stock: dict[int, int], sold: Counter[int]) -> Check:
    off = [
        f"#{pid}: {before} ≠ {stock[pid]} + {sold[pid]}"
        for pid, before in sorted(baseline.stock.items())
        if before != stock[pid] + sold[pid]
    ]
    scarce = ", ".join(
        f"#{pid} {baseline.stock[pid]} = {stock[pid]} + {sold[pid]}" for pid in sorted(SCARCE)
    )
    detail = "; ".join(off[:5]) if off else scarce
    return Check("stock before = stock after + sold (every product)", not off, detail)


def _refusals_for_stock_justified(outcomes: list[Outcome], stock: dict[int, int]) -> Check:
    """Stock only falls during the run: a refusal is wrong if even the end stock sufficed."""
    wrong = [
        o.plan.thread_id
        for o in outcomes
        if o.kind == "stock" and all(stock[pid] >= qty for pid, qty in o.plan.lines.items())
    ]
    return Check("no refusal for stock while the stock was there", not wrong, _listed(wrong))


def _listed(items: Any, most: int = 5) -> str:
    items = sorted(map(str, items))
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


# --- the command ----------------------------------------------------------------------


def report(outcomes: list[Outcome], wall_s: float, checks: list[Check]) -> list[str]:
    kinds = Counter(o.kind for o in outcomes)
    statuses = [status for o in outcomes for status in o.statuses]
    latencies: dict[str, list[float]] = defaultdict(list)
    for outcome in outcomes:
        for kind, values in outcome.latencies_ms.items():
            latencies[kind] += values
    lines = [
        f"conversations: {len(outcomes)}  confirmed: {kinds['confirmed']}  "
        f"refused for stock: {kinds['stock']}  other refusals: {kinds['other']}  "
        f"errors: {kinds['error']}  not run: {kinds['not run']}  "
        f"5xx: {sum(s >= 500 for s in statuses)}",
        f"wall time: {wall_s:.1f} s  conversations/s: {len(outcomes) / wall_s:.2f}  "
        f"requests/s: {len(statuses) / wall_s:.1f} ({len(statuses)} requests)",
    ]
    lines += [f"  {kind:>7} turn: {latency_line(latencies[kind])}" for kind in ("chat", "confirm")]
    lines += [f"    other: {o.plan.thread_id}: {o.problem}" for o in outcomes if o.kind == "other"]
    lines.append("invariants:")
    lines += [check.line() for check in checks]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="100 conversations against limited stock")
    parser.add_argument("--conversations", type=int, default=100)
    add_database_option(parser)
    parser.add_argument("--timeout", type=float, default=300, help="overall deadline, seconds")
    args = parser.parse_args()
    with seeded_store(args.database_url, BENCH_DB) as store:
        engine = create_engine(normalize_database_url(store.database_url), poolclass=NullPool)
        try:
            baseline = limit_stock(engine)
            plans = make_plans(engine, args.conversations)
            with api_server(store.env) as url:
                outcomes, wall_s = run_conversations(url, store.key, plans, args.timeout)
            checks = audit(engine, baseline, outcomes)
        finally:
            engine.dispose()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"Load: {args.conversations} concurrent conversations, 1 uvicorn worker, {backend} + "
        f"embedded Chroma, offline model; {len(SCARCE)} products cut to {SCARCE_STOCK} units"
    )
    print("\n".join(report(outcomes, wall_s, checks)))
    sys.exit(0 if all(check.ok for check in checks) else 1)


if __name__ == "__main__":
    main()
