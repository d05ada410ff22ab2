"""Customer memory benchmark: seeding the Northwind history, and recall latency at 10,000.

1. Seeding: one order_summary per historical order (830), batch-embedded into an empty
   `memories` collection - time and memories/s - then the idempotent re-run.
2. Recall latency with 10,000 memories in the collection: the 830 summaries plus
   variations generated from the history (the same orders on other dates with other
   quantities, and preferences / notes for every customer). Each query is a fresh text
   (no embedding-cache hits), for a random customer. Measured: `search` (one embedding +
   a customer-filtered vector query) and `recall` (what a desk turn does: the customer's
   preferences and notes plus the 5 most relevant). Every result is checked to belong to
   the customer asked about.

    python -m bench.memory [--memories 10000] [--queries 300]

Everything runs in a temporary directory (SQLite + Chroma PersistentClient); nothing of
the app's own var/ is touched.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from config import load_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from memory.habits import order_summary
from memory.seed import confirmed_orders, seed_memories
from memory.store import Memory, MemoryStore, NewMemory, open_memory_store
from orders.schemas import OrderView
from rag.chroma import create_chroma_client
from rag.embeddings import create_embedder

PREFERENCES = [
    "{name} always wants the 1 kg packs",
    "{name} prefers delivery on {day} mornings",
    "{name} never takes substitutes for {product}",
    "{name} orders {product} every month",
]
NOTES = [
    "{name} pays on delivery",
    "{name} asked for invoices by e-mail",
    "Call {contact} before shipping to {name}",
    "{name} complained about a late delivery of {product}",
]
QUERIES = [
    "do they usually take {product}?",
    "what pack size does {name} want",
    "payment terms for {name}",
    "{product} and some cheese",
    "when should we deliver",
    "any complaints about {product}",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def variations(orders: list[OrderView], target: int, rng: random.Random) -> list[NewMemory]:
    """`target` more memories: re-dated orders with other quantities, preferences, notes."""
    names = {o.customer_id: o.customer_name for o in orders}
    products = sorted({line.product_name for o in orders for line in o.lines})
    items: list[NewMemory] = []
    while len(items) < target:
        n = len(items)
        if n % 3:
            items.append(_varied_order(rng.choice(orders), n, rng))
            continue
        cid = rng.choice(sorted(names))
        kind, templates = ("preference", PREFERENCES) if n % 2 else ("note", NOTES)
        text = rng.choice(templates).format(
            name=names[cid], day=rng.choice(DAYS), product=rng.choice(products), contact="Maria"
        )
        items.append(NewMemory(cid, text, kind, id=f"gen-{n}"))
    return items


def _varied_order(order: OrderView, n: int, rng: random.Random) -> NewMemory:
    lines = [
        line.model_copy(update={"quantity": max(1, line.quantity + rng.randint(-5, 10))})
        for line in order.lines
    ]
    when = order.created_at + timedelta(days=rng.randint(30, 900))
    varied = order.model_copy(update={"order_id": 20_000 + n, "created_at": when, "lines": lines})
    return NewMemory(
        order.customer_id, order_summary(varied), "order_summary", id=f"gen-{n}", created_at=when
    )


def timed(call: Callable[..., list[Memory]], *args: object) -> tuple[float, list[Memory]]:
    started = time.perf_counter()
    result = call(*args, k=5)
    return (time.perf_counter() - started) * 1000, result


def measure_recall(
    store: MemoryStore, orders: list[OrderView], queries: int, rng: random.Random
) -> dict[str, list[float]]:
    names = {o.customer_id: o.customer_name for o in orders}
    products = sorted({line.product_name for o in orders for line in o.lines})
    timings: dict[str, list[float]] = {"search": [], "recall": []}
    leaks = 0
    for i in range(queries):
        cid = rng.choice(sorted(names))
        text = rng.choice(QUERIES).format(name=names[cid], product=rng.choice(products))
        # A fresh text per call: the embedder's query cache never answers.
        for label, call, query in (
            ("search", store.search, f"{text} ({i})"),
            ("recall", store.recall, f"{text} [{i}]"),
        ):
            ms, found = timed(call, cid, query)
            timings[label].append(ms)
            leaks += sum(m.customer_id != cid for m in found)
    print(f"  results of another customer: {leaks}")
    return timings


def seed_store(engine: Engine, folder: Path) -> MemoryStore:
    settings = load_settings(chroma_path=folder / "chroma")
    client = create_chroma_client(settings)
    store = open_memory_store(client, embedder=create_embedder(settings))
    store.embedder.embed(["warm-up"])
    report = seed_memories(engine=engine, store=store)
    print(
        f"seeding order summaries: {report.added} memories in {report.seconds:.2f} s "
        f"({report.rate:,.0f} memories/s, batch-embedded)"
    )
    again = seed_memories(engine=engine, store=store)
    print(f"  re-run: {again.added} added, {again.skipped} skipped in {again.seconds:.2f} s")
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description="customer memory benchmark")
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(database_url=f"sqlite:///{folder}/bench.db")
        engine = create_db_engine(settings)
        init_schema(engine)
        seed(engine=engine)
        store = seed_store(engine, Path(folder))
        orders = list(confirmed_orders(engine=engine))
        extra = variations(orders, args.memories - store.count(), rng)
        started = time.perf_counter()
        store.add_many(extra, skip_existing=False)
        seconds = time.perf_counter() - started
        print(
            f"filling to {store.count():,} memories: {len(extra):,} more in {seconds:.1f} s "
            f"({len(extra) / seconds:,.0f} memories/s)"
        )
        print(f"recall with {store.count():,} memories, {args.queries} fresh queries each:")
        timings = measure_recall(store, orders, args.queries, rng)
        for label, values in timings.items():
            print(
                f"  {label:>6}: p50 {statistics.median(values):5.1f} ms  "
                f"p95 {percentile(values, 95):5.1f} ms  max {max(values):5.1f} ms"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
