"""A start of the API that cannot work says why in one line and exits 2: no traceback.

Real processes, as an operator starts them: `./scripts/api` (which checks before it
migrates, so nothing changes and no uvicorn worker is respawned in a loop) and
`uvicorn api:app` alone (which checks before it serves; a schema nobody migrated is
tests/test_bootstrap.py's case). Each line names the setting or command that fixes it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "startup-key-0123456789"
REFUSED = "Order Desk API not started: "


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], tmp_path: Path, **settings: str) -> subprocess.CompletedProcess:
    """`command` run to its end with only `settings` (no .env, none of ours inherited)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("API_", "DATABASE_", "LLM_", "OPENAI_"))
    }
    env.update(
        ORDERDESK_ENV_FILE="",
        CHROMA_PATH=str(tmp_path / "chroma"),
        API_PORT=str(free_port()),
        LLM_PROVIDER="offline",
        **settings,
    )
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def refusal(done: subprocess.CompletedProcess) -> str:
    """The one line a refused start printed, after checking it stopped cleanly with 2."""
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith(REFUSED)]
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]


SCRIPT = ["./scripts/api"]
UVICORN = [sys.executable, "-m", "uvicorn", "api:app", "--port", "0"]


def test_no_api_keys_stops_the_script_before_it_migrates_or_starts_workers(
    tmp_path: Path,
) -> None:
    """Refused before anything changes, and before uvicorn: a worker that exits at import
    is respawned by uvicorn forever."""
    database = tmp_path / "store.db"
    command = [*SCRIPT, "--workers", "2"]
    done = start(command, tmp_path, DATABASE_URL=f"sqlite:///{database}")
    line = refusal(done)
    assert "API_KEYS is not set" in line and "API_AUTH_DISABLED=true" in line
    assert not database.exists()
    assert "Started parent process" not in done.stderr


def test_no_api_keys_under_uvicorn_alone(tmp_path: Path) -> None:
    done = start(UVICORN, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}")
    assert "API_KEYS is not set" in refusal(done)


def test_bad_settings_are_one_line_naming_each_field(tmp_path: Path) -> None:
    done = start(SCRIPT, tmp_path, DATABASE_URL="mysql://nobody/none", API_KEYS="short")
    line = refusal(done)
    assert "DATABASE_URL: unknown scheme 'mysql'" in line
    assert "API_KEYS: every key must be at least 16 characters" in line


@pytest.mark.parametrize("command", [SCRIPT, UVICORN], ids=["scripts-api", "uvicorn"])
def test_a_database_that_does_not_answer(command: list[str], tmp_path: Path) -> None:
    url = f"postgresql://orderdesk:secret-pw@127.0.0.1:{free_port()}/none"
    line = refusal(start(command, tmp_path, DATABASE_URL=url, API_KEYS=KEY))
    assert "cannot be used" in line and "Connection refused" in line
    assert "set DATABASE_URL" in line
    assert "secret-pw" not in line


def test_a_schema_the_code_cannot_migrate(tmp_path: Path) -> None:
    """A store from a newer release: db.migrate's own line, and the script exits 2."""
    database = tmp_path / "newer.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    done = start(SCRIPT, tmp_path, DATABASE_URL=f"sqlite:///{database}", API_KEYS=KEY)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("Cannot migrate")]
    assert "9999_from_the_future" in line
