"""The shipped evaluation sets pass evals/check_dataset.py, and the checker catches bad cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.check_dataset import (
    DATASETS_DIR,
    DEFAULT_DATASET,
    NORTHWIND_CATEGORIES,
    Catalog,
    check_file,
    main,
)

# The sets beside northwind.jsonl and the least each category must hold.
NEW_SETS = {
    "chat.jsonl": {"chat": 20},
    "emails.jsonl": {"email": 30},
    "languages.jsonl": {"de": 15, "es": 15, "fr": 15, "pt": 15, "it": 15},
    "conversation.jsonl": {"references": 20, "two_requests": 10, "clarification": 12, "memory": 5},
    "superstore.jsonl": {"ss_short": 5, "ss_typo": 5, "ss_numbers": 5, "ss_ambiguous": 5},
    "header.jsonl": {"header": 30},
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_shipped_dataset_has_no_problems(catalog: Catalog) -> None:
    counts, report = check_file(DEFAULT_DATASET, catalog)
    assert report.errors == []
    assert sum(counts.values()) == 228
    assert set(counts) == set(NORTHWIND_CATEGORIES)


@pytest.mark.parametrize("name", sorted(NEW_SETS))
def test_new_datasets_have_no_problems(catalog: Catalog, name: str) -> None:
    counts, report = check_file(DATASETS_DIR / name, catalog)
    assert report.errors == []
    assert set(counts) == set(NEW_SETS[name])
    short = {cat: counts[cat] for cat, least in NEW_SETS[name].items() if counts[cat] < least}
    assert not short, f"categories below their minimum: {short}"


def test_new_datasets_hold_at_least_170_northwind_cases(catalog: Catalog) -> None:
    northwind = [name for name in NEW_SETS if name != "superstore.jsonl"]
    assert sum(sum(check_file(DATASETS_DIR / n, catalog)[0].values()) for n in northwind) >= 170


def test_command_line_exits_zero_on_the_shipped_dataset(capsys: pytest.CaptureFixture) -> None:
    assert main([str(DEFAULT_DATASET), "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")


def test_command_line_checks_every_file_given(capsys: pytest.CaptureFixture) -> None:
    paths = [str(DATASETS_DIR / name) for name in sorted(NEW_SETS)]
    assert main([*paths, "--quiet"]) == 0
    assert capsys.readouterr().out.count("\nOK") == len(paths)


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


NEW_BAD_CASES = [
    ("clarification", {"customer_id": None, "lines": {"14": 5}, "attention": True},
     "Acme: 5 tofu", "expects no lines"),
    ("clarification", {"customer_id": None, "lines": {}}, "Acme: 5 tofu", "attention or reply"),
    ("references", {"customer_id": "ALFKI", "lines": {"11": 2}, "order_cancelled": True},
     "Alfreds: 2 cabrales", "order_cancelled needs confirmed"),
    ("chat", {"customer_id": "ALFKI", "lines": {"11": 2}, "attention": "yes"},
     "Alfreds: 2 cabrales", "attention must be true or false"),
    ("chat", {"customer_id": "ALFKI", "lines": {"11": 2}, "reply_mentions": []},
     "Alfreds: 2 cabrales", "reply_mentions must be a non-empty list"),
    ("two_requests", {"customer_id": "ALFKI", "lines": {"11": 2}, "order_id_mentioned": 10250},
     "Alfreds: 2 cabrales", "order 10250 is not in the message"),
    ("memory", {}, "what did Alfreds order last time?", "what the reply must mention"),
    ("ss_short", {"customer_id": "ALFKI", "lines": {"1748": 2}}, "Alfreds: 2 iPhone 5S",
     "run on the superstore catalog"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "expect", "message", "problem"), NEW_BAD_CASES)
def test_checker_reports_a_bad_new_expectation(
    catalog: Catalog, tmp_path: Path, category: str, expect: dict, message: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    bad = {"id": f"{category}-001", "category": category, "turns": [message], "expect": expect}
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert any(problem in error for error in report.errors), report.errors


HEADER_CASE = {"customer_id": "ALFKI", "lines": {"11": 2}}
BAD_HEADERS = [
    ({"header": {"requested_date": "2026-12-01"}}, "2026-12-14", "before today"),
    ({"header": {"requested_date": "2026-12-20"}}, None, "needs the case's today"),
    ({"header": {"requested_date": "20/12/2026"}}, "2026-12-14", "not an ISO date"),
    ({"header": {"customer_po": "9999"}}, "2026-12-14", "is not in the turns"),
    ({"header": {"customer_po": "4711-A" * 10}}, "2026-12-14", "at most 50"),
    ({"header": {"po": "4711-A"}}, "2026-12-14", "unknown header fields"),
    ({"header": {}}, "2026-12-14", "non-empty object"),
    ({"header": {"customer_po": "4711-A"}}, "14/12/2026", "today '14/12/2026'"),
]


@pytest.mark.parametrize(("expect", "today", "problem"), BAD_HEADERS)
def test_checker_reports_a_bad_header_expectation(
    catalog: Catalog, tmp_path: Path, expect: dict, today: str | None, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    bad = {
        "id": "header-001",
        "category": "header",
        "turns": ["Alfreds: 2 cabrales, PO 4711-A, deliver by Friday"],
        "expect": HEADER_CASE | expect,
    }
    if today is not None:
        bad["today"] = today
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert any(problem in error for error in report.errors), report.errors


def test_checker_accepts_a_good_header_expectation(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    good = {
        "id": "header-001",
        "category": "header",
        "today": "2026-12-14",
        "turns": ["Alfreds: 2 cabrales, PO 4711-A, deliver by Friday, ship to our Lyon store"],
        "expect": HEADER_CASE
        | {
            "header": {
                "customer_po": "4711-A",
                "requested_date": "2026-12-18",
                "ship_to": "our lyon store",
                "notes": None,
            }
        },
    }
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert report.errors == []


def test_superstore_cases_are_checked_against_the_superstore_catalog(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "ss.jsonl"
    cases = [
        {"id": "ss_numbers-001", "category": "ss_numbers", "catalog": "superstore",
         "turns": ["Alfreds: 2 Apple iPhone 5S"],
         "expect": {"customer_id": "ALFKI", "lines": {"1748": 2}}},
        {"id": "ss_numbers-002", "category": "ss_numbers", "catalog": "superstore",
         "turns": ["Alfreds: 200 Apple iPhone 5S"],
         "expect": {"customer_id": "ALFKI", "lines": {"1748": 200}}},
        {"id": "ss_numbers-003", "category": "ss_numbers", "catalog": "superstore",
         "turns": ["Alfreds: 2 of product 1895"],
         "expect": {"customer_id": "ALFKI", "lines": {"1895": 2}}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    _, report = check_file(path, catalog)
    assert not any(e.startswith("ss_numbers-001") for e in report.errors), report.errors
    assert any("ss_numbers-002" in e and "80 in stock" in e for e in report.errors)
    assert any("ss_numbers-003" in e and "unknown product id" in e for e in report.errors)


def test_checker_reports_duplicate_ids(catalog: Catalog, tmp_path: Path) -> None:
    lines = DEFAULT_DATASET.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([lines[0], lines[0]]) + "\n", encoding="utf-8")
    _, report = check_file(path, catalog)
    assert any("duplicate id" in error for error in report.errors)
