"""HTTP API throughput and latency: /api/search and a full chat turn, 16 clients on loopback.

Starts `uvicorn api:app` itself (a separate process, one worker) on a free loopback port
over a freshly seeded temporary store (SQLite and Chroma in a temp directory, offline
model, a random API key), then drives it with `--clients` concurrent httpx.AsyncClient
workers for `--seconds` per scenario (at most `--max-requests` each), and prints
requests/s, p50, p95 and max latency. The server is stopped and the store deleted at the
end. `--database-url` runs the store on PostgreSQL instead (an empty database).

    python -m bench.api [--clients 16] [--seconds 10] [--max-requests 20000]

Scenarios: `search` - GET /api/search?q=...&k=5 over a mix of product phrases (typos,
descriptions); `chat` - POST /api/chat with a 1-3 line order in a new thread each time
(message -> priced draft: customer lookup, catalog search, draft written to the database).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from config import PROJECT_ROOT

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
Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class Result:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def line(self) -> str:
        ok = sorted(self.latencies_ms)
        p95 = ok[max(0, int(round(0.95 * len(ok))) - 1)]
        rate, p50 = len(ok) / self.elapsed_s, statistics.median(ok)
        return (
            f"{self.name:>7}: {rate:7.1f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {ok[-1]:6.1f} ms  ({len(ok)} ok, {self.errors} errors, {self.elapsed_s:.1f} s)"
        )


def _environment(folder: Path, database_url: str | None, key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ORDERDESK_ENV_FILE="",
        DATABASE_URL=database_url or f"sqlite:///{folder / 'bench.db'}",
        CHROMA_PATH=str(folder / "chroma"),
        CHROMA_HOST="",
        API_KEYS=key,
        API_AUTH_DISABLED="false",
        LLM_PROVIDER="offline",
        LOG_LEVEL="WARNING",
    )
    return env


@contextmanager
def api_server(env: dict[str, str]) -> Iterator[str]:
    """`uvicorn api:app` on a free loopback port (socket handed over by fd); yields its URL."""
    subprocess.run([sys.executable, "-m", "db.seed"], env=env, cwd=PROJECT_ROOT, check=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    command = [sys.executable, "-m", "uvicorn", "api:app", "--fd", str(sock.fileno())]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, pass_fds=(sock.fileno(),))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        sock.close()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API server did not become healthy in time")


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
    parser.add_argument("--database-url", help="an empty database (default: temp SQLite)")
    args = parser.parse_args()
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as folder:
        env = _environment(Path(folder), args.database_url, key)
        with api_server(env) as url:
            results = [
                asyncio.run(run(name, url, key, request, args))
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
