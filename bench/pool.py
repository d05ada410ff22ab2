"""Pool benchmark: the pooled engine vs a new engine per call, on PostgreSQL.

32 threads (by default) for a fixed time each run a unit of work: load the catalog, then
a small read-write transaction (read a customer, touch a product). Mode `pooled` uses one
engine for the process (`db.engine.create_db_engine(settings)`, as the composition root
makes it); mode `per-call` builds and disposes an engine around every unit of work, the
anti-pattern Order Desk replaced. Prints both rates,
latency percentiles, connections opened, and the ratio.

    python -m bench.pool [--threads 32] [--seconds 10] [--server-url URL]

The benchmark creates (and drops) its own database `orderdesk_bench` on the server at
BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.orm import Session

from bench.database import bench_database, server_url
from config import get_settings
from db.engine import create_db_engine
from db.models import Customer, Product
from db.seed import seed
from orders.catalog import list_products

BENCH_DB = "orderdesk_bench"


@dataclass
class Result:
    mode: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    connections_opened: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(q) - 1] * 1000


def unit_of_work(engine: Engine, rng: random.Random) -> None:
    with Session(engine) as session:
        products = list_products(session=session)
        assert len(products) == 77
    with Session(engine) as session, session.begin():
        session.scalar(select(Customer).where(Customer.customer_id == "ALFKI"))
        session.execute(
            update(Product)
            .where(Product.product_id == rng.randint(1, 77))
            .values(updated_at=text("now()"))
        )


def run(mode: str, work: Callable[[random.Random], None], threads: int, seconds: float) -> Result:
    result = Result(mode=mode, seconds=seconds)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start = threading.Barrier(threads)

    def worker(seed_value: int) -> None:
        rng = random.Random(seed_value)
        start.wait()
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                work(rng)
            except Exception:  # counted, not hidden: a failing mode shows its error count
                with lock:
                    result.errors += 1
                continue
            with lock:
                result.latencies.append(time.perf_counter() - began)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="pooled engine vs a new engine per call")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--server-url", default=server_url())
    args = parser.parse_args()

    with bench_database(args.server_url, BENCH_DB) as url:
        settings = get_settings()
        pooled_engine = create_db_engine(settings)
        seed(engine=pooled_engine)
        opened = [0]
        event.listen(pooled_engine.pool, "connect", lambda *_: opened.__setitem__(0, opened[0] + 1))

        def pooled(rng: random.Random) -> None:
            unit_of_work(pooled_engine, rng)

        def per_call(rng: random.Random) -> None:
            engine = create_engine(url)
            try:
                unit_of_work(engine, rng)
            finally:
                engine.dispose()

        print(
            f"PostgreSQL {url.split('@')[-1]}, {args.threads} threads, {args.seconds:.0f} s "
            f"per mode, pool_size={settings.db_pool_size} max_overflow={settings.db_max_overflow}"
        )
        results = []
        for mode, work in (("pooled", pooled), ("per-call", per_call)):
            opened[0] = 0
            result = run(mode, work, args.threads, args.seconds)
            result.connections_opened = opened[0] if mode == "pooled" else len(result.latencies)
            results.append(result)
            print(
                f"{mode:>9}: {result.rate:8.1f} units/s  p50 {result.percentile(50):6.1f} ms  "
                f"p95 {result.percentile(95):6.1f} ms  errors {result.errors}  "
                f"connections opened {result.connections_opened}"
            )
        print(f"    ratio: pooled is {results[0].rate / results[1].rate:.1f}x per-call")
        pooled_engine.dispose()


if __name__ == "__main__":
    main()
