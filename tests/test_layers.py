"""The layering is a check: the import-linter contracts of pyproject.toml hold, and each
one fails when a module breaks it (on a copy of the sources with one probe module added).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SOURCES = ["agents", "api", "ui", "orders", "db", "rag", "memory", "evals", "bench"]


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess:
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *selected],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "300"},  # one chain a line, not wrapped
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


# contract id -> (files to add, an import chain the report must name); "indirect" probes
# go through a module outside the contract's source and forbidden packages.
PROBES = {
    "domain-frameworks direct": (
        "domain-frameworks",
        {"orders/_probe.py": "import fastapi\n"},
        "orders._probe -> fastapi",
    ),
    "domain-frameworks indirect": (
        "domain-frameworks",
        {"db/_probe.py": "import evals._probe\n", "evals/_probe.py": "import streamlit\n"},
        "evals._probe -> streamlit",
    ),
    "domain-below-app": (
        "domain-below-app",
        {"rag/_probe.py": "from agents import desk\n"},
        "rag._probe -> agents.desk",
    ),
    "domain-below-bootstrap": (
        "domain-below-app",
        {"memory/_probe.py": "import bootstrap\n"},
        "memory._probe -> bootstrap",
    ),
    "ui-no-sqlalchemy": (
        "ui-no-database",
        {"ui/_probe.py": "from sqlalchemy.orm import Session\n"},
        "ui._probe -> sqlalchemy",
    ),
    "ui-no-db": (
        "ui-no-database",
        {"ui/_probe.py": "from db.models import Customer\n"},
        "ui._probe -> db.models",
    ),
    "api-no-db": (
        "api-no-database",
        {"api/routes/_probe.py": "from db.engine import create_db_engine\n"},
        "api.routes._probe -> db.engine",
    ),
    "api-no-sqlalchemy": (
        "api-no-database",
        {"api/_probe.py": "from sqlalchemy.exc import OperationalError\n"},
        "api._probe -> sqlalchemy",
    ),
    "agents-no-ui": (
        "agents-no-front-end",
        {"agents/_probe.py": "import ui.format\n"},
        "agents._probe -> ui.format",
    ),
    "agents-no-api-indirect": (
        "agents-no-front-end",
        {"agents/_probe.py": "import evals._probe\n", "evals/_probe.py": "import api.schemas\n"},
        "evals._probe -> api.schemas",
    ),
    "ui-to-api": (
        "front-ends-independent",
        {"ui/_probe.py": "from api import schemas\n"},
        "ui._probe -> api",
    ),
    "api-to-ui": (
        "front-ends-independent",
        {"api/_probe.py": "import ui.format\n"},
        "api._probe -> ui.format",
    ),
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages, the two root modules and pyproject.toml."""
    copy = tmp_path_factory.mktemp("layers")
    for name in SOURCES:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("bootstrap.py", "config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


@pytest.mark.parametrize("probe", list(PROBES))
def test_each_contract_fails_when_broken(sources: Path, probe: str) -> None:
    contract, files, chain = PROBES[probe]
    try:
        for path, text in files.items():
            (sources / path).write_text(text)
        done = lint_imports(sources, contract)
    finally:
        for path in files:
            (sources / path).unlink()
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" in done.stdout and chain in done.stdout, done.stdout[-4000:]
