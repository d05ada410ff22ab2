"""The evaluation set as a test: the offline model must keep its per-category accuracy.

Runs every case of evals/datasets/northwind.jsonl through a real OrderDesk (offline
model, private seeded SQLite store, real embeddings and Chroma). Floors sit a little
under today's scores so a change that makes understanding worse fails here; raise them
as the model improves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config import PROJECT_ROOT
from evals.runner import run_eval

DATASET = PROJECT_ROOT / "evals" / "datasets" / "northwind.jsonl"
FLOORS = {
    "exact": 1.0,
    "casual": 0.95,
    "typo": 0.95,
    "description": 0.90,
    "quantities": 0.95,
    "format": 0.95,
    "edits": 0.90,
    "confirm": 0.90,
    "unknown": 0.85,
    "ambiguous": 0.60,
    "injection": 1.0,
    "status": 1.0,
    "search": 0.80,
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> object:
    return run_eval(Path(DATASET))


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_category_floor(report: object, category: str) -> None:
    scores = report.categories()  # type: ignore[attr-defined]
    assert category in scores, f"no {category} cases in the dataset"
    failed = [
        f"{run.result.case_id}: {'; '.join(run.result.reasons)}"
        for run in report.runs  # type: ignore[attr-defined]
        if run.result.category == category and not run.result.passed
    ]
    assert scores[category]["accuracy"] >= FLOORS[category], "\n".join(failed)


def test_overall_floor(report: object) -> None:
    assert report.accuracy >= 0.95  # type: ignore[attr-defined]
