"""Turn latency of the offline model: message → draft, through the whole OrderDesk.

Plays the first message of every order case in the evaluation set (each in a new
thread, on a private seeded SQLite store with its own Chroma index), excluding the
first (warm-up) turn, and prints p50 / p95 / max overall and for messages of up to
4 lines. Goal (DESIGN.md): p95 ≤ 100 ms for up to 4 lines on Northwind.

    python -m bench.turns [--dataset evals/datasets/northwind.jsonl] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import chromadb

from config import PROJECT_ROOT, load_settings
from db.engine import create_db_engine, init_schema
from db.seed import seed
from rag.catalog_index import get_catalog_collection


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description="offline turn latency")
    parser.add_argument(
        "--dataset", type=Path, default=PROJECT_ROOT / "evals" / "datasets" / "northwind.jsonl"
    )
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    cases = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    messages = [c["turns"][0] for c in cases if c["expect"].get("lines")]
    from agents.desk import OrderDesk

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(database_url=f"sqlite:///{folder}/bench.db")
        engine = create_db_engine(settings)
        init_schema(engine)
        seed(engine=engine)
        collection = get_catalog_collection(chromadb.EphemeralClient())
        desk = OrderDesk.open(settings=settings, engine=engine, collection=collection)
        desk.chat("warm-up", messages[0])
        timings: list[tuple[int, float]] = []
        for _ in range(args.rounds):
            for message in messages:
                started = time.perf_counter()
                turn = desk.chat(uuid.uuid4().hex, message)
                elapsed = (time.perf_counter() - started) * 1000
                timings.append((len(turn.draft.lines) if turn.draft else 0, elapsed))
        desk.close()
        engine.dispose()

    every = [ms for _, ms in timings]
    small = [ms for n, ms in timings if n <= 4]
    print(f"offline turns on Northwind (SQLite), {len(every)} turns, warm-up excluded")
    for label, values in (("all messages", every), ("up to 4 lines", small)):
        print(
            f"  {label:>14}: p50 {statistics.median(values):6.1f} ms  "
            f"p95 {percentile(values, 95):6.1f} ms  max {max(values):6.1f} ms  (n={len(values)})"
        )


if __name__ == "__main__":
    main()
