"""The API under test for the HTTP benchmarks, and the latency figures they print.

`seeded_store` is where a benchmark starts: a throw-away store (a SQLite file in a temp
folder, or a scratch database on a PostgreSQL server, dropped afterwards, as
`scratch_store` makes it) with Northwind loaded by `seed_store`, and the environment a
child process needs to serve it (`server_environment`: offline model, a random API key,
Chroma in the temp folder). `api_server` runs `uvicorn api:app` on a free loopback port
until the block ends. `percentile` and `latency_line` summarise a list of timings.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.database import bench_database
from config import PROJECT_ROOT


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (a scratch database is made and dropped); "
        "default: a temporary SQLite file",
    )


@dataclass(frozen=True)
class SeededStore:
    database_url: str
    env: dict[str, str]  # for a child process (server or seeder) on this store
    key: str  # the API key the server accepts


@contextmanager
def seeded_store(server_url: str | None, name: str) -> Iterator[SeededStore]:
    """A scratch store (see `scratch_store`) with Northwind loaded, and a random API key."""
    key = secrets.token_urlsafe(24)
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_store(Path(folder), server_url, name) as database_url,
    ):
        env = server_environment(Path(folder), database_url, key)
        seed_store(env)
        yield SeededStore(database_url, env, key)


@contextmanager
def scratch_store(folder: Path, server_url: str | None, name: str) -> Iterator[str]:
    """A SQLite file in `folder`, or database `name` created on `server_url` (then dropped)."""
    if server_url is None:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    with bench_database(server_url, name) as url:
        yield url


def server_environment(folder: Path, database_url: str, key: str) -> dict[str, str]:
    """This process's environment for an API server on `database_url`, keyed by `key`."""
    env = dict(os.environ)
    env.update(
        ORDERDESK_ENV_FILE="",
        DATABASE_URL=database_url,
        CHROMA_PATH=str(folder / "chroma"),
        CHROMA_HOST="",
        API_KEYS=key,
        API_AUTH_DISABLED="false",
        LLM_PROVIDER="offline",
        LOG_LEVEL="WARNING",
    )
    return env


def seed_store(env: dict[str, str]) -> None:
    """Load Northwind into the environment's DATABASE_URL (a child process, like a user)."""
    subprocess.run([sys.executable, "-m", "db.seed"], env=env, cwd=PROJECT_ROOT, check=True)


@contextmanager
def api_server(env: dict[str, str]) -> Iterator[str]:
    """`uvicorn api:app` on a free loopback port (socket handed over by fd); yields its URL."""
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


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, round(q / 100 * len(ordered)) - 1)]


def latency_line(latencies_ms: list[float]) -> str:
    """`p50 … ms  p95 … ms  max … ms` (or `no samples`)."""
    if not latencies_ms:
        return "no samples"
    return (
        f"p50 {statistics.median(latencies_ms):6.1f} ms  "
        f"p95 {percentile(latencies_ms, 95):6.1f} ms  max {max(latencies_ms):6.1f} ms"
    )
