"""Order confirmation throughput on PostgreSQL: pooled engine vs a new engine per call.

32 clients (by default: 2 worker processes, as many as the machine has cores, of 16
threads each, like a deployment with two app workers) confirm orders for a fixed time.
Each order has 4 random products for a random customer; drafts are prepared before the
clock starts, so the rate is that of `confirm_draft` (one transaction: claim the draft,
take stock with conditional updates, write the order and its lines). One "hot" product
with little stock sits in a quarter of the orders, so it runs out mid-run and
confirmations race for its last units. After each mode the run is audited against the
database: oversold = products whose stock went negative or whose stock change differs
from the units sold; lost = orders a client was told were confirmed but that are not in
the database, plus orders in the database no client was told about.

    python -m bench.orders [--clients 32] [--processes 2] [--seconds 10] [--server-url URL]

Creates (and drops) its own database `orderdesk_bench_orders` on BENCH_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, func, insert, select, update
from sqlalchemy.orm import Session

from bench.database import bench_database, server_url
from config import get_settings
from db.engine import create_db_engine
from db.models import Customer, Draft, DraftLine, Order, OrderLine, Product
from db.seed import seed
from orders.confirm import confirm_draft
from orders.errors import Unavailable

BENCH_DB = "orderdesk_bench_orders"
HOT_PRODUCT, HOT_STOCK, STOCK = 11, 400, 1_000_000


@dataclass
class Outcome:
    """What one worker process's clients were told, and how long each confirmation took."""

    told_ok: list[int] = field(default_factory=list)
    refused: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    drafts_left: int = 0


@dataclass
class Audit:
    confirmed: int
    refused: int
    oversold: int
    lost: int


def prepare_drafts(engine: Engine, count: int, rng: random.Random) -> list[int]:
    """Open drafts of 4 products each, written in bulk (set-up, not the code measured)."""
    with Session(engine) as session, session.begin():
        customers = list(session.scalars(select(Customer.customer_id)))
        products = list(session.scalars(select(Product.product_id)))
        draft_ids = list(
            session.scalars(
                insert(Draft).returning(Draft.draft_id),
                [{"customer_id": rng.choice(customers)} for _ in range(count)],
            )
        )
        lines = []
        for draft_id in draft_ids:
            picks = rng.sample(products, 4)
            if rng.random() < 0.25 and HOT_PRODUCT not in picks:
                picks[0] = HOT_PRODUCT
            lines += [
                {
                    "draft_id": draft_id,
                    "product_id": pid,
                    "quantity": rng.randint(1, 5),
                    "position": n,
                }
                for n, pid in enumerate(picks)
            ]
        session.execute(insert(DraftLine), lines)
    return draft_ids


def confirm_all(url: str, mode: str, drafts: list[int], threads: int, seconds: float) -> Outcome:
    """One worker process: `threads` clients confirm `drafts` until time or drafts run out."""
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    pooled = create_db_engine(get_settings())  # the worker's one engine
    queue = list(reversed(drafts))
    outcome, lock = Outcome(), threading.Lock()
    start = threading.Barrier(threads)
    deadline = [0.0]

    def confirm(engine: Engine, draft_id: int) -> None:
        with Session(engine) as session:
            order = confirm_draft(
                session=session, draft_id=draft_id, idempotency_key=uuid.uuid4().hex
            )
        with lock:
            outcome.told_ok.append(order.order_id)

    def client() -> None:
        if start.wait() == 0:
            deadline[0] = time.perf_counter() + seconds
        while deadline[0] == 0.0:
            time.sleep(0.001)
        while time.perf_counter() < deadline[0]:
            with lock:
                if not queue:
                    return
                draft_id = queue.pop()
            began = time.perf_counter()
            engine = pooled if mode == "pooled" else create_engine(url)
            try:
                confirm(engine, draft_id)
            except Unavailable:
                with lock:
                    outcome.refused += 1
                continue
            except Exception:
                with lock:
                    outcome.errors += 1
                continue
            finally:
                if engine is not pooled:
                    engine.dispose()
            with lock:
                outcome.latencies.append(time.perf_counter() - began)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    outcome.drafts_left = len(queue)
    pooled.dispose()
    return outcome


def reset_stock(engine: Engine) -> dict[int, int]:
    with Session(engine) as session, session.begin():
        session.execute(update(Product).values(units_in_stock=STOCK, discontinued=False))
        session.execute(
            update(Product)
            .where(Product.product_id == HOT_PRODUCT)
            .values(units_in_stock=HOT_STOCK)
        )
        return dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())


def audit(
    engine: Engine, outcomes: list[Outcome], initial: dict[int, int], first_new: int
) -> Audit:
    with Session(engine) as session:
        in_db = set(session.scalars(select(Order.order_id).where(Order.order_id >= first_new)))
        sold = dict(
            session.execute(
                select(OrderLine.product_id, func.sum(OrderLine.quantity))
                .where(OrderLine.order_id >= first_new)
                .group_by(OrderLine.product_id)
            ).all()
        )
        final = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
    oversold = sum(
        1
        for pid, units in initial.items()
        if final[pid] < 0 or units != final[pid] + sold.get(pid, 0)
    )
    told_ok = [order_id for outcome in outcomes for order_id in outcome.told_ok]
    told = set(told_ok)
    lost = len(told - in_db) + len(in_db - told) + (len(told_ok) - len(told))
    return Audit(len(told_ok), sum(outcome.refused for outcome in outcomes), oversold, lost)


def next_order_id(engine: Engine) -> int:
    with Session(engine) as session:
        return (session.scalar(select(func.max(Order.order_id))) or 0) + 1


def percentile(latencies: list[float], q: int) -> float:
    return sorted(latencies)[int(len(latencies) * q / 100) - 1] * 1000 if latencies else 0.0


def run_mode(
    url: str, engine: Engine, mode: str, args: argparse.Namespace, rng: random.Random
) -> tuple[Audit, list[Outcome]]:
    initial = reset_stock(engine)
    first_new = next_order_id(engine)
    per_process = args.clients // args.processes
    budget = int(args.seconds * (1500 if mode == "pooled" else 600) / args.processes)
    batches = [prepare_drafts(engine, budget, rng) for _ in range(args.processes)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.processes, mp_context=context) as pool:
        futures = [
            pool.submit(confirm_all, url, mode, batch, per_process, args.seconds)
            for batch in batches
        ]
        outcomes = [future.result() for future in futures]
    return audit(engine, outcomes, initial, first_new), outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description="order confirmations per second")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--server-url", default=server_url())
    args = parser.parse_args()

    rng = random.Random(7)
    with bench_database(args.server_url, BENCH_DB) as url:
        engine = create_db_engine(get_settings())
        seed(engine=engine)
        print(
            f"PostgreSQL, {args.clients} clients in {args.processes} processes, "
            f"{args.seconds:.0f} s per mode, 4 lines per order, hot product {HOT_PRODUCT} "
            f"with {HOT_STOCK} units in 1/4 of the orders"
        )
        rates = {}
        for mode in ("pooled", "per-call"):
            checked, outcomes = run_mode(url, engine, mode, args, rng)
            latencies = [value for outcome in outcomes for value in outcome.latencies]
            errors = sum(outcome.errors for outcome in outcomes)
            left = sum(outcome.drafts_left for outcome in outcomes)
            rates[mode] = checked.confirmed / args.seconds
            print(
                f"{mode:>9}: {rates[mode]:7.1f} confirmed orders/s "
                f"(+{checked.refused / args.seconds:.1f}/s refused for stock)  "
                f"p50 {percentile(latencies, 50):6.1f} ms  p95 {percentile(latencies, 95):6.1f} ms"
                f"  errors {errors}  oversold {checked.oversold}  lost {checked.lost}"
                + ("  (ran out of prepared drafts: rate is a lower bound)" if left == 0 else "")
            )
        print(f"    ratio: pooled is {rates['pooled'] / rates['per-call']:.1f}x per-call")
        engine.dispose()


if __name__ == "__main__":
    main()
