"""The API under test for the HTTP benchmarks, and the latency figures they print.

`seeded_store` is where a benchmark starts: a throw-away store (a SQLite file in a temp
folder, or a scratch database on a PostgreSQL server, dropped afterwards, as
`scratch_store` makes it) with Northwind loaded by `seed_store`, and the environment a
child process needs to serve it (`server_environment`: offline model, a random API key,
Chroma in the temp folder). `api_server` runs `uvicorn api:app` on a free loopback port
until the block ends (`workers` > 1: uvicorn's own worker processes on that one port);
`api_servers` runs several such replicas at once, each on its own port, as a load
balancer would see them. `chroma_server` runs `chroma run` from this venv on a free port
and `use_chroma_server` points an environment at it, so that every replica shares one
vector store. `percentile` and `latency_line` summarise a list of timings.
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
from contextlib import ExitStack, contextmanager
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


# Before `python -m db.migrate` existed every API process ran the checkpointer's setup()
# at start, and two doing so at once on a fresh PostgreSQL database deadlock (one exits).
# Without db.migrate the tables are therefore made once here, first; then setup() has
# nothing left to do in the servers.
CHECKPOINTER_SETUP = (
    "from config import get_settings; "
    "from memory.threads import close_checkpointer, open_checkpointer; "
    "close_checkpointer(open_checkpointer(get_settings()))"
)


def seed_store(env: dict[str, str]) -> None:
    """Prepare the environment's DATABASE_URL as `scripts/cluster` does, before any server
    starts (child processes, like a user): `python -m db.migrate` (or, in a tree without
    it, the checkpointer's tables), then `python -m db.seed`."""

    def run(*args: str) -> None:
        subprocess.run([sys.executable, *args], env=env, cwd=PROJECT_ROOT, check=True)

    if (PROJECT_ROOT / "db" / "migrate.py").exists():
        run("-m", "db.migrate")
    else:
        run("-c", CHECKPOINTER_SETUP)
    run("-m", "db.seed")


@contextmanager
def api_server(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """`uvicorn api:app` on a free loopback port (socket handed over by fd); yields its URL."""
    with api_servers(env, replicas=1, workers=workers) as urls:
        yield urls[0]


@contextmanager
def api_servers(env: dict[str, str], *, replicas: int, workers: int = 1) -> Iterator[list[str]]:
    """`replicas` API processes, each on its own free loopback port with `workers` uvicorn
    workers, all started at once; yields their URLs once every one answers /api/health."""
    with ExitStack() as stack:
        servers = [stack.enter_context(_uvicorn(env, workers)) for _ in range(replicas)]
        for url, process in servers:
            _wait_healthy(url, process)
        yield [url for url, _ in servers]


@contextmanager
def _uvicorn(env: dict[str, str], workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    # The listening socket is bound here and handed over, so no other process can take the
    # port between choosing it and uvicorn listening on it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    command = [sys.executable, "-m", "uvicorn", "api:app", "--fd", str(sock.fileno())]
    command += ["--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, pass_fds=(sock.fileno(),))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", server
    finally:
        server.terminate()  # uvicorn's supervisor stops its workers before it exits
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
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


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    data: Path


@contextmanager
def chroma_server(folder: Path, timeout_s: float = 60) -> Iterator[ChromaServer]:
    """`chroma run` (this venv's) on a free loopback port, data in `folder`, until the block
    ends; yields once its heartbeat answers."""
    with socket.socket() as probe:  # chroma run takes a port number, not a socket
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    folder.mkdir(parents=True, exist_ok=True)
    chroma = Path(sys.executable).with_name("chroma")
    command = [str(chroma), "run", "--path", str(folder / "data")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = folder / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_heartbeat(f"http://127.0.0.1:{port}", process, log, timeout_s)
        yield ChromaServer("127.0.0.1", port, folder / "data")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_heartbeat(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"chroma run did not answer within {timeout_s:.0f} s")


def use_chroma_server(env: dict[str, str], server: ChromaServer) -> dict[str, str]:
    """`env` pointed at the Chroma server instead of an embedded store."""
    return {**env, "CHROMA_HOST": server.host, "CHROMA_PORT": str(server.port)}


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
