"""The scale-out, small and for real: `scripts/cluster` and `bench.load --replicas/--workers`.

`scripts/cluster` is started as a person would start it - a scratch PostgreSQL database,
an API key, free ports - and brings up its own Chroma server, 2 API replicas and 1
Streamlit replica under honcho. Once every replica answers its health check, 3
conversations alternate their requests between the two replicas and 2 threads get a
double submit, two edits and two approvals sent to both replicas at once (the bench's own
phases); then every invariant of `bench.load` and `bench.audit` must hold, read from the
database, the checkpointer and the Chroma server. Ctrl-C (SIGINT to the launcher's
process group) must stop everything: every port free again, no process left. Without a
PostgreSQL URL the launcher refuses in one line with exit 2. And `python -m bench.load`
itself runs small with 2 replicas × 2 workers and a Chroma server, and passes its audits.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from bench.audit import Store, audit_run
from bench.load import audit, limit_stock, make_plans, run_conversations
from bench.same_thread import make_same_plans, no_lost_edit, run_same_thread
from config import load_settings
from rag.chroma import create_chroma_client
from tests.conftest import scratch_database

ROOT = Path(__file__).resolve().parents[2]
KEY = "cluster-test-key-0123456789"
START_TIMEOUT_S = 150
STOP_TIMEOUT_S = 30


@pytest.fixture
def scratch_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database of this test's own, dropped afterwards."""
    with scratch_database(pg_server_url, prefix="cluster") as url:
        yield url


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports that nothing listens on now."""
    for _ in range(200):
        first = random.randrange(20_000, 40_000)
        socks = [socket.socket() for _ in range(count)]
        try:
            for offset, sock in enumerate(socks):
                sock.bind(("127.0.0.1", first + offset))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free consecutive ports")


def launcher_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHROMA_HOST", "DATABASE_URL")}
    env.update(ORDERDESK_ENV_FILE="", LLM_PROVIDER="offline", LOG_LEVEL="WARNING", **values)
    return env


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    log: Path
    api_urls: list[str]
    ui_url: str
    chroma_port: int
    ports: list[int]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def interrupt(self) -> int | None:
        """Ctrl-C: SIGINT to the launcher's process group, as a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None


@pytest.fixture
def cluster(scratch_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """`scripts/cluster --api 2 --ui 1` on the scratch database, once every replica is up."""
    api_port, ui_port, chroma_port = free_ports(2), free_ports(1), free_ports(1)
    env = launcher_env(
        DATABASE_URL=scratch_url,
        API_KEYS=KEY,
        API_PORT=str(api_port),
        UI_PORT=str(ui_port),
        CHROMA_PORT=str(chroma_port),
    )
    command = ["./scripts/cluster", "--no-setup", "--no-memory-seed", "--api", "2", "--ui", "1"]
    command += ["--chroma-path", str(tmp_path / "chroma")]
    log = tmp_path / "cluster.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    running = Cluster(
        process,
        log,
        [f"http://127.0.0.1:{api_port + n}" for n in range(2)],
        f"http://127.0.0.1:{ui_port}",
        chroma_port,
        [api_port, api_port + 1, ui_port, chroma_port],
    )
    try:
        wait_until_up(running)
        yield running
    finally:
        if running.process.poll() is None:
            running.interrupt()
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait(timeout=10)


def wait_until_up(cluster: Cluster) -> None:
    pending = [f"{url}/api/health" for url in cluster.api_urls] + [
        f"{cluster.ui_url}/_stcore/health"
    ]
    deadline = time.monotonic() + START_TIMEOUT_S
    while pending and time.monotonic() < deadline:
        if cluster.process.poll() is not None:
            pytest.fail(
                f"the launcher exited with {cluster.process.returncode}:\n{cluster.output()}"
            )
        try:
            if httpx.get(pending[0], timeout=5).status_code == 200:
                pending.pop(0)
                continue
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    assert not pending, f"not up after {START_TIMEOUT_S} s: {pending}\n{cluster.output()}"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_naming(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker` (a port or path of this test)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state != "Z" and proc.name != str(os.getpid()):
            found.append(cmdline)
    return found


def test_the_launcher_serves_one_store_from_two_replicas_and_stops_on_ctrl_c(
    cluster: Cluster, scratch_url: str
) -> None:
    health = httpx.get(f"{cluster.api_urls[1]}/api/health", timeout=10).json()
    assert health["status"] == "ok", health
    assert health["database"]["backend"] == "postgresql" and health["chroma"]["mode"] == "http"

    engine = create_engine(scratch_url, poolclass=NullPool)
    try:
        failed = run_both_phases(engine, scratch_url, cluster.api_urls, cluster.chroma_port)
    finally:
        engine.dispose()
    assert not failed, "\n".join(failed)

    assert cluster.interrupt() is not None, f"still running after Ctrl-C:\n{cluster.output()}"
    assert [port for port in cluster.ports if listening(port)] == []
    assert processes_naming(str(cluster.ports[0])) == []  # no API replica left
    assert processes_naming(f"--port {cluster.chroma_port}") == []  # nor the Chroma server


def run_both_phases(engine: Engine, url: str, api_urls: list[str], chroma_port: int) -> list[str]:
    """bench.load's conversations and the same-thread phase; the failed checks' lines."""
    baseline = limit_stock(engine)
    plans = make_plans(engine, 3)
    outcomes, _ = run_conversations(api_urls, KEY, plans, timeout_s=120)
    assert {e.url for o in outcomes for e in o.exchanges} == set(api_urls)  # both replicas
    checks = audit(engine, baseline, outcomes)
    same_plans = make_same_plans([p.customer_id for p in plans], 2, uuid.uuid4().hex[:8])
    same, _ = run_same_thread(api_urls, KEY, same_plans, timeout_s=120)
    expect = {p.thread_id: "at most one" for p in plans} | {p.thread_id: "one" for p in same_plans}
    chroma = create_chroma_client(load_settings(chroma_host="127.0.0.1", chroma_port=chroma_port))
    checks += audit_run(
        Store(engine, url, chroma),
        last_order_id=baseline.last_order_id,
        exchanges=[e for o in outcomes for e in o.exchanges] + same,
        expect=expect,  # type: ignore[arg-type]
    )
    checks.append(no_lost_edit(engine, same, baseline.last_order_id))
    return [check.line() for check in checks if not check.ok]


def test_the_launcher_refuses_sqlite_in_one_line() -> None:
    env = launcher_env(DATABASE_URL="sqlite:///var/not-shared.db", API_KEYS=KEY)
    done = subprocess.run(
        ["./scripts/cluster", "--no-setup"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "PostgreSQL" in done.stderr


def test_bench_load_on_two_replicas_of_two_workers_passes_its_audits(pg_server_url: str) -> None:
    command = [sys.executable, "-m", "bench.load", "--database-url", pg_server_url]
    command += ["--replicas", "2", "--workers", "2", "--conversations", "3", "--same-thread", "2"]
    env = launcher_env()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert "on 2 API process(es) × 2 uvicorn worker(s), PostgreSQL + a Chroma server" in out
    assert "same-thread phase: 2 threads" in out
    assert "FAILED" not in out and out.count("OK    ") >= 19, out + done.stderr[-3000:]
    assert done.returncode == 0, out
