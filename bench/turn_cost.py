"""CPU cost of one chat turn through the whole OrderDesk, and where it goes.

Runs `--conversations` three-turn conversations (an order, an edit, "yes") on a seeded
database (a scratch database on the PostgreSQL server of --database-url, made and
dropped; else a private SQLite file) with the offline model and a memory store, and
prints per-turn CPU time (process time, p50/p95), SQL statements per turn, and with
--profile the functions that cost most (cumulative; only the calling thread's).

    python -m bench.turn_cost [--database-url postgresql://...] [--conversations 30] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import chromadb
from sqlalchemy import create_engine, event

from bench.database import bench_database
from bootstrap import build_services
from config import load_settings
from db.engine import init_schema
from db.seed import seed
from memory.store import open_memory_store
from rag.catalog_index import get_catalog_collection
from rag.embeddings import create_embedder

CUSTOMERS = ["ALFKI", "BLAUS", "ERNSH", "FRANK", "BONAP", "QUICK", "HANAR", "LILAS"]
TURNS = ["Customer: {c}\n- 2 chai\n- 3 tofu", "add 2 konbu", "yes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (a scratch database)")
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.database_url:
        with bench_database(args.database_url, f"orderdesk_bench_turn_cost_{os.getpid()}") as url:
            measure(url, args)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'cost.db'}"
        init_schema(create_engine(url))
        measure(url, args)


def measure(url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    seed(engine=engine)
    client = chromadb.EphemeralClient()
    settings = load_settings(database_url=url)
    embedder = create_embedder(settings)
    services = build_services(
        settings,
        engine=engine,
        embedder=embedder,
        catalog_collection=get_catalog_collection(
            client, embedder=embedder, name=f"c{uuid.uuid4().hex[:6]}"
        ),
        memory=open_memory_store(client, embedder=embedder, name=f"m{uuid.uuid4().hex[:6]}"),
        provider="offline",
    )
    desk = services.desk
    statements = 0

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        nonlocal statements
        statements += 1

    desk.chat("warm-up", TURNS[0].format(c="ALFKI"))
    cpu: dict[str, list[float]] = {turn: [] for turn in TURNS}
    sql: dict[str, list[int]] = {turn: [] for turn in TURNS}
    profiler = cProfile.Profile() if args.profile else None
    for n in range(args.conversations):
        thread = f"cost-{uuid.uuid4().hex[:8]}"
        for turn in TURNS:
            before_sql, started = statements, time.process_time()
            if profiler:
                profiler.enable()
            result = desk.chat(thread, turn.format(c=CUSTOMERS[n % len(CUSTOMERS)]))
            if profiler:
                profiler.disable()
            cpu[turn].append(time.process_time() - started)
            sql[turn].append(statements - before_sql)
            assert result.error is None, result.reply
    for turn in TURNS:
        times = sorted(cpu[turn])
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"{turn.splitlines()[0][:24]:<26} CPU p50 {statistics.median(times) * 1000:6.1f} ms"
            f"  p95 {p95 * 1000:6.1f} ms  SQL statements {statistics.median(sql[turn]):.0f}"
        )
    if profiler:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(r"/work/|/tmp/prof/(agents|orders|memory|rag|db)", 45)
    services.close()
    engine.dispose()


if __name__ == "__main__":
    main()
