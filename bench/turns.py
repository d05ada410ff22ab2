"""Turn latency of the offline model: message → draft, through the whole OrderDesk.

Three sets, each turn in a new thread on a private seeded SQLite store with its own
Chroma index, the first (warm-up) turn excluded, p50 / p95 / max printed per set:

- evaluation set: the first message of every order case in the evaluation dataset
  (`--rounds` times), overall and for drafts of up to 4 lines. Goal (DESIGN.md):
  p95 ≤ 100 ms for up to 4 lines on Northwind.
- pasted email: a 15-line order email (From/Subject, greeting, lines in mixed forms,
  a signature with phone, address and PO number), `--repeat` times. Goal: p95 ≤ 250 ms.
- languages: one 4-line order per language (en, de, es, fr, pt, it), `--repeat` times
  each. Goal: p95 ≤ 100 ms.

Beside the timings, each set prints how many of the lines its messages ask for ended up in
the drafts (a fast turn that dropped lines would not be a fast turn).

    python -m bench.turns [--dataset evals/datasets/northwind.jsonl] [--rounds 2] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config import PROJECT_ROOT, load_settings
from db.engine import create_db_engine, init_schema
from db.models import Product
from db.seed import seed
from rag.catalog_index import get_catalog_collection
from rag.embeddings import create_embedder

EMAIL = """From: Maria Anders <orders@alfreds.example>
Subject: Order PO 4471-B

Hello team,

please send us the following for Alfreds Futterkiste:
- 12 Tofu
- Ikura x3
- 5x Konbu
- Queso Cabrales ×4
- Pavlova - 10
- Geitost: 20
- Chartreuse verte (qty 6)
- 8 pcs Boston Crab Meat
- 15 units of Pâté chinois
- two Mascarpone Fabioli
- Tunnbröd x 7
- 9 Spegesild
- gnocchi di nonna alice - 4
- 3x Camembert Pierrot
- Ravioli Angelo: 11

Delivery by 15/12/2026, please.

Best regards,
Maria Anders
Alfreds Futterkiste
Obere Str. 57, 12209 Berlin
Tel. +49 30 0074321
PO 4471-B"""

EMAIL_LINES = {
    "Tofu": 12,
    "Ikura": 3,
    "Konbu": 5,
    "Queso Cabrales": 4,
    "Pavlova": 10,
    "Geitost": 20,
    "Chartreuse verte": 6,
    "Boston Crab Meat": 8,
    "Pâté chinois": 15,
    "Mascarpone Fabioli": 2,
    "Tunnbröd": 7,
    "Spegesild": 9,
    "Gnocchi di nonna Alice": 4,
    "Camembert Pierrot": 3,
    "Ravioli Angelo": 11,
}

# One 4-line order per language, and the lines it asks for (product name → quantity).
LANGUAGES: dict[str, tuple[str, dict[str, int]]] = {
    "en": (
        "Order for Ernst Handel:\n- 12 Tofu\n- Ikura x3\n- 5 pcs Konbu\n- two Pavlova",
        {"Tofu": 12, "Ikura": 3, "Konbu": 5, "Pavlova": 2},
    ),
    "de": (
        "Bestellung für Königlich Essen:\n- zwölf Stück Tofu\n- Ikura x3\n"
        "- 5 Stück Konbu\n- Geitost: 20",
        {"Tofu": 12, "Ikura": 3, "Konbu": 5, "Geitost": 20},
    ),
    "es": (
        "Pedido para Godos Cocina Típica:\n- 10 unidades de Queso Manchego La Pastora\n"
        "- diez cajas de Sasquatch Ale\n- Tofu x4\n- 6 unidades de Pavlova",
        {"Queso Manchego La Pastora": 10, "Sasquatch Ale": 10, "Tofu": 4, "Pavlova": 6},
    ),
    "fr": (
        "Commande pour Bon app':\n- 20 cartons de Pâté chinois\n- vingt cartons de "
        "Tourtière\n- Camembert Pierrot x4\n- 6 cartons de Tarte au sucre",
        {"Pâté chinois": 20, "Tourtière": 20, "Camembert Pierrot": 4, "Tarte au sucre": 6},
    ),
    "pt": (
        "Encomenda para Hanari Carnes:\n- seis caixas de Tofu\n- Ikura x3\n"
        "- 10 caixas de Konbu\n- Geitost: 8",
        {"Tofu": 6, "Ikura": 3, "Konbu": 10, "Geitost": 8},
    ),
    "it": (
        "Ordine per Franchi S.p.A.:\n- dodici pezzi di Mozzarella di Giovanni\n"
        "- 5 pezzi di Gnocchi di nonna Alice\n- Ravioli Angelo x6\n- Mascarpone Fabioli: 3",
        {
            "Mozzarella di Giovanni": 12,
            "Gnocchi di nonna Alice": 5,
            "Ravioli Angelo": 6,
            "Mascarpone Fabioli": 3,
        },
    ),
}


@dataclass
class Sample:
    """The timings of one set, and how many asked-for lines its drafts held."""

    timings: list[tuple[int, float]] = field(default_factory=list)  # (draft lines, ms)
    asked: int = 0
    drafted: int = 0  # asked-for lines the draft held with the asked quantity

    def heading(self, title: str) -> str:
        return f"{title} ({self.drafted}/{self.asked} asked-for lines drafted as asked)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * len(ordered))) - 1)]


def play(desk: Any, message: str, asked: dict[int, int], sample: Sample) -> None:
    """One turn of `message` in a new thread, timed; `asked` is product id → quantity."""
    started = time.perf_counter()
    turn = desk.chat(uuid.uuid4().hex, message)
    elapsed = (time.perf_counter() - started) * 1000
    got = {line.product_id: line.quantity for line in turn.draft.lines} if turn.draft else {}
    sample.timings.append((len(got), elapsed))
    sample.asked += len(asked)
    sample.drafted += sum(got.get(product_id) == qty for product_id, qty in asked.items())


def by_id(engine: Engine, lines: dict[str, int]) -> dict[int, int]:
    """Product name → quantity, as product id → quantity (names as the catalog spells them)."""
    with Session(engine) as session:
        ids = dict(session.execute(select(Product.name, Product.product_id)).all())  # type: ignore[arg-type]
    return {ids[name]: quantity for name, quantity in lines.items()}


def summary(label: str, values: list[float], goal: str = "") -> str:
    return (
        f"  {label:>22}: p50 {statistics.median(values):6.1f} ms  "
        f"p95 {percentile(values, 95):6.1f} ms  max {max(values):6.1f} ms  "
        f"(n={len(values)}){goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="offline turn latency")
    parser.add_argument(
        "--dataset", type=Path, default=PROJECT_ROOT / "evals" / "datasets" / "northwind.jsonl"
    )
    parser.add_argument("--rounds", type=int, default=2, help="passes over the dataset")
    parser.add_argument("--repeat", type=int, default=20, help="plays of each email/language")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    cases = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    # Lines asked for are counted for one-turn cases only: in a longer case the first
    # message does not hold the final draft.
    dataset = [
        (
            c["turns"][0],
            {int(k): v for k, v in c["expect"]["lines"].items()} if len(c["turns"]) == 1 else {},
        )
        for c in cases
        if c["expect"].get("lines")
    ]
    from bootstrap import build_services

    evaluation, email = Sample(), Sample()
    languages = {lang: Sample() for lang in LANGUAGES}
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(database_url=f"sqlite:///{folder}/bench.db")
        engine = create_db_engine(settings)
        init_schema(engine)
        seed(engine=engine)
        embedder = create_embedder(settings)
        collection = get_catalog_collection(chromadb.EphemeralClient(), embedder=embedder)
        services = build_services(
            settings,
            engine=engine,
            embedder=embedder,
            catalog_collection=collection,
            provider="offline",
        )
        desk = services.desk
        email_lines = by_id(engine, EMAIL_LINES)
        language_lines = {lang: by_id(engine, lines) for lang, (_, lines) in LANGUAGES.items()}
        desk.chat("warm-up", dataset[0][0])
        for _ in range(args.rounds):
            for message, asked in dataset:
                play(desk, message, asked, evaluation)
        for _ in range(args.repeat):
            play(desk, EMAIL, email_lines, email)
            for lang, (message, _) in LANGUAGES.items():
                play(desk, message, language_lines[lang], languages[lang])
        services.close()
        engine.dispose()

    every = [ms for _, ms in evaluation.timings]
    small = [ms for n, ms in evaluation.timings if n <= 4]
    print("offline turns on Northwind (SQLite), warm-up excluded")
    print(evaluation.heading("evaluation set, first messages (lines of one-turn cases)"))
    print(summary("all messages", every))
    print(summary("up to 4 lines", small, "  goal p95 ≤ 100 ms"))
    print(email.heading("pasted 15-line email"))
    print(summary("email", [ms for _, ms in email.timings], "  goal p95 ≤ 250 ms"))
    pooled_sample = Sample(
        drafted=sum(s.drafted for s in languages.values()),
        asked=sum(s.asked for s in languages.values()),
    )
    print(pooled_sample.heading("one 4-line order per language"))
    for lang, sample in languages.items():
        lines = f"  {sample.drafted}/{sample.asked} lines"
        print(summary(lang, [ms for _, ms in sample.timings], lines))
    pooled = [ms for s in languages.values() for _, ms in s.timings]
    print(summary("all languages", pooled, "  goal p95 ≤ 100 ms"))


if __name__ == "__main__":
    main()
