"""The shipped evaluation set passes evals/check_dataset.py, and the checker catches bad cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.check_dataset import CATEGORIES, DEFAULT_DATASET, Catalog, check_file, main


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_shipped_dataset_has_no_problems(catalog: Catalog) -> None:
    counts, report = check_file(DEFAULT_DATASET, catalog)
    assert report.errors == []
    assert sum(counts.values()) == 228
    assert set(counts) == set(CATEGORIES)


def test_command_line_exits_zero_on_the_shipped_dataset(capsys: pytest.CaptureFixture) -> None:
    assert main([str(DEFAULT_DATASET), "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")


BAD_CASES = [
    ({"customer_id": "ALFKI", "lines": {"999": 1}}, "Alfreds: 1 x", "unknown product id"),
    ({"customer_id": "ALFKI", "lines": {"1": 2}}, "Alfreds: 2 chai", "discontinued"),
    ({"customer_id": "ALFKI", "lines": {"11": 5000}}, "Alfreds: 5000 cabrales", "in stock"),
    ({"customer_id": "ALFKI", "lines": {"11": 2}}, "2 cabrales please", "not recognisable"),
    ({"customer_id": "ZZZZZ", "lines": {"11": 2}}, "Zed: 2 cabrales", "unknown customer_id"),
    ({"customer_id": "ALFKI", "lines": {"11": 0}}, "Alfreds: 0 cabrales", "positive integer"),
]


@pytest.mark.parametrize(("expect", "message", "problem"), BAD_CASES)
def test_checker_reports_a_bad_case(
    catalog: Catalog, tmp_path: Path, expect: dict, message: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    bad = {"id": "casual-001", "category": "casual", "turns": [message], "expect": expect}
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert any(problem in error for error in report.errors), report.errors


def test_checker_reports_duplicate_ids(catalog: Catalog, tmp_path: Path) -> None:
    lines = DEFAULT_DATASET.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([lines[0], lines[0]]) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert any("duplicate id" in error for error in report.errors)
