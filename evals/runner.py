"""The evaluation runner for prompt tuning: run every case through the desk and score it.

`run_eval(dataset, provider=, prompt_path=)` prepares a private store per catalog the
cases name (a temporary SQLite file seeded with Northwind, or with the Superstore catalog
for cases marked `"catalog": "superstore"`; its own in-memory catalog index, customer
memory collection and checkpointer), builds the services (`bootstrap.build_services`) on
it without touching the app's engine or Chroma (the Streamlit prompt lab runs this inside
the app), plays each case in a fresh thread (on the case's `today` when it has one), and
scores it with `evals.scoring.score_case`, telling it which orders the conversation placed
and whether they are still confirmed. After a case the store is put back: orders it
placed are deleted and stock is restored, so one case's confirmation never changes
another's stock or "last order". The `EvalReport` holds per-case verdicts,
per-category accuracy and silent losses, and the per-turn latency (the run's first,
warm-up turn excluded).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from agents.reading.today import pinned
from config import Settings, load_settings
from db.engine import create_db_engine, init_schema
from db.models import Draft, DraftStatus, Order, OrderLine, Product
from db.seed import Catalog, seed
from evals.scoring import CaseResult, TurnRecord, score_case

if TYPE_CHECKING:
    from bootstrap import Services
    from rag.embeddings import MiniLMEmbeddingFunction

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class CaseRun:
    """One case as it ran: its verdict and the turns behind it."""

    result: CaseResult
    turns: list[TurnRecord]
    orders: dict[int, str] = field(default_factory=dict)  # placed in the case: status

    def as_json(self) -> dict[str, Any]:
        last = self.turns[-1] if self.turns else None
        return {
            "id": self.result.case_id,
            "category": self.result.category,
            "passed": self.result.passed,
            "reason": self.result.reason,
            "checks": self.result.checks,
            "silent_loss": self.result.silent_loss,
            "raised": self.result.raised,
            "attention": list(last.attention) if last else [],
            "needs_attention": bool(last and last.needs_attention),
            "orders": {str(oid): status for oid, status in self.orders.items()},
            "latency_ms": [round(turn.latency_ms, 2) for turn in self.turns],
            "replies": [turn.reply for turn in self.turns],
        }


@dataclass
class EvalReport:
    """Everything one evaluation run measured, ready for a table or a JSON file."""

    dataset: str
    provider: str
    model: str
    prompt_path: str
    prompt_sha256: str
    started_at: str
    duration_s: float = 0.0
    runs: list[CaseRun] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(run.result.passed for run in self.runs)

    @property
    def accuracy(self) -> float:
        return self.passed / len(self.runs) if self.runs else 0.0

    @property
    def silent_cases(self) -> list[str]:
        """Ids of the cases lost without a word: wrong, and the last turn raised nothing."""
        return [run.result.case_id for run in self.runs if run.result.silent_loss]

    def categories(self) -> dict[str, dict[str, float]]:
        """passed / total / accuracy / silent losses per category, in dataset order."""
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for run in self.runs:
            totals[run.result.category][0] += run.result.passed
            totals[run.result.category][1] += 1
            totals[run.result.category][2] += run.result.silent_loss
        return {
            name: {"passed": passed, "total": total, "accuracy": passed / total, "silent": silent}
            for name, (passed, total, silent) in totals.items()
        }

    def latency(self) -> dict[str, float | int]:
        return {
            "turns": len(self.latencies_ms),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "provider": self.provider,
            "model": self.model,
            "prompt_path": self.prompt_path,
            "prompt_sha256": self.prompt_sha256,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "overall": {
                "passed": self.passed,
                "total": len(self.runs),
                "accuracy": self.accuracy,
                "silent": len(self.silent_cases),
            },
            "categories": self.categories(),
            "silent_cases": self.silent_cases,
            "latency": self.latency(),
            "cases": [run.as_json() for run in self.runs],
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False), "utf-8")
        return path

    def table(self) -> str:
        """Accuracy and silent losses per category and overall, the silent cases, then
        latency: for the terminal."""
        rows = [f"{'category':<14}{'passed':>8}{'total':>7}{'accuracy':>10}{'silent':>8}"]
        for name, score in self.categories().items():
            rows.append(
                f"{name:<14}{score['passed']:>8}{score['total']:>7}"
                f"{score['accuracy']:>10.1%}{score['silent']:>8}"
            )
        silent = self.silent_cases
        rows.append(
            f"{'overall':<14}{self.passed:>8}{len(self.runs):>7}"
            f"{self.accuracy:>10.1%}{len(silent):>8}"
        )
        rows.append(f"silent losses: {len(silent)}" + (f" ({', '.join(silent)})" if silent else ""))
        lat = self.latency()
        rows.append(
            f"latency per turn: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms "
            f"({lat['turns']} turns, warm-up excluded)"
        )
        return "\n".join(rows)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def load_cases(dataset: Path, limit: int | None = None) -> list[dict[str, Any]]:
    lines = dataset.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return cases[:limit] if limit is not None else cases


def resolve_prompt(prompt_path: Path | None) -> Path:
    """The system prompt file the desk will load (the default one when none is given)."""
    if prompt_path is not None:
        return prompt_path
    from agents.desk import PROMPTS_DIR

    return PROMPTS_DIR / "system.md"


class EvalStore:
    """A private Northwind store whose orders and stock can be put back after each case."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        with Session(engine) as session:
            self._stock = dict(
                session.execute(select(Product.product_id, Product.units_in_stock)).all()
            )
            self._discontinued = set(
                session.scalars(select(Product.product_id).where(Product.discontinued))
            )
            self._last_order = session.scalar(select(func.max(Order.order_id))) or 0

    def prepare(self, case: Mapping[str, Any]) -> None:
        """Set the stock and the discontinued products a case asks for (its top-level
        `stock`, `{product_id: units}`, and `discontinued`, `[product_id, ...]`);
        `restore()` puts the seeded values back."""
        stock = {int(pid): int(units) for pid, units in (case.get("stock") or {}).items()}
        stopped = {int(pid) for pid in case.get("discontinued") or []}
        if not stock and not stopped:
            return
        with Session(self.engine) as session, session.begin():
            for product_id, units in stock.items():
                session.execute(
                    update(Product)
                    .where(Product.product_id == product_id)
                    .values(units_in_stock=units)
                )
            if stopped:
                session.execute(
                    update(Product).where(Product.product_id.in_(stopped)).values(discontinued=True)
                )

    def placed_orders(self) -> dict[int, str]:
        """The orders placed since seeding (or the last restore), with their status."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(Order.order_id, Order.status).where(Order.order_id > self._last_order)
            ).all()
        return {order_id: str(getattr(status, "value", status)) for order_id, status in rows}

    def restore(self) -> None:
        """Delete the orders placed since seeding, discard the drafts left open (their
        holds must not lower the next case's stock), and give every product its seeded
        stock and discontinued flag."""
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(Draft)
                .where(Draft.status == DraftStatus.OPEN)
                .values(status=DraftStatus.DISCARDED)
            )
            stopped = set(session.scalars(select(Product.product_id).where(Product.discontinued)))
            if stopped != self._discontinued:
                for product_id in stopped ^ self._discontinued:
                    session.execute(
                        update(Product)
                        .where(Product.product_id == product_id)
                        .values(discontinued=product_id in self._discontinued)
                    )
            placed = select(Order.order_id).where(Order.order_id > self._last_order)
            if session.scalar(select(func.count()).select_from(placed.subquery())):
                session.execute(delete(OrderLine).where(OrderLine.order_id.in_(placed)))
                session.execute(delete(Order).where(Order.order_id > self._last_order))
            stock = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
            for product_id, units in self._stock.items():
                if stock.get(product_id) != units:
                    session.execute(
                        update(Product)
                        .where(Product.product_id == product_id)
                        .values(units_in_stock=units)
                    )


@contextmanager
def eval_store(provider: str, catalog: Catalog = "northwind") -> Iterator[EvalStore]:
    """A temporary SQLite store freshly seeded with `catalog`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="orderdesk-eval-") as folder:
        settings = load_settings(
            database_url=f"sqlite:///{Path(folder) / 'eval.db'}",
            chroma_path=Path(folder) / "chroma",
            llm_provider=provider,
        )
        engine = create_db_engine(settings)
        try:
            init_schema(engine)
            seed(engine=engine, catalog=catalog)
            yield EvalStore(engine, settings)
        finally:
            engine.dispose()


def open_services(
    store: EvalStore,
    *,
    provider: str,
    prompt_path: Path | None,
    embedder: MiniLMEmbeddingFunction | None = None,
) -> Services:
    """The composition root on the private store: its own engine, catalog index, customers,
    checkpointer and a customer memory collection of this run's own (in memory, never
    var/chroma). `embedder` is a caller's (the prompt lab's app), else one from Settings."""
    from bootstrap import build_services
    from memory.store import open_memory_store
    from rag.catalog_index import get_catalog_collection
    from rag.chroma import create_chroma_client
    from rag.embeddings import create_embedder

    embedder = embedder or create_embedder(store.settings)
    client = create_chroma_client(store.settings, ephemeral=True)
    return build_services(
        store.settings,
        provider=provider,
        prompt_path=prompt_path,
        engine=store.engine,
        embedder=embedder,
        catalog_collection=get_catalog_collection(client, embedder=embedder),
        memory=open_memory_store(
            client, embedder=embedder, name=f"eval_memories_{uuid.uuid4().hex[:12]}"
        ),
    )


def close_services(services: Services, store: EvalStore) -> None:
    """Close the desk's checkpointer and drop the run's memory collection (the in-memory
    Chroma lives as long as the process: the prompt lab runs many evaluations)."""
    from rag.chroma import create_chroma_client

    services.close()
    if services.memory is not None:
        client = create_chroma_client(store.settings, ephemeral=True)
        client.delete_collection(services.memory.collection.name)


def play_case(desk: Any, case: Mapping[str, Any], thread_id: str) -> list[TurnRecord]:
    """Send each of the case's messages in one fresh thread; an exception ends the case.
    A case with a `today` is played as if that were the date, so "by Friday" reads the
    same whenever the set runs."""
    with pinned(case.get("today")):
        return _play_turns(desk, case, thread_id)


def _play_turns(desk: Any, case: Mapping[str, Any], thread_id: str) -> list[TurnRecord]:
    """The case's turns in `thread_id`; before turn i, its `elsewhere` messages for i are
    sent in other conversations (another member of staff drafting for the same stock),
    each named thread its own. Only the case's own turns are recorded and scored."""
    turns: list[TurnRecord] = []
    for index, message in enumerate(case["turns"]):
        started = time.perf_counter()
        try:
            for entry in case.get("elsewhere") or []:
                if entry["before"] == index:
                    desk.chat(f"{thread_id}~{entry.get('thread', 'other')}", entry["say"])
            started = time.perf_counter()  # the case's own turn is what is timed
            turn = desk.chat(thread_id, message)
        except Exception as error:  # noqa: BLE001 - a crash is a failed case, not a failed run
            log.exception("case %s crashed", case["id"])
            elapsed = (time.perf_counter() - started) * 1000
            turns.append(TurnRecord(reply="", error=repr(error), latency_ms=elapsed))
            break
        turns.append(TurnRecord.of(turn, (time.perf_counter() - started) * 1000))
    return turns


def case_catalog(case: Mapping[str, Any]) -> Catalog:
    """The catalog a case runs on: its `catalog` field, Northwind by default."""
    name = case.get("catalog", "northwind")
    if name not in ("northwind", "superstore"):
        raise ValueError(f"case {case.get('id')}: unknown catalog {name!r}")
    return name  # type: ignore[return-value]


def by_catalog(cases: Sequence[Mapping[str, Any]]) -> dict[Catalog, list[tuple[int, Any]]]:
    """The cases (with their position) grouped by catalog, first-seen catalog first."""
    groups: dict[Catalog, list[tuple[int, Any]]] = {}
    for index, case in enumerate(cases):
        groups.setdefault(case_catalog(case), []).append((index, case))
    return groups


def run_case(desk: Any, store: EvalStore, case: Mapping[str, Any], thread_id: str) -> CaseRun:
    """Set the case's stock, play it, read which orders it placed, put the store back,
    and score it."""
    store.prepare(case)
    turns = play_case(desk, case, thread_id)
    orders = store.placed_orders()
    store.restore()
    return CaseRun(score_case(case, turns, placed_orders=orders), turns, orders)


def run_eval(
    dataset: Path,
    *,
    provider: str = "offline",
    prompt_path: Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    embedder: MiniLMEmbeddingFunction | None = None,
) -> EvalReport:
    """Run every case of `dataset` (the first `limit`) and score it (`embedder`: the
    caller's, so an app that runs evaluations does not make another)."""
    cases = load_cases(dataset, limit)
    prompt = resolve_prompt(prompt_path)
    started = time.perf_counter()
    report = EvalReport(
        dataset=str(dataset),
        provider=provider,
        model="",
        prompt_path=str(prompt),
        prompt_sha256=hashlib.sha256(prompt.read_bytes()).hexdigest(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    runs: dict[int, CaseRun] = {}
    for catalog, numbered in by_catalog(cases).items():
        with eval_store(provider, catalog) as store:
            services = open_services(
                store, provider=provider, prompt_path=prompt, embedder=embedder
            )
            desk = services.desk
            report.model = str(getattr(desk, "model_label", provider))
            run_id = uuid.uuid4().hex[:8]
            try:
                for index, case in numbered:
                    runs[index] = run_case(desk, store, case, f"eval-{run_id}-{case['id']}")
                    if progress is not None:
                        progress(len(runs), len(cases))
            finally:
                close_services(services, store)
    report.runs = [runs[index] for index in sorted(runs)]
    report.latencies_ms = [t.latency_ms for run in report.runs for t in run.turns][1:]
    report.duration_s = time.perf_counter() - started
    log.info(
        "eval %s: %d/%d passed, %d silent loss(es)",
        dataset,
        report.passed,
        len(report.runs),
        len(report.silent_cases),
    )
    return report
