"""The runner's own parts: the private store it restores between cases, and the report."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Order, Product
from evals.runner import CaseRun, EvalReport, eval_store, load_cases, percentile
from evals.scoring import CaseResult, TurnRecord
from orders.confirm import confirm_draft
from orders.drafts import create_draft

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
            confirm_draft(session=session, draft_id=view.draft_id, idempotency_key="eval-1")
            assert stock(session)[11] == before[11] - 5
        store.restore()
        with Session(store.engine) as session:
            assert stock(session) == before
            assert session.scalar(select(func.count(Order.order_id))) == orders == 830


def run(case_id: str, category: str, ok: bool, *latencies: float) -> CaseRun:
    result = CaseResult(case_id, category)
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
    assert report.categories()["exact"] == {"passed": 1, "total": 2, "accuracy": 0.5}
    assert report.categories()["typo"]["accuracy"] == 1.0
    assert round(report.accuracy, 3) == 0.667
    assert report.latency() == {"turns": 3, "p50_ms": 30.0, "p95_ms": 40.0}
    data = json.loads(report.write(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["overall"] == {"passed": 2, "total": 3, "accuracy": 2 / 3}
    failed = [case for case in data["cases"] if not case["passed"]]
    assert [(case["id"], case["reason"]) for case in failed] == [
        ("exact-002", "lines: missing 11x1")
    ]
    assert data["prompt_sha256"] == "ab" * 32
    assert "overall" in report.table() and "66.7%" in report.table()


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([], 95) == 0.0


def test_load_cases_honours_limit() -> None:
    assert len(load_cases(DATASET)) == 228
    assert [case["id"] for case in load_cases(DATASET, 2)] == ["exact-001", "exact-002"]
