"""The runner's own parts: the private store it restores between cases, the catalog each
case runs on, and the report with its silent-loss count."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.desk import Turn
from agents.reading.today import today
from db.models import Order, Product
from evals.runner import (
    CaseRun,
    EvalReport,
    by_catalog,
    case_catalog,
    eval_store,
    load_cases,
    percentile,
    play_case,
)
from evals.scoring import CaseResult, TurnRecord
from orders.confirm import confirm_draft
from orders.drafts import create_draft
from orders.history import cancel_order

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "northwind.jsonl"


def stock(session: Session) -> dict[int, int]:
    return dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())


def test_store_is_seeded_privately_and_restored_after_an_order() -> None:
    with eval_store("offline") as store:
        assert "orderdesk-eval-" in store.settings.database_url
        with Session(store.engine, expire_on_commit=False) as session:
            before, orders = stock(session), session.scalar(select(func.count(Order.order_id)))
            view = create_draft(
                session=session, customer_id="ALFKI", lines=[{"product_id": 11, "quantity": 5}]
            )
            session.commit()
            order = confirm_draft(session=session, draft_id=view.draft_id, idempotency_key="eval-1")
            assert stock(session)[11] == before[11] - 5
        assert store.placed_orders() == {order.order_id: "confirmed"}
        with Session(store.engine) as session, session.begin():
            cancel_order(session=session, order_id=order.order_id)
        assert store.placed_orders() == {order.order_id: "cancelled"}
        store.restore()
        assert store.placed_orders() == {}
        with Session(store.engine) as session:
            assert stock(session) == before
            assert session.scalar(select(func.count(Order.order_id))) == orders == 830


def test_superstore_store_holds_the_superstore_catalog_and_no_orders() -> None:
    with eval_store("offline", "superstore") as store, Session(store.engine) as session:
        assert session.scalar(select(func.count(Product.product_id))) == 1894
        assert session.get(Product, 1748).name == "Apple iPhone 5S"
        assert session.scalar(select(func.count(Order.order_id))) == 0
        assert store.placed_orders() == {}


def test_cases_are_grouped_by_catalog_keeping_their_positions() -> None:
    cases = [
        {"id": "chat-001"},
        {"id": "ss_short-001", "catalog": "superstore"},
        {"id": "chat-002", "catalog": "northwind"},
    ]
    assert by_catalog(cases) == {
        "northwind": [(0, cases[0]), (2, cases[2])],
        "superstore": [(1, cases[1])],
    }
    with pytest.raises(ValueError, match="unknown catalog 'acme'"):
        case_catalog({"id": "x-001", "catalog": "acme"})


def run(case_id: str, category: str, ok: bool, *latencies: float, silent: bool = False) -> CaseRun:
    result = CaseResult(case_id, category, silent_loss=silent)
    result.check("lines", ok, "" if ok else "missing 11x1")
    return CaseRun(result, [TurnRecord(reply="r", latency_ms=ms) for ms in latencies])


def test_report_scores_per_category_and_writes_json(tmp_path: Path) -> None:
    report = EvalReport("d.jsonl", "offline", "offline", "p.md", "ab" * 32, "now")
    report.runs = [
        run("exact-001", "exact", True, 10.0),
        run("exact-002", "exact", False, 20.0),
        run("typo-001", "typo", True, 30.0, 40.0),
    ]
    report.latencies_ms = [20.0, 30.0, 40.0]
    assert report.categories()["exact"] == {
        "passed": 1,
        "total": 2,
        "accuracy": 0.5,
        "silent": 0,
    }
    assert report.categories()["typo"]["accuracy"] == 1.0
    assert round(report.accuracy, 3) == 0.667
    assert report.latency() == {"turns": 3, "p50_ms": 30.0, "p95_ms": 40.0}
    data = json.loads(report.write(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["overall"] == {"passed": 2, "total": 3, "accuracy": 2 / 3, "silent": 0}
    failed = [case for case in data["cases"] if not case["passed"]]
    assert [(case["id"], case["reason"]) for case in failed] == [
        ("exact-002", "lines: missing 11x1")
    ]
    assert data["prompt_sha256"] == "ab" * 32
    assert "overall" in report.table() and "66.7%" in report.table()


def test_report_counts_silent_losses_per_category_and_lists_them(tmp_path: Path) -> None:
    report = EvalReport("d.jsonl", "offline", "offline", "p.md", "ab" * 32, "now")
    report.runs = [
        run("email-001", "email", False, 10.0, silent=True),
        run("email-002", "email", False, 10.0),
        run("de-001", "de", True, 10.0),
        run("de-002", "de", False, 10.0, silent=True),
    ]
    assert report.silent_cases == ["email-001", "de-002"]
    assert report.categories()["email"]["silent"] == 1
    assert report.categories()["de"]["silent"] == 1
    data = json.loads(report.write(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["overall"]["silent"] == 2
    assert data["silent_cases"] == ["email-001", "de-002"]
    assert [case["silent_loss"] for case in data["cases"]] == [True, False, False, True]
    table = report.table()
    assert "silent losses: 2 (email-001, de-002)" in table
    assert table.splitlines()[0].split() == ["category", "passed", "total", "accuracy", "silent"]


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([], 95) == 0.0


def test_load_cases_honours_limit() -> None:
    assert len(load_cases(DATASET)) == 228
    assert [case["id"] for case in load_cases(DATASET, 2)] == ["exact-001", "exact-002"]


class DayRecordingDesk:
    """A desk stand-in that notes the day each turn ran on, as the tools would see it."""

    def __init__(self) -> None:
        self.days: list[date] = []

    def chat(self, thread_id: str, message: str) -> Turn:
        self.days.append(today())
        return Turn(reply=message)


def test_a_case_with_today_is_played_on_that_day_and_only_it() -> None:
    desk = DayRecordingDesk()
    pinned_case = {"id": "header-001", "turns": ["a", "b"], "today": "2026-12-14"}
    turns = play_case(desk, pinned_case, "t-1")
    assert [t.reply for t in turns] == ["a", "b"]
    assert desk.days == [date(2026, 12, 14)] * 2
    play_case(desk, {"id": "chat-001", "turns": ["c"]}, "t-2")
    assert desk.days[-1] == datetime.now(UTC).date()


class ThreadRecordingDesk:
    """Records which conversation each message went to, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def chat(self, thread_id: str, message: str) -> Turn:
        self.sent.append((thread_id, message))
        return Turn(reply=message)


def test_elsewhere_messages_go_to_their_own_threads_before_their_turn() -> None:
    desk = ThreadRecordingDesk()
    case = {
        "id": "holds-001",
        "turns": ["mine 1", "mine 2"],
        "elsewhere": [
            {"before": 1, "say": "other b"},
            {"before": 0, "say": "other a"},
            {"before": 1, "thread": "third", "say": "third a"},
        ],
    }
    turns = play_case(desk, case, "t-9")
    assert [t.reply for t in turns] == ["mine 1", "mine 2"]  # only the case's own turns
    assert desk.sent == [
        ("t-9~other", "other a"),
        ("t-9", "mine 1"),
        ("t-9~other", "other b"),
        ("t-9~third", "third a"),
        ("t-9", "mine 2"),
    ]
