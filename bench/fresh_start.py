"""`./scripts/api --workers N` on fresh PostgreSQL databases: does every start come up clean?

    .venv/bin/python -m bench.fresh_start [--runs 3] [--workers 2]

Each run creates an empty database on BENCH_DATABASE_URL's server, starts the launch
script exactly as a user would (setup, `python -m db.migrate`, seed, uvicorn with N
workers; API_AUTH_DISABLED=true, a free loopback port, a throw-away Chroma directory),
polls /api/health until every piece is ok, then sends SIGTERM and drops the database.
A run is clean when the API answered healthy and the log holds no traceback or
database error. Before `db.migrate` existed every worker created the checkpointer's
tables itself, and 2 workers on a fresh database failed half the time (DeadlockDetected,
UniqueViolation on checkpoint_migrations_pkey or pg_type_typname_nsp_index).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.database import server_url
from config import PROJECT_ROOT, normalize_database_url

START_TIMEOUT_S = 180.0
PROBLEMS = re.compile(r"Traceback|Deadlock|UniqueViolation|OperationalError|\bERROR\b")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as reply:
            return reply.status == 200 and json.load(reply)["status"] == "ok"
    except (OSError, ValueError, KeyError):
        return False


def one_start(server: str, workers: int) -> tuple[bool, float, list[str]]:
    """Start the API on a new database; (clean, seconds to healthy, problem lines)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"orderdesk_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="orderdesk-fresh-") as folder:
        log_path = Path(folder) / "api.log"
        env = {
            **os.environ,
            "ORDERDESK_ENV_FILE": "",
            "DATABASE_URL": url,
            "API_AUTH_DISABLED": "true",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "CHROMA_PATH": str(Path(folder) / "chroma"),
            "LLM_PROVIDER": "offline",
        }
        started = time.perf_counter()
        with log_path.open("w") as log:
            process = subprocess.Popen(
                ["./scripts/api", "--workers", str(workers)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            up = False
            while time.perf_counter() - started < START_TIMEOUT_S and process.poll() is None:
                if healthy(port):
                    up = True
                    break
                time.sleep(0.25)
            elapsed = time.perf_counter() - started
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # uvicorn stops its workers
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        problems = [line for line in log_path.read_text().splitlines() if PROBLEMS.search(line)]
    return up and not problems, elapsed, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-url", default=server_url())
    args = parser.parse_args()
    server = normalize_database_url(args.server_url)
    clean = 0
    for run in range(1, args.runs + 1):
        ok, seconds, problems = one_start(server, args.workers)
        clean += ok
        status = "clean" if ok else "FAILED"
        print(f"run {run}: {status}, healthy after {seconds:.1f} s", flush=True)
        for line in problems[:5]:
            print(f"    {line}")
    print(
        f"./scripts/api --workers {args.workers} on a fresh PostgreSQL database: "
        f"{clean}/{args.runs} starts clean"
    )


if __name__ == "__main__":
    main()
