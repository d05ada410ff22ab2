"""Catalog search benchmark: accuracy vs three baselines, latency by catalog size, index rates.

1. Top-1 accuracy by category on tests/rag/cases.jsonl (Northwind, Superstore) for the
   hybrid search and three baselines: SQL ILIKE '%q%', rapidfuzz WRatio alone, vector
   search alone. For the hybrid search both "first candidate" and "best" (the pick it
   commits to; ambiguous / no_match count as misses) are shown.
2. Query latency p50/p95 (a fresh embedding for every query) at 77 (Northwind), 1,894
   (Superstore) and 100,000 products (Superstore names with variants).
3. Index build rate (products/s) for 100k products and re-sync time of the unchanged 100k.

    python -m bench.search [--large 100000] [--queries 300]

Everything runs in a temporary directory (SQLite + Chroma PersistentClient); nothing of
the app's own var/ is touched.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import chromadb
from chromadb.api.models.Collection import Collection
from rapidfuzz import fuzz, process
from sqlalchemy import Engine, func, insert, select

from config import load_settings
from db.engine import create_db_engine, init_schema
from db.models import Product
from db.seed import seed, superstore_products
from rag.catalog_index import get_catalog_collection, sync_catalog
from rag.embeddings import MiniLMEmbeddingFunction, create_embedder
from rag.search import CatalogSearch

CASES = Path(__file__).resolve().parents[1] / "tests" / "rag" / "cases.jsonl"
RESOLVABLE = ("exact", "lowercase", "no_accents", "typo", "partial", "description", "superstore")
VARIANTS = ["", "Black", "White", "Blue", "Red", "Gray", "Large", "Small", "Pack of 2",
            "Pack of 5", "Pack of 10", "Value Pack", "Recycled", "Heavy Duty", "Deluxe",
            "Economy", "Premium", "Letter Size", "Legal Size", "Refill"]  # fmt: skip


def make_store(root: Path, name: str) -> Engine:
    settings = load_settings(database_url=f"sqlite:///{root / f'{name}.db'}")
    engine = create_db_engine(settings)
    init_schema(engine)
    return engine


def indexed(
    engine: Engine, client: chromadb.ClientAPI, name: str, embedder: MiniLMEmbeddingFunction
) -> tuple[Collection, float]:
    collection = get_catalog_collection(client, embedder=embedder, name=name)
    started = time.perf_counter()
    sync_catalog(engine=engine, collection=collection, embedder=embedder)
    return collection, time.perf_counter() - started


# -- accuracy -----------------------------------------------------------------------------


def ilike_top1(engine: Engine) -> Callable[[str], int | None]:
    def run(query: str) -> int | None:
        statement = (
            select(Product.product_id)
            .where(Product.name.ilike(f"%{query}%"))
            .order_by(func.length(Product.name), Product.product_id)
            .limit(1)
        )
        with engine.connect() as connection:
            return connection.scalar(statement)

    return run


def wratio_top1(engine: Engine) -> Callable[[str], int | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(Product.product_id, Product.name)).all()
    names = {product_id: name for product_id, name in rows}

    def run(query: str) -> int | None:
        found = process.extractOne(query, names, scorer=fuzz.WRatio, processor=str.lower)
        return found[2] if found else None

    return run


def vector_top1(
    collection: Collection, embedder: MiniLMEmbeddingFunction
) -> Callable[[str], int | None]:
    def run(query: str) -> int | None:
        found = collection.query(query_embeddings=[embedder.embed_one(query)], n_results=1)
        return int(found["ids"][0][0]) if found["ids"][0] else None

    return run


def accuracy_table(searches: dict[str, CatalogSearch], engines: dict[str, Engine]) -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    methods: dict[str, dict[str, Callable[[str], int | None]]] = {
        catalog: {
            "ILIKE": ilike_top1(engines[catalog]),
            "WRatio": wratio_top1(engines[catalog]),
            "vector": vector_top1(
                searches[catalog]._collection,  # type: ignore[arg-type]
                searches[catalog].embedder,
            ),
            "hybrid": lambda q, s=searches[catalog]: _first(s, q),
            "hybrid best": lambda q, s=searches[catalog]: _best(s, q),
        }
        for catalog in searches
    }
    hits: dict[tuple[str, str], dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    flags: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for case in cases:
        key = (case["catalog"], case["category"])
        if case["category"] in RESOLVABLE:
            for method, run in methods[case["catalog"]].items():
                hits[key][method].append(run(case["query"]) in case["expect"])
        else:
            result = searches[case["catalog"]].search(case["query"])
            top_two = {c.product_id for c in result.candidates[:2]}
            ok = (result.ambiguous and top_two <= set(case["expect"])) or (
                case["category"] == "no_match" and result.no_match
            )
            flags[key].append(ok)
    names = ["ILIKE", "WRatio", "vector", "hybrid", "hybrid best"]
    print("\n== Top-1 accuracy by category (tests/rag/cases.jsonl)")
    print(f"{'catalog/category':28}{'n':>5}" + "".join(f"{n:>13}" for n in names))
    for key, by_method in sorted(hits.items()):
        n = len(by_method["hybrid"])
        cells = "".join(f"{sum(by_method[m]) / n:>13.1%}" for m in names)
        print(f"{'/'.join(key):28}{n:>5}{cells}")
    print("\n== Flagged correctly (hybrid): ambiguous -> ambiguous, no-match -> no_match")
    for key, oks in sorted(flags.items()):
        print(f"{'/'.join(key):28}{len(oks):>5}{sum(oks) / len(oks):>13.1%}")


def _first(search: CatalogSearch, query: str) -> int | None:
    candidates = search.search(query).candidates
    return candidates[0].product_id if candidates else None


def _best(search: CatalogSearch, query: str) -> int | None:
    best = search.search(query).best
    return best.product_id if best else None


# -- latency and scale --------------------------------------------------------------------


def large_catalog(engine: Engine, size: int) -> None:
    """`size` products: Superstore names crossed with variants, in one transaction."""
    base = superstore_products()
    rows = []
    for number in range(size):
        product = base[number % len(base)]
        variant = VARIANTS[(number // len(base)) % len(VARIANTS)]
        generation = number // (len(base) * len(VARIANTS))
        name = f"{product['name']}, {variant}" if variant else str(product["name"])
        if generation:
            name = f"{name} (series {generation + 1})"
        rows.append(
            {
                "product_id": number + 1,
                "name": name,
                "category": product["category"],
                "quantity_per_unit": "each",
                "unit_price": Decimal(str(product["unit_price"])),
                "units_in_stock": 50,
                "discontinued": False,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(Product), rows[start : start + 10_000])


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 5:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def latency_queries(engine: Engine, count: int, seed_value: int = 7) -> list[str]:
    """Casual, partial and misspelled forms of real names, plus a few descriptions."""
    rng = random.Random(seed_value)
    with engine.connect() as connection:
        names = list(connection.scalars(select(Product.name)))
    queries = []
    for i in range(count):
        words = rng.choice(names).lower().replace(",", " ").split()
        pick = " ".join(words[: rng.randint(1, min(4, len(words)))])
        queries.append(typo(pick, rng) if i % 3 == 0 else pick)
    return queries


def latency(search: CatalogSearch, queries: list[str]) -> tuple[float, float, float]:
    for query in queries[:10]:
        search.search(query)  # warm-up
    timings = []
    for query in queries:
        search.embedder.clear_query_cache()  # every query pays for its own embedding
        started = time.perf_counter()
        search.search(query)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    return statistics.median(timings), p95, max(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=100_000, help="products in the big catalog")
    parser.add_argument("--queries", type=int, default=300, help="queries per latency run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        client = chromadb.PersistentClient(path=str(root / "chroma"))
        embedder = create_embedder(load_settings())
        engines: dict[str, Engine] = {}
        searches: dict[str, CatalogSearch] = {}
        for catalog in ("northwind", "superstore"):
            engines[catalog] = make_store(root, catalog)
            seed(engine=engines[catalog], catalog=catalog)  # type: ignore[arg-type]
            collection, seconds = indexed(engines[catalog], client, catalog, embedder)
            count = collection.count()
            print(f"indexed {catalog}: {count} products in {seconds:.1f} s")
            searches[catalog] = CatalogSearch(
                engine=engines[catalog], collection=collection, embedder=embedder
            )
        accuracy_table(searches, engines)

        large = make_store(root, "large")
        large_catalog(large, args.large)
        collection, build_s = indexed(large, client, "large", embedder)
        started = time.perf_counter()
        report = sync_catalog(engine=large, collection=collection, embedder=embedder)
        resync_s = time.perf_counter() - started
        searches["large"] = CatalogSearch(engine=large, collection=collection, embedder=embedder)
        engines["large"] = large

        print(f"\n== Query latency ({args.queries} queries each, embedding included)")
        print(f"{'catalog':12}{'products':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for name in ("northwind", "superstore", "large"):
            p50, p95, worst = latency(searches[name], latency_queries(engines[name], args.queries))
            size = searches[name]._catalog.index.size
            print(f"{name:12}{size:>10,}{p50:>9.1f}{p95:>9.1f}{worst:>9.1f}")

        print(f"\n== Index ({args.large:,} products)")
        print(f"build: {build_s:.1f} s = {args.large / build_s:.0f} products/s (embed + store)")
        print(
            f"re-sync unchanged: {resync_s:.2f} s (embedded {report.embedded}, "
            f"unchanged {report.unchanged:,})"
        )


if __name__ == "__main__":
    main()
