"""Check an order-understanding evaluation set (JSONL) against the Northwind catalog.

Usage (from the repository root):

    python -m evals.check_dataset evals/datasets/northwind.jsonl

Every line of the file is one case: ``{"id", "category", "turns", "expect"}`` plus the
optional ``source_order`` (the historical Northwind order the case was built from) and
``note``. The script reads ``db/data/northwind/*.csv`` and checks that

* every line is valid JSON with the known keys, ids are unique, the category is known;
* ``turns`` is a non-empty list of non-empty strings;
* every ``customer_id`` and product id exists, quantities are positive integers, and no
  expected line names a discontinued product or more units than are in stock (a draft
  of those would be flagged rather than clean);
* the customer of every order case can be recognised from the conversation (company
  name, a distinctive part of it, the 5-letter code, or the contact's name);
* a case built from ``source_order`` keeps that order's customer and products, and in a
  single-turn case its quantities (capped at the stock on hand);
* ``confirmed`` is only ever ``true``; ``prices`` equal the catalog prices; status cases
  name an existing order and search cases an existing product.

It prints the number of cases per category, any warnings, and exits with status 1 when
it finds a problem (2 when the file cannot be read).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[1] / "db" / "data" / "northwind"
DEFAULT_DATASET = Path(__file__).resolve().parent / "datasets" / "northwind.jsonl"

CATEGORIES = (
    "exact",
    "casual",
    "typo",
    "description",
    "quantities",
    "format",
    "edits",
    "confirm",
    "unknown",
    "ambiguous",
    "injection",
    "status",
    "search",
)
ORDERLESS = {"status", "search"}
CASE_KEYS = {"id", "category", "turns", "expect", "source_order", "note"}
EXPECT_KEYS = {
    "customer_id",
    "lines",
    "confirmed",
    "no_lines_for",
    "asks_about",
    "prices",
    "order_id_mentioned",
    "mentions_product_id",
}
ID_PATTERN = re.compile(r"^[a-z]+-\d{3}$")
# Words too generic to identify one customer on their own.
GENERIC_WORDS = frozenset(
    """
    the and und och del des los las para mehr fils pere restaurant restaurante market
    markets marktstand store import imports importadora delikatessen delicatessen gourmet
    specialites comidas grocery grocers supermarkt supermercado hipermercados trading
    holdings food beverages wine cellars bistro cozinha cocina provisioners ltda all night
    great island canyon beer ale white seven cheese big
    """.split()
)


@dataclass
class Catalog:
    """The Northwind tables the checks need."""

    products: dict[int, dict[str, str]]
    customers: dict[str, dict[str, str]]
    orders: dict[int, str]
    order_lines: dict[int, dict[int, int]]

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Catalog:
        """Read the CSV files in `data_dir`."""

        def rows(name: str) -> list[dict[str, str]]:
            with open(data_dir / name, encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))

        products = {int(r["product_id"]): r for r in rows("products.csv")}
        customers = {r["customer_id"]: r for r in rows("customers.csv")}
        orders = {int(r["order_id"]): r["customer_id"] for r in rows("orders.csv")}
        order_lines: dict[int, dict[int, int]] = defaultdict(dict)
        for r in rows("order_details.csv"):
            lines = order_lines[int(r["order_id"])]
            pid = int(r["product_id"])
            lines[pid] = lines.get(pid, 0) + int(r["quantity"])
        return cls(products, customers, orders, dict(order_lines))

    def stock(self, product_id: int) -> int:
        return int(self.products[product_id]["units_in_stock"])

    def discontinued(self, product_id: int) -> bool:
        return self.products[product_id]["discontinued"] == "1"


def normalize(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split()) + " "


def customer_references(catalog: Catalog) -> dict[str, set[str]]:
    """Normalized phrases that name exactly one customer, per customer_id.

    A customer is named by its code, its full company name, its contact's full name, any
    two neighbouring words of the company name, or one distinctive word of it (4+ letters,
    not generic); phrases that also fit another customer are dropped, and so are single
    words that occur in a product name ("Laughing", "anton" from "Chef Anton's"): the
    upper-case code itself is also matched as a word by `check_case`.
    """
    product_words = {
        w for row in catalog.products.values() for w in normalize(row["product_name"]).split()
    }
    candidates: dict[str, set[str]] = {}
    for cid, row in catalog.customers.items():
        words = normalize(row["company_name"]).split()
        refs = {normalize(row["company_name"]), normalize(row["contact_name"])}
        refs |= {
            f" {a} {b} "
            for a, b in zip(words, words[1:], strict=False)
            if not {a, b} <= GENERIC_WORDS
        }
        refs |= {
            f" {w} "
            for w in [*words, cid.lower()]
            if len(w) >= 4 and w not in GENERIC_WORDS and w not in product_words
        }
        candidates[cid] = refs
    owners: dict[str, set[str]] = defaultdict(set)
    for refs in candidates.values():
        for ref in refs:
            for other, row in catalog.customers.items():
                name = normalize(row["company_name"]) + normalize(row["contact_name"])
                if ref in name or ref == normalize(other):
                    owners[ref].add(other)
    return {cid: {r for r in refs if owners[r] <= {cid}} for cid, refs in candidates.items()}


@dataclass
class Report:
    """Problems and warnings found, by case id."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, case_id: str, message: str) -> None:
        self.errors.append(f"{case_id}: {message}")

    def warn(self, case_id: str, message: str) -> None:
        self.warnings.append(f"{case_id}: {message}")


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_case(
    case: dict[str, Any], catalog: Catalog, refs: dict[str, set[str]], report: Report
) -> None:
    """Check one case, adding what is wrong to `report`."""
    cid = str(case.get("id", "?"))
    if not ID_PATTERN.match(cid):
        report.error(cid, "id should look like 'casual-017'")
    unknown_keys = set(case) - CASE_KEYS
    if unknown_keys:
        report.error(cid, f"unknown keys {sorted(unknown_keys)}")
    category = case.get("category")
    if category not in CATEGORIES:
        report.error(cid, f"unknown category {category!r}")
        return
    if not cid.startswith(f"{category}-"):
        report.error(cid, f"id does not start with its category {category!r}")
    turns = case.get("turns")
    if not (
        isinstance(turns, list) and turns and all(isinstance(t, str) and t.strip() for t in turns)
    ):
        report.error(cid, "turns must be a non-empty list of non-empty strings")
        return
    expect = case.get("expect")
    if not isinstance(expect, dict):
        report.error(cid, "expect must be an object")
        return
    unknown_keys = set(expect) - EXPECT_KEYS
    if unknown_keys:
        report.error(cid, f"unknown expect keys {sorted(unknown_keys)}")

    source = case.get("source_order")
    if source is not None and (not is_positive_int(source) or source not in catalog.orders):
        report.error(cid, f"source_order {source!r} is not a Northwind order")
        source = None

    if category in ORDERLESS:
        if "customer_id" in expect or "lines" in expect:
            report.error(cid, "status/search cases expect no customer and no lines")
        if category == "status":
            order_id = expect.get("order_id_mentioned")
            if not is_positive_int(order_id) or order_id not in catalog.orders:
                report.error(cid, f"order_id_mentioned {order_id!r} is not a Northwind order")
            elif str(order_id) not in " ".join(turns):
                report.error(cid, f"order {order_id} is not in the message")
        else:
            product_id = expect.get("mentions_product_id")
            if not is_positive_int(product_id) or product_id not in catalog.products:
                report.error(cid, f"mentions_product_id {product_id!r} is not a product")
        return

    customer_id = expect.get("customer_id")
    if customer_id not in catalog.customers:
        report.error(cid, f"unknown customer_id {customer_id!r}")
        return
    text = normalize(" \n ".join(turns))
    named = {c for c, phrases in refs.items() if any(p in text for p in phrases)}
    named |= {c for c in refs if re.search(rf"\b{c}\b", " ".join(turns))}
    if customer_id not in named:
        report.error(cid, f"customer {customer_id} is not recognisable in the turns")
    elif len(named) > 1:
        report.warn(cid, f"turns also seem to name {sorted(named - {customer_id})}")

    lines = expect.get("lines")
    if not isinstance(lines, dict):
        report.error(cid, "lines must be an object {product_id: quantity}")
        return
    if not lines and not (
        expect.get("no_lines_for") or expect.get("asks_about") or category == "edits"
    ):
        report.error(cid, "no lines expected, but no no_lines_for / asks_about either")
    parsed: dict[int, int] = {}
    for key, quantity in lines.items():
        if not (isinstance(key, str) and key.isdecimal() and int(key) in catalog.products):
            report.error(cid, f"unknown product id {key!r}")
            continue
        pid = int(key)
        name = catalog.products[pid]["product_name"]
        if not is_positive_int(quantity):
            report.error(cid, f"quantity for {key} must be a positive integer, got {quantity!r}")
            continue
        if catalog.discontinued(pid):
            report.error(cid, f"{key} {name} is discontinued")
        if quantity > catalog.stock(pid):
            report.error(
                cid, f"{quantity} x {key} {name} is more than the {catalog.stock(pid)} in stock"
            )
        parsed[pid] = quantity

    if "confirmed" in expect and expect["confirmed"] is not True:
        report.error(cid, "confirmed must be true or absent")
    for key in ("no_lines_for", "asks_about"):
        if key in expect and not (
            isinstance(expect[key], list)
            and expect[key]
            and all(isinstance(x, str) and x for x in expect[key])
        ):
            report.error(cid, f"{key} must be a non-empty list of strings")
    for key in expect.get("asks_about", []):
        if normalize(key) not in text:
            report.error(cid, f"asks_about phrase {key!r} is not in the turns")
    prices = expect.get("prices", {})
    if not isinstance(prices, dict):
        report.error(cid, "prices must be an object {product_id: catalog unit price}")
        prices = {}
    for key, price in prices.items():
        if key not in lines:
            report.error(cid, f"price given for {key}, which is not an expected line")
        elif (
            not isinstance(price, int | float)
            or abs(float(price) - float(catalog.products[int(key)]["unit_price"])) > 0.005
        ):
            report.error(cid, f"price {price!r} for {key} is not the catalog price")

    if source is not None:
        if catalog.orders[source] != customer_id:
            report.error(
                cid, f"source_order {source} belongs to {catalog.orders[source]}, not {customer_id}"
            )
        history = catalog.order_lines.get(source, {})
        for pid, quantity in parsed.items():
            if category == "edits":
                continue
            if pid not in history:
                report.error(cid, f"product {pid} is not in source_order {source}")
            elif len(turns) == 1 and quantity != min(history[pid], catalog.stock(pid)):
                report.error(
                    cid,
                    f"{pid}: {quantity} differs from source_order {source} "
                    f"({history[pid]}, stock {catalog.stock(pid)})",
                )


def check_file(path: Path, catalog: Catalog) -> tuple[Counter[str], Report]:
    """Check every case in `path`; return the count per category and the report."""
    report = Report()
    counts: Counter[str] = Counter()
    refs = customer_references(catalog)
    seen: set[str] = set()
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                report.error(f"line {number}", "blank line")
                continue
            try:
                case = json.loads(raw)
            except json.JSONDecodeError as error:
                report.error(f"line {number}", f"invalid JSON ({error})")
                continue
            if not isinstance(case, dict):
                report.error(f"line {number}", "not a JSON object")
                continue
            cid = str(case.get("id"))
            if cid in seen:
                report.error(cid, "duplicate id")
            seen.add(cid)
            counts[str(case.get("category"))] += 1
            check_case(case, catalog, refs, report)
    return counts, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="folder with the Northwind CSV files"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(argv)
    try:
        catalog = Catalog.load(args.data_dir)
        counts, report = check_file(args.dataset, catalog)
    except OSError as error:
        print(f"cannot read: {error}", file=sys.stderr)
        return 2
    total = sum(counts.values())
    print(f"{args.dataset}: {total} cases")
    for category in (*CATEGORIES, *sorted(set(counts) - set(CATEGORIES))):
        if counts[category]:
            print(f"  {category:<12} {counts[category]:>4}")
    if report.warnings and not args.quiet:
        print(f"{len(report.warnings)} warning(s):")
        for line in report.warnings:
            print(f"  {line}")
    if report.errors:
        print(f"{len(report.errors)} problem(s):", file=sys.stderr)
        for line in report.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
