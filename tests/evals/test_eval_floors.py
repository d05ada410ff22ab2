"""The evaluation sets as a test: the offline model keeps its accuracy and loses nothing silently.

Runs every case of each dataset under evals/datasets/ through a real OrderDesk (offline
model, private seeded SQLite store, real embeddings and Chroma). Floors sit a little
under today's scores so a change that makes understanding worse fails here; raise them
as the model improves. Silent losses (a draft that differs from what was asked while the
reply raised nothing) must stay at zero in every set: that is the invariant the reader
is built around, so it has no floor to sit under.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from config import PROJECT_ROOT
from evals.runner import run_eval

DATASETS = PROJECT_ROOT / "evals" / "datasets"
FLOORS: dict[str, dict[str, float]] = {
    "northwind": {
        "exact": 1.0,
        "casual": 0.95,
        "typo": 0.95,
        "description": 0.90,
        "quantities": 0.95,
        "format": 0.95,
        "edits": 0.90,
        "confirm": 0.90,
        "unknown": 0.85,
        "ambiguous": 0.80,
        "injection": 1.0,
        "status": 1.0,
        "search": 0.80,
    },
    "chat": {"chat": 0.95},
    "emails": {"email": 0.90},
    "languages": {"de": 0.90, "es": 0.90, "fr": 0.90, "pt": 0.90, "it": 0.90},
    "conversation": {
        "references": 0.90,
        "two_requests": 0.85,
        "clarification": 0.90,
        "memory": 0.85,
    },
    "superstore": {"ss_short": 0.85, "ss_typo": 0.85, "ss_numbers": 0.85, "ss_ambiguous": 0.85},
    # The order header (PO, requested date, ship-to, notes), each case on its own `today`.
    "header": {"header": 0.95},
    # Unit words against quantity_per_unit: inner counts converted aloud or asked.
    "packs": {"packs": 0.95},
    # A line that cannot be sold: its alternatives named, then swapped or cut as asked.
    "stock": {"substitutes": 0.95},
    # Another conversation holds the stock: flagged with the hold, confirmed once it goes.
    "holds": {"holds": 0.95},
    # Written blind to the reader, then used to find what it missed: a looser floor.
    "probe": {
        "probe_chat": 0.85,
        "probe_email": 0.80,
        "probe_lang": 0.85,
        "probe_conversation": 0.90,
        "probe_noise": 0.65,
        "probe_superstore": 0.80,
    },
    # Written blind to packs, substitutes and holds, then used to fix what they missed by cause.
    "probe_stock": {"probe_packs": 0.80, "probe_substitutes": 0.80, "probe_holds": 0.85},
}
# Known silent losses, each with why it is still open; any other silent loss fails.
KNOWN_SILENT = {
    # "4 standing desks": search is confident (0.94) that it is Acrylic Self-Standing Desk
    # Frames; the reader has no second opinion on a multi-word phrase.
    "probe": {"probe_superstore-013"},
}
OVERALL = {"northwind": 0.97, "chat": 0.95, "emails": 0.92, "languages": 0.95, "probe": 0.82}


@cache
def report(dataset: str) -> Any:
    """One run per dataset per test session, shared by its tests."""
    return run_eval(Path(DATASETS / f"{dataset}.jsonl"))


def _failures(run_report: Any, category: str | None = None) -> str:
    return "\n".join(
        f"{run.result.case_id}: {'; '.join(run.result.reasons)}"
        for run in run_report.runs
        if not run.result.passed and category in (None, run.result.category)
    )


@pytest.mark.parametrize(
    ("dataset", "category"),
    [(dataset, category) for dataset, floors in FLOORS.items() for category in sorted(floors)],
)
def test_category_floor(dataset: str, category: str) -> None:
    scores = report(dataset).categories()
    assert category in scores, f"no {category} cases in {dataset}"
    floor = FLOORS[dataset][category]
    assert scores[category]["accuracy"] >= floor, _failures(report(dataset), category)


@pytest.mark.parametrize("dataset", sorted(FLOORS))
def test_no_silent_loss(dataset: str) -> None:
    silent = set(report(dataset).silent_cases) - KNOWN_SILENT.get(dataset, set())
    assert not silent, f"silent losses in {dataset}: {silent}\n{_failures(report(dataset))}"


@pytest.mark.parametrize("dataset", sorted(OVERALL))
def test_overall_floor(dataset: str) -> None:
    assert report(dataset).accuracy >= OVERALL[dataset], _failures(report(dataset))
