"""HTTP API throughput and latency: /api/search and a full chat turn, 16 clients on loopback.

Starts `uvicorn api:app` itself (a separate process, one worker) on a free loopback port
over a freshly seeded temporary store (SQLite and Chroma in a temp directory, offline
model, a random API key), then drives it with `--clients` concurrent httpx.AsyncClient
workers for `--seconds` per scenario (at most `--max-requests` each), and prints
requests/s, p50, p95 and max latency. The server is stopped and the store deleted at the
end. `--database-url` names a PostgreSQL server to run the store on instead (a scratch
database is created on it and dropped afterwards).

    python -m bench.api [--clients 16] [--seconds 10] [--max-requests 20000]

Scenarios: `search` - GET /api/search?q=...&k=5 over a mix of product phrases (typos,
descriptions); `chat` - POST /api/chat with a 1-3 line order in a new thread each time
(message -> priced draft: customer lookup, catalog search, draft written to the database).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench.server import add_database_option, api_server, latency_line, seeded_store

SEARCHES = [
    "cajun seasoning", "mozarela", "blue cheese", "queso", "tofu", "pate chinois",
    "something sweet for breakfast", "chai tea", "gnocchi", "dried apples", "gorgonzolla",
    "sir rodneys scones", "beer", "smoked salmon", "konbu", "chocolate", "coffee",
    "louisiana hot", "maple syrup", "ikura",
]  # fmt: skip
ORDERS = [
    "Alfreds Futterkiste wants 12 Queso Cabrales, a dozen of the cajun seasoning and 5 mozzarella",
    "12 x tofu; ikura x3 for Ernst Handel",
    "Customer: QUICK\n- tofu - 4\n- 2 boxes of konbu",
    "twenty-five gnocchi and half a dozen tofu for bon app",
    "maria anders needs 6 pate chinois",
    "Chop-suey Chinese: 10 mozarella di giovani, 4 gorgonzolla",
]
BENCH_DB = "orderdesk_bench_api"
Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class Result:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def line(self) -> str:
        ok, rate = self.latencies_ms, len(self.latencies_ms) / self.elapsed_s
        return (
            f"{self.name:>7}: {rate:7.1f} req/s  {latency_line(ok)}  "
            f"({len(ok)} ok, {self.errors} errors, {self.elapsed_s:.1f} s)"
        )


def search_request(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
    return client.get("/api/search", params={"q": SEARCHES[n % len(SEARCHES)], "k": 5})


def chat_request(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
    body = {"thread_id": f"bench-{uuid.uuid4().hex[:16]}", "message": ORDERS[n % len(ORDERS)]}
    return client.post("/api/chat", json=body)


def _succeeded(name: str, response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    return name != "chat" or response.json().get("draft") is not None


async def run(name: str, url: str, key: str, request: Request, args: argparse.Namespace) -> Result:
    """`args.clients` workers sending `request` until the time or the request budget ends."""
    result, counter = Result(name), itertools.count()
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=60
    ) as client:
        for n in range(args.clients):  # warm-up, not measured
            await request(client, n)
        started = time.perf_counter()
        deadline = started + args.seconds

        async def worker() -> None:
            while time.perf_counter() < deadline and (n := next(counter)) < args.max_requests:
                sent = time.perf_counter()
                try:
                    response = await request(client, n)
                    ok = _succeeded(name, response)
                except httpx.HTTPError:
                    ok = False
                if ok:
                    result.latencies_ms.append((time.perf_counter() - sent) * 1000)
                else:
                    result.errors += 1

        await asyncio.gather(*(worker() for _ in range(args.clients)))
        result.elapsed_s = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP API throughput and latency")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    add_database_option(parser)
    args = parser.parse_args()
    with seeded_store(args.database_url, BENCH_DB) as store:
        with api_server(store.env) as url:
            results = [
                asyncio.run(run(name, url, store.key, request, args))
                for name, request in (("search", search_request), ("chat", chat_request))
            ]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"HTTP API, 1 uvicorn worker, {backend} + embedded Chroma, offline model; "
        f"{args.clients} concurrent clients on loopback, {args.seconds:g} s per scenario"
    )
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()
