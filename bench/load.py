"""Load: 100 conversations at once take orders to confirmation against limited stock,
on one API process or on several, then the same threads on two processes at once.

Starts `uvicorn api:app` (offline model) over a freshly seeded store - `--replicas` API
processes, each on its own free loopback port with `--workers` uvicorn workers, as a load
balancer sees them; with more than one process, a Chroma server (`--chroma-server`,
implied) that all of them share - cuts three products (Tofu, Konbu, Ikura) to 20 units
each, then runs `--conversations` conversations at once, each in its own thread and httpx
client: POST /api/chat with an order (1-3 units of one or two of the scarce products,
sometimes a well-stocked one too) → a draft; then confirm it, half by saying "yes", half
with POST /api/chat/{thread}/approve. Requests are spread round-robin per request: a
conversation's draft and its confirmation go to different replicas. Together they ask
for far more than there is, so some confirmations are refused for stock, and that
refusal ends the conversation.

The load phase is audited against the database at once: every order a client was told
about exists once, with the thread, customer and lines that client asked for; no thread
has two orders; no order exists that no client was told about; no refusal left an order;
stock is never negative; for every product, stock before = stock after + units sold; no
refusal for stock came while the stock was there; and no request got a 5xx.

Then the same-thread phase (`bench.same_thread`, `--same-thread K` threads): a double
submit, two edits and two approvals of one thread, each pair sent at once to two
processes. After both phases `bench.audit` reads the database, the checkpointer and
Chroma: one order per draft and per thread (exactly one where an approval was meant), no
two open drafts, no forked checkpoint history, no dangling tool call, every accepted
message kept, every reply consistent with the database, every order's memory summary,
no lost edit. It prints the counts, throughput, latency per kind and each check (OK /
FAILED) on stdout (the servers' own logs go to stderr), and exits 1 if any check failed.

    python -m bench.load [--conversations 100] [--database-url URL] [--timeout 300]
        [--replicas 1] [--workers 1] [--chroma-server] [--same-thread 10]
        [--compare-workers 1,2]

`--database-url` names a PostgreSQL server: a scratch database is made on it and dropped
afterwards (default: a temporary SQLite file). `--compare-workers 1,2` runs everything
once per worker count, each on a fresh store, and compares requests/s and chat-turn
p50/p95 of the load phase; `1,2,2,1` runs each twice, so a change in what else the
machine is doing weighs on both alike, and prints the mean per worker count. Each run
prints the machine's load average: on a shared machine the numbers move with it.

`tests/reliability/test_load.py` runs the same conversations and audit in-process on
both backends; `tests/bench/test_cluster.py` runs this command small, and the launcher
(`scripts/cluster`) with the same phases and audits.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from bench.audit import Check, Exchange, Expect, audit_run
from bench.audit import Store as AuditStore
from bench.same_thread import make_same_plans, no_lost_edit, run_same_thread
from bench.server import (
    add_database_option,
    api_servers,
    chroma_server,
    latency_line,
    percentile,
    seeded_store,
    use_chroma_server,
)
from config import load_settings, normalize_database_url
from db.models import Customer, Draft, DraftStatus, Order, Product
from orders.stock import availability
from rag.chroma import create_chroma_client

BENCH_DB = "orderdesk_bench_load"
SCARCE = {14: "tofu", 13: "konbu", 10: "ikura"}  # product id → what the clients type
PLENTIFUL = {55: "pate chinois", 40: "boston crab meat"}
SCARCE_STOCK = 20
REQUEST_TIMEOUT_S = 60.0
# What a refusal for stock says: the domain's "Not enough stock of X: 0 available, 2
# asked." (a confirmation that lost the race), the draft's "only 0 available" (another
# draft holds the rest) or "only 0 in stock", or approve's 409 "Tofu: 1 asked, 0 available".
STOCK_REFUSAL = re.compile(
    r"not enough stock|\d+ (?:in stock|available)|held by another draft", re.IGNORECASE
)

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
    exchanges: list[Exchange] = field(default_factory=list)  # every request, for bench.audit


@dataclass(frozen=True)
class Baseline:
    """The store just before the conversations: stock of every product, last order id."""

    stock: dict[int, int]
    last_order_id: int


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


def converse(
    client: httpx.Client, plan: Plan, deadline: float, urls: Sequence[str] = ("",), offset: int = 0
) -> Outcome:
    """Draft the plan's order, then confirm it; record what the client was told.

    Request k of the conversation goes to `urls[(offset + k) % len(urls)]` (round-robin per
    request, as a load balancer without affinity would send it); `""` is the client's own
    base URL.
    """
    outcome = Outcome(plan)
    order = {"thread_id": plan.thread_id, "message": plan.message()}
    route = _Route(urls, offset)
    drafted = _send(
        outcome,
        "chat",
        deadline,
        lambda: client.post(f"{route()}/api/chat", json=order),
        route,
        order["message"],
    )
    if drafted is None:
        return outcome
    draft = drafted.get("draft") or {}
    seen = {line["product_id"]: line["quantity"] for line in draft.get("lines", [])}
    if draft.get("customer_id") != plan.customer_id or seen != plan.lines:
        outcome.kind, outcome.reply = "other", drafted.get("reply", "")
        outcome.problem = f"drafted {draft.get('customer_id')} {seen}, asked {plan.lines}"
        return outcome

    def confirm() -> httpx.Response:
        url = route()
        if plan.say_yes:
            yes = {"thread_id": plan.thread_id, "message": "yes"}
            return client.post(f"{url}/api/chat", json=yes)
        return client.post(f"{url}/api/chat/{plan.thread_id}/approve")

    said = "yes" if plan.say_yes else None
    confirmed = _send(outcome, "confirm", deadline, confirm, route, said)
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


class _Route:
    """The API process for a conversation's next request: round-robin from `offset`."""

    def __init__(self, urls: Sequence[str], offset: int) -> None:
        self.urls, self.next, self.last = list(urls), offset, ""

    def __call__(self) -> str:
        self.last = self.urls[self.next % len(self.urls)]
        self.next += 1
        return self.last


def _send(
    outcome: Outcome,
    kind: str,
    deadline: float,
    request: Callable[[], httpx.Response],
    route: _Route,
    message: str | None,
) -> dict[str, Any] | None:
    """One request: its status, latency and exchange recorded; the body, or None (outcome
    says why)."""
    if time.monotonic() >= deadline:
        outcome.kind, outcome.problem = "not run", "overall deadline passed"
        return None
    sent = time.perf_counter()
    try:
        response = request()
    except httpx.HTTPError as error:
        outcome.kind, outcome.problem = "error", f"{kind}: {type(error).__name__}: {error}"
        outcome.exchanges.append(
            Exchange(outcome.plan.thread_id, kind, route.last, message, None, None, 0.0)
        )
        return None
    latency = (time.perf_counter() - sent) * 1000
    outcome.latencies_ms[kind].append(latency)
    outcome.statuses.append(response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:300]}
    outcome.exchanges.append(
        Exchange(
            outcome.plan.thread_id,
            kind,
            route.last,
            message,
            response.status_code,
            body if isinstance(body, dict) else {"detail": str(body)},
            latency,
        )
    )
    if response.status_code == 409 and kind == "confirm" and STOCK_REFUSAL.search(response.text):
        outcome.kind, outcome.reply = "stock", response.text[:500]  # approve: flagged short
        return None
    if response.status_code != 200:
        outcome.kind = "error" if response.status_code >= 500 else "other"
        outcome.problem = f"{kind}: HTTP {response.status_code} {response.text[:200]}"
        return None
    return body


def run_conversations(
    base_url: str | Sequence[str], key: str, plans: list[Plan], timeout_s: float
) -> tuple[list[Outcome], float]:
    """All plans at once (a thread and a client each); the outcomes and the wall time.

    With several URLs (API replicas) each conversation's requests alternate between them,
    starting at a different one for each conversation.
    """
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    deadline = time.monotonic() + timeout_s
    began: list[float] = []  # when the barrier let every client go (clients are built first)
    start = threading.Barrier(
        len(plans), action=lambda: began.append(time.perf_counter()), timeout=60
    )  # every client ready, then all go

    def one(index_plan: tuple[int, Plan]) -> Outcome:
        index, plan = index_plan
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=10)
        with httpx.Client(headers={"X-API-Key": key}, timeout=timeout) as c:
            start.wait()
            return converse(c, plan, deadline, urls, offset=index)

    with ThreadPoolExecutor(len(plans)) as pool:
        outcomes = list(pool.map(one, enumerate(plans)))
    return outcomes, time.perf_counter() - began[0]


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
        _refusals_for_stock_justified(engine, outcomes),
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


def _refusals_for_stock_justified(engine: Engine, outcomes: list[Outcome]) -> Check:
    """Stock only falls during the run and holds only go: a refusal is wrong if even at
    the end its lines were available to it (stock less the other drafts' live holds)."""
    wrong = []
    with Session(engine) as session:
        for outcome in outcomes:
            if outcome.kind != "stock":
                continue
            draft_id = session.scalar(
                select(Draft.draft_id).where(
                    Draft.thread_id == outcome.plan.thread_id, Draft.status == DraftStatus.OPEN
                )
            )
            seen = availability(session, outcome.plan.lines, excluding_draft_id=draft_id)
            if all(seen[pid].available >= qty for pid, qty in outcome.plan.lines.items()):
                wrong.append(outcome.plan.thread_id)
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


def connections(engine: Engine) -> int | None:
    """Connections to the store's database now, this one not counted (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


class ConnectionPeak:
    """The most connections to the store's database seen while the block runs."""

    def __init__(self, engine: Engine, every_s: float = 0.1) -> None:
        self.engine, self.every_s = engine, every_s
        self.most: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ConnectionPeak:
        if self.engine.dialect.name == "postgresql":
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _sample(self) -> None:
        while not self._done.is_set():
            seen = connections(self.engine)
            self.most = max(self.most or 0, seen or 0)
            self._done.wait(self.every_s)


@dataclass
class Run:
    """One load run: its processes, the load phase, the same-thread phase and the audits."""

    label: str
    outcomes: list[Outcome]
    wall_s: float
    load_checks: list[Check]
    same: list[Exchange]
    same_wall_s: float
    checks: list[Check]
    load_average: float  # the machine's 1-minute load average during the load phase
    database_connections: tuple[int | None, int | None]  # idle, and the load phase's peak

    @property
    def ok(self) -> bool:
        return all(check.ok for check in [*self.load_checks, *self.checks])

    def requests_per_s(self) -> float:
        return sum(len(o.statuses) for o in self.outcomes) / self.wall_s

    def chat_latencies(self) -> list[float]:
        return [ms for o in self.outcomes for ms in o.latencies_ms.get("chat", [])]


def run_once(args: argparse.Namespace, workers: int) -> Run:
    """Seed a scratch store, start the processes, run both phases, audit; all torn down."""
    name = f"{BENCH_DB}_{os.getpid()}"
    with seeded_store(args.database_url, name) as store, ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env, chroma = store.env, {"chroma_path": str(Path(store.env["CHROMA_PATH"]))}
        if args.chroma_server:
            server = stack.enter_context(chroma_server(folder / "chroma-server"))
            env = use_chroma_server(env, server)
            chroma = {"chroma_host": server.host, "chroma_port": server.port}
        engine = create_engine(normalize_database_url(store.database_url), poolclass=NullPool)
        stack.callback(engine.dispose)
        baseline = limit_stock(engine)
        plans = make_plans(engine, args.conversations)
        customers = sorted({plan.customer_id for plan in plans})
        same_plans = make_same_plans(customers or ["ALFKI"], args.same_thread, uuid.uuid4().hex[:8])
        with api_servers(env, replicas=args.replicas, workers=workers) as urls:
            idle = connections(engine)
            with ConnectionPeak(engine) as peak:
                outcomes, wall_s = run_conversations(urls, store.key, plans, args.timeout)
            load_average = os.getloadavg()[0]  # other work on the machine shows here
            load_checks = audit(engine, baseline, outcomes)  # before the next phase sells
            same, same_wall_s = run_same_thread(urls, store.key, same_plans, args.timeout)
        expect: dict[str, Expect] = {plan.thread_id: "at most one" for plan in plans}
        expect |= {plan.thread_id: "one" for plan in same_plans}
        client = create_chroma_client(load_settings(**chroma))  # type: ignore[arg-type]
        checks = audit_run(
            AuditStore(engine, store.database_url, client),
            last_order_id=baseline.last_order_id,
            exchanges=[e for o in outcomes for e in o.exchanges] + same,
            expect=expect,
        )
        checks.append(no_lost_edit(engine, same, baseline.last_order_id))
    label = f"{args.replicas} × {workers} worker(s)"
    return Run(
        label,
        outcomes,
        wall_s,
        load_checks,
        same,
        same_wall_s,
        checks,
        load_average,
        (idle, peak.most),
    )


def same_thread_report(run: Run, threads: int) -> list[str]:
    if not run.same:
        return []
    statuses = Counter(e.status for e in run.same)
    busy = sum(e.busy for e in run.same)
    failed = sum(bool((e.body or {}).get("error")) and not e.busy for e in run.same)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for e in run.same:
        by_kind[e.kind].append(e.latency_ms)
    lines = [
        f"same-thread phase: {threads} threads × 3 pairs, each pair sent at once on two "
        f"connections (to two API processes where there are two), "
        f"{len(run.same)} requests in {run.same_wall_s:.1f} s; statuses "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=str))
        + f"; busy refusals: {busy}; failed turns: {failed}"
    ]
    lines += [f"  {kind:>7}: {latency_line(ms)}" for kind, ms in sorted(by_kind.items())]
    return lines


def describe(args: argparse.Namespace, workers: int) -> str:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    chroma = "a Chroma server" if args.chroma_server else "embedded Chroma"
    return (
        f"Load: {args.conversations} concurrent conversations on {args.replicas} API "
        f"process(es) × {workers} uvicorn worker(s), {backend} + {chroma}, offline model; "
        f"{len(SCARCE)} products cut to {SCARCE_STOCK} units"
    )


def print_run(args: argparse.Namespace, workers: int, run: Run) -> None:
    print(describe(args, workers))
    print(
        f"machine: {os.cpu_count()} CPUs, 1-minute load average {run.load_average:.1f} at the "
        "end of the load phase (shared with anything else running here)"
    )
    print("\n".join(report(run.outcomes, run.wall_s, run.load_checks)))
    idle, most = run.database_connections
    if most is not None:
        print(
            f"PostgreSQL connections to the store: {idle} with the servers idle, at most "
            f"{most} during the load phase (pg_stat_activity, sampled every 0.1 s)"
        )
    print("\n".join(same_thread_report(run, args.same_thread)))
    print("after both phases, read from the database, the checkpointer and Chroma:")
    print("\n".join(check.line() for check in run.checks))


def print_comparison(runs: list[tuple[int, Run]]) -> None:
    """One row per run, then - when a worker count ran more than once (`1,2,2,1` cancels a
    drift in the machine's load) - the mean requests/s per worker count and their ratio."""
    print("\ncomparison (the same load and replicas; only the uvicorn workers per replica differ):")
    print(
        f"  {'workers':>7}  {'requests/s':>10}  {'chat p50':>9}  {'chat p95':>9}  load avg  audits"
    )
    first = runs[0][1].requests_per_s()
    for workers, run in runs:
        chat = run.chat_latencies() or [float("nan")]
        print(
            f"  {workers:>7}  {run.requests_per_s():>10.1f}  {statistics.median(chat):>7.0f}ms"
            f"  {percentile(chat, 95):>7.0f}ms  {run.load_average:>8.1f}"
            f"  {'OK' if run.ok else 'FAILED'}"
            f"   (× {run.requests_per_s() / first:.2f} of {runs[0][0]} worker(s))"
        )
    rates: dict[int, list[float]] = defaultdict(list)
    for workers, run in runs:
        rates[workers].append(run.requests_per_s())
    if len(rates) < len(runs):
        base = statistics.mean(rates[runs[0][0]])
        print(
            "  mean requests/s: "
            + ", ".join(
                f"{w} worker(s) {statistics.mean(r):.1f} (× {statistics.mean(r) / base:.2f}, "
                f"{len(r)} runs)"
                for w, r in rates.items()
            )
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="concurrent conversations against limited stock")
    parser.add_argument("--conversations", type=int, default=100)
    add_database_option(parser)
    parser.add_argument("--timeout", type=float, default=300, help="per phase deadline, seconds")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per API process")
    parser.add_argument(
        "--replicas", type=int, default=1, help="API processes, each on its own port"
    )
    parser.add_argument(
        "--chroma-server",
        action="store_true",
        help="start a Chroma server and point every API process at it (implied when more "
        "than one process serves: embedded Chroma is one process's store)",
    )
    parser.add_argument(
        "--same-thread",
        type=int,
        default=10,
        metavar="K",
        help="threads in the same-thread phase (0: skip it)",
    )
    parser.add_argument(
        "--compare-workers",
        metavar="1,2",
        help="run the same load once per worker count and compare requests/s and latency",
    )
    args = parser.parse_args(argv)
    args.compare = [int(n) for n in args.compare_workers.split(",")] if args.compare_workers else []
    if any(n < 1 for n in [args.workers, args.replicas, args.conversations, *args.compare]):
        parser.error("--workers, --replicas, --conversations and --compare-workers must be ≥ 1")
    if args.replicas * max([args.workers, *args.compare]) > 1 and not args.chroma_server:
        print("note: more than one API process: --chroma-server implied", file=sys.stderr)
        args.chroma_server = True
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    runs = [(workers, run_once(args, workers)) for workers in args.compare or [args.workers]]
    for workers, run in runs:
        print_run(args, workers, run)
    if len(runs) > 1:
        print_comparison(runs)
    sys.exit(0 if all(run.ok for _, run in runs) else 1)


if __name__ == "__main__":
    main()
