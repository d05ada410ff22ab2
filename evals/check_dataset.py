"""Check an order-understanding evaluation set (JSONL) against the catalog it runs on.

Usage (from the repository root):

    python -m evals.check_dataset evals/datasets/northwind.jsonl [more.jsonl ...]

Every line of the file is one case: ``{"id", "category", "turns", "expect"}`` plus the
optional ``source_order`` (the historical Northwind order the case was built from),
``catalog`` (``northwind``, the default, or ``superstore``) and ``note``. The script reads
the CSV files the seed loads (``db/data/northwind/*.csv``; for Superstore cases
``db/data/superstore/products.csv`` with Northwind's customers) and checks that

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
  name an existing order and search cases an existing product;
* ``customer_id: null`` (an unknown customer) comes with no lines and a flag to raise;
  ``attention`` is a boolean, ``reply_mentions`` / ``reply_mentions_any`` are lists of
  words, ``order_cancelled`` comes with ``confirmed``, an ``order_id_mentioned`` of an order
  case is a real order named in the turns, and memory questions say what the reply names;
* ``today`` is an ISO date, and ``expect.header`` holds only the header fields (a PO,
  ship-to or note written in the turns; a requested date on or after ``today``).

It prints the number of cases per category, any warnings, and exits with status 1 when
it finds a problem (2 when the file cannot be read).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from db.seed import DATA_DIR as SEED_DATA_DIR
from db.text import fold

# The CSV files the store is seeded from (db.seed reads the same folder).
DATA_DIR = SEED_DATA_DIR / "northwind"
SUPERSTORE_DIR = SEED_DATA_DIR / "superstore"
DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
DEFAULT_DATASET = DATASETS_DIR / "northwind.jsonl"
CATALOGS = ("northwind", "superstore")

NORTHWIND_CATEGORIES = (
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
# Categories of the sets beside northwind.jsonl (chat, emails, languages, conversations,
# and the Superstore catalog's `ss_` ones).
NEW_CATEGORIES = (
    "chat",
    "email",
    "de",
    "es",
    "fr",
    "pt",
    "it",
    "references",
    "two_requests",
    "clarification",
    "memory",
    "ss_short",
    "ss_typo",
    "ss_numbers",
    "ss_ambiguous",
    "header",
    "packs",
    "substitutes",
    "holds",
)
# The probe sets (probe.jsonl, probe_stock.jsonl): unseen phrasings, one category per kind.
PROBE_CATEGORIES = (
    "probe_chat",
    "probe_email",
    "probe_lang",
    "probe_conversation",
    "probe_noise",
    "probe_superstore",
    "probe_packs",
    "probe_substitutes",
    "probe_holds",
)
# Categories whose cases run on the Superstore catalog, and only they.
SUPERSTORE_CATEGORIES = frozenset(
    {c for c in NEW_CATEGORIES if c.startswith("ss_")} | {"probe_superstore"}
)
CATEGORIES = (*NORTHWIND_CATEGORIES, *NEW_CATEGORIES, *PROBE_CATEGORIES)
ORDERLESS = {"status", "search", "memory"}
CASE_KEYS = {
    "id",
    "category",
    "turns",
    "expect",
    "source_order",
    "catalog",
    "note",
    "today",
    "stock",
    "discontinued",
    "elsewhere",
}
EXPECT_KEYS = {
    "customer_id",
    "lines",
    "confirmed",
    "no_lines_for",
    "asks_about",
    "prices",
    "order_id_mentioned",
    "mentions_product_id",
    "attention",
    "reply_mentions",
    "reply_mentions_any",
    "order_cancelled",
    "header",
}
# The order header a case may expect (expect.header), and the longest value each may hold
# (the columns of migration 0004); requested_date is an ISO date or null.
HEADER_FIELDS = {"customer_po": 50, "requested_date": 10, "ship_to": 300, "notes": 1000}
ID_PATTERN = re.compile(r"^[a-z_]+-\d{3}$")
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
        """Read the Northwind CSV files in `data_dir`."""

        def rows(name: str) -> list[dict[str, str]]:
            return read_rows(data_dir / name)

        products = {int(r["product_id"]): r for r in rows("products.csv")}
        customers = {r["customer_id"]: r for r in rows("customers.csv")}
        orders = {int(r["order_id"]): r["customer_id"] for r in rows("orders.csv")}
        order_lines: dict[int, dict[int, int]] = defaultdict(dict)
        for r in rows("order_details.csv"):
            lines = order_lines[int(r["order_id"])]
            pid = int(r["product_id"])
            lines[pid] = lines.get(pid, 0) + int(r["quantity"])
        return cls(products, customers, orders, dict(order_lines))

    @classmethod
    def load_superstore(
        cls, superstore_dir: Path = SUPERSTORE_DIR, northwind_dir: Path = DATA_DIR
    ) -> Catalog:
        """The Superstore products as db.seed loads them (ids 1..N in file order, stock
        20 + 15 per historical order line, none discontinued) with Northwind's customers;
        this store has no order history."""
        products = {
            number: {
                "product_name": row["product_name"],
                "units_in_stock": str(20 + 15 * int(row["order_lines"])),
                "discontinued": "0",
                "unit_price": row["list_price"],
            }
            for number, row in enumerate(read_rows(superstore_dir / "products.csv"), start=1)
        }
        customers = {r["customer_id"]: r for r in read_rows(northwind_dir / "customers.csv")}
        return cls(products, customers, {}, {})

    @classmethod
    def load_named(cls, name: str) -> Catalog:
        """The catalog a case's ``catalog`` field names."""
        if name == "superstore":
            return cls.load_superstore()
        if name == "northwind":
            return cls.load()
        raise ValueError(f"unknown catalog {name!r}")

    def with_stock(self, stock: dict[int, int], discontinued: set[int]) -> Catalog:
        """This catalog as a case that sets `stock` and `discontinued` sees it."""
        products = {
            pid: {
                **row,
                "units_in_stock": str(stock.get(pid, row["units_in_stock"])),
                "discontinued": "1" if pid in discontinued else row["discontinued"],
            }
            for pid, row in self.products.items()
        }
        return Catalog(products, self.customers, self.orders, self.order_lines)

    def stock(self, product_id: int) -> int:
        return int(self.products[product_id]["units_in_stock"])

    def discontinued(self, product_id: int) -> bool:
        return self.products[product_id]["discontinued"] == "1"


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def normalize(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned into spaces."""
    plain = fold(text)
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
    """Check one case against `catalog` (the one its `catalog` field names), adding what is
    wrong to `report`."""
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
    catalog_name = case.get("catalog", "northwind")
    if catalog_name not in CATALOGS:
        report.error(cid, f"unknown catalog {catalog_name!r}")
        return
    if (category in SUPERSTORE_CATEGORIES) != (catalog_name == "superstore"):
        report.error(
            cid, "ss_ and probe_superstore categories, and only they, run on the superstore catalog"
        )
    set_stock = _check_stock(cid, case, catalog, report)
    if set_stock is not None:
        catalog = catalog.with_stock(*set_stock)
    turns = case.get("turns")
    if not (
        isinstance(turns, list) and turns and all(isinstance(t, str) and t.strip() for t in turns)
    ):
        report.error(cid, "turns must be a non-empty list of non-empty strings")
        return
    _check_elsewhere(cid, case.get("elsewhere", []), len(turns), report)
    expect = case.get("expect")
    if not isinstance(expect, dict):
        report.error(cid, "expect must be an object")
        return
    unknown_keys = set(expect) - EXPECT_KEYS
    if unknown_keys:
        report.error(cid, f"unknown expect keys {sorted(unknown_keys)}")
    _check_flags(cid, expect, turns, catalog, report)
    _check_header(cid, case, expect, turns, report)

    source = case.get("source_order")
    if source is not None and (not is_positive_int(source) or source not in catalog.orders):
        report.error(cid, f"source_order {source!r} is not a Northwind order")
        source = None

    if category in ORDERLESS:
        _check_orderless(cid, category, expect, turns, catalog, report)
        return

    customer_id = expect.get("customer_id")
    text = normalize(" \n ".join(turns))
    if customer_id is None and "customer_id" in expect:
        _check_unknown_customer(cid, expect, report)
    elif customer_id not in catalog.customers:
        report.error(cid, f"unknown customer_id {customer_id!r}")
        return
    else:
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
        expect.get("no_lines_for")
        or expect.get("asks_about")
        or expect.get("attention") is True
        or "order_id_mentioned" in expect  # a status question in an order category
        or category == "edits"
    ):
        report.error(cid, "no lines expected, but no no_lines_for / asks_about / attention")
    # A substitutes case that expects the flag may expect the line it flags.
    flagged_ok = category == "substitutes" and expect.get("attention") is True
    parsed = _check_lines(cid, lines, catalog, report, flagged_ok=flagged_ok)

    for key in expect.get("asks_about", []):
        if normalize(key) not in text:
            report.error(cid, f"asks_about phrase {key!r} is not in the turns")
    _check_prices(cid, expect, lines, catalog, report)
    if source is not None:
        _check_source(cid, category, source, customer_id, parsed, len(turns), catalog, report)


def _check_flags(
    cid: str, expect: dict[str, Any], turns: list[str], catalog: Catalog, report: Report
) -> None:
    """The shape of the optional expectations every kind of case may carry."""
    if "confirmed" in expect and expect["confirmed"] is not True:
        report.error(cid, "confirmed must be true or absent")
    if "order_cancelled" in expect and expect["order_cancelled"] is not True:
        report.error(cid, "order_cancelled must be true or absent")
    if expect.get("order_cancelled") and not expect.get("confirmed"):
        report.error(cid, "order_cancelled needs confirmed: an order placed first")
    if "attention" in expect and not isinstance(expect["attention"], bool):
        report.error(cid, "attention must be true or false")
    for key in ("no_lines_for", "asks_about", "reply_mentions", "reply_mentions_any"):
        if key in expect and not (
            isinstance(expect[key], list)
            and expect[key]
            and all(isinstance(x, str) and x.strip() for x in expect[key])
        ):
            report.error(cid, f"{key} must be a non-empty list of strings")
    if "order_id_mentioned" in expect:
        order_id = expect["order_id_mentioned"]
        if not is_positive_int(order_id) or order_id not in catalog.orders:
            report.error(cid, f"order_id_mentioned {order_id!r} is not a Northwind order")
        elif str(order_id) not in " ".join(turns):
            report.error(cid, f"order {order_id} is not in the message")


def _check_header(
    cid: str, case: dict[str, Any], expect: dict[str, Any], turns: list[str], report: Report
) -> None:
    """`today` is an ISO date (the day the case is played on, so "by Friday" has one
    answer); `expect.header` names only known fields; a PO, ship-to or note is written in
    the turns; a requested date is an ISO date after `today`, which it then needs."""
    today = _iso_date(case["today"]) if "today" in case else None
    if "today" in case and today is None:
        report.error(cid, f"today {case['today']!r} is not an ISO date")
    header = expect.get("header")
    if header is None:
        return
    if not isinstance(header, dict) or not header:
        report.error(cid, "header must be a non-empty object")
        return
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        report.error(cid, f"unknown header fields {sorted(unknown)}")
    text = normalize(" \n ".join(turns))
    for name, value in header.items():
        if value is None or name not in HEADER_FIELDS:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > HEADER_FIELDS[name]:
            report.error(cid, f"header {name} must be a string of at most {HEADER_FIELDS[name]}")
        elif name == "requested_date":
            wanted = _iso_date(value)
            if wanted is None:
                report.error(cid, f"requested_date {value!r} is not an ISO date")
            elif today is None:
                report.error(cid, "a requested_date needs the case's today")
            elif wanted < today:
                report.error(cid, f"requested_date {value} is before today {today}")
        elif normalize(value) not in text:
            report.error(cid, f"header {name} {value!r} is not in the turns")


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _check_orderless(
    cid: str,
    category: str,
    expect: dict[str, Any],
    turns: list[str],
    catalog: Catalog,
    report: Report,
) -> None:
    if "customer_id" in expect or "lines" in expect:
        report.error(cid, f"{category} cases expect no customer and no lines")
    if category == "status" and "order_id_mentioned" not in expect:
        report.error(cid, "a status case names the order the reply must mention")
    elif category == "search":
        product_id = expect.get("mentions_product_id")
        if not is_positive_int(product_id) or product_id not in catalog.products:
            report.error(cid, f"mentions_product_id {product_id!r} is not a product")
    elif category == "memory" and not (
        expect.get("reply_mentions") or expect.get("reply_mentions_any")
    ):
        report.error(cid, "a memory case says what the reply must mention")


def _check_unknown_customer(cid: str, expect: dict[str, Any], report: Report) -> None:
    """`customer_id: null`: a customer we do not have was named, so nothing is drafted and
    the desk must say so."""
    if expect.get("lines"):
        report.error(cid, "an unknown customer's case expects no lines")
    if not (expect.get("attention") is True or expect.get("reply_mentions")):
        report.error(cid, "an unknown customer's case expects attention or reply_mentions")
    if expect.get("confirmed"):
        report.error(cid, "nothing can be confirmed for an unknown customer")


def _check_elsewhere(cid: str, elsewhere: Any, turns: int, report: Report) -> None:
    """`elsewhere`: messages another conversation sends before one of the case's turns,
    `[{"before": turn index, "say": text, "thread": optional name}, ...]`."""
    if not isinstance(elsewhere, list):
        report.error(cid, "elsewhere must be a list of {before, say, thread?}")
        return
    for entry in elsewhere:
        before = entry.get("before") if isinstance(entry, dict) else None
        ok = (
            isinstance(entry, dict)
            and set(entry) <= {"before", "say", "thread"}
            and type(before) is int
            and 0 <= before < turns
            and isinstance(entry.get("say"), str)
            and entry["say"].strip()
            and isinstance(entry.get("thread", "other"), str)
        )
        if not ok:
            report.error(
                cid, f"elsewhere entry {entry!r}: needs before (0..{turns - 1}) and a say text"
            )


def _check_stock(
    cid: str, case: dict[str, Any], catalog: Catalog, report: Report
) -> tuple[dict[int, int], set[int]] | None:
    """A case's `stock` ({product_id: units}, 0 or more) and `discontinued` ([product_id,
    ...]), checked; None when it sets neither (or sets them wrongly: reported)."""
    stock, stopped = case.get("stock", {}), case.get("discontinued", [])
    if not stock and not stopped:
        return None
    ok = isinstance(stock, dict) and isinstance(stopped, list)
    if not ok:
        report.error(cid, "stock must be {product_id: units} and discontinued [product_id, ...]")
        return None
    units: dict[int, int] = {}
    for key, value in stock.items():
        if not (isinstance(key, str) and key.isdecimal() and int(key) in catalog.products):
            report.error(cid, f"stock names an unknown product id {key!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            report.error(cid, f"stock for {key} must be a whole number of units, got {value!r}")
        else:
            units[int(key)] = value
    for pid in stopped:
        if not is_positive_int(pid) or pid not in catalog.products:
            report.error(cid, f"discontinued names an unknown product id {pid!r}")
    return units, {pid for pid in stopped if is_positive_int(pid)}


def _check_lines(
    cid: str,
    lines: dict[str, Any],
    catalog: Catalog,
    report: Report,
    *,
    flagged_ok: bool = False,
) -> dict[int, int]:
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
        if not flagged_ok and catalog.discontinued(pid):
            report.error(cid, f"{key} {name} is discontinued")
        if not flagged_ok and quantity > catalog.stock(pid):
            report.error(
                cid, f"{quantity} x {key} {name} is more than the {catalog.stock(pid)} in stock"
            )
        parsed[pid] = quantity
    return parsed


def _check_prices(
    cid: str, expect: dict[str, Any], lines: dict[str, Any], catalog: Catalog, report: Report
) -> None:
    prices = expect.get("prices", {})
    if not isinstance(prices, dict):
        report.error(cid, "prices must be an object {product_id: catalog unit price}")
        return
    for key, price in prices.items():
        if key not in lines:
            report.error(cid, f"price given for {key}, which is not an expected line")
        elif (
            not isinstance(price, int | float)
            or abs(float(price) - float(catalog.products[int(key)]["unit_price"])) > 0.005
        ):
            report.error(cid, f"price {price!r} for {key} is not the catalog price")


def _check_source(
    cid: str,
    category: str,
    source: int,
    customer_id: str | None,
    parsed: dict[int, int],
    turn_count: int,
    catalog: Catalog,
    report: Report,
) -> None:
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
        elif turn_count == 1 and quantity != min(history[pid], catalog.stock(pid)):
            report.error(
                cid,
                f"{pid}: {quantity} differs from source_order {source} "
                f"({history[pid]}, stock {catalog.stock(pid)})",
            )


def check_file(path: Path, catalog: Catalog | None = None) -> tuple[Counter[str], Report]:
    """Check every case in `path`; return the count per category and the report.

    `catalog` is the Northwind one (loaded when not given); Superstore cases are checked
    against the Superstore catalog, loaded the first time one appears.
    """
    report = Report()
    counts: Counter[str] = Counter()
    catalogs: dict[str, Catalog] = {"northwind": catalog or Catalog.load()}
    refs = customer_references(catalogs["northwind"])
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
            name = str(case.get("catalog", "northwind"))
            if name == "superstore" and name not in catalogs:
                catalogs[name] = Catalog.load_superstore()
            check_case(case, catalogs.get(name, catalogs["northwind"]), refs, report)
    return counts, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="*", type=Path, default=[DEFAULT_DATASET])
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="folder with the Northwind CSV files"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(argv)
    status = 0
    for dataset in args.dataset:
        status = max(status, check_one(dataset, args.data_dir, quiet=args.quiet))
    return status


def check_one(dataset: Path, data_dir: Path, *, quiet: bool) -> int:
    """Check one file and print its summary: 0 OK, 1 problems, 2 unreadable."""
    try:
        catalog = Catalog.load(data_dir)
        counts, report = check_file(dataset, catalog)
    except OSError as error:
        print(f"cannot read: {error}", file=sys.stderr)
        return 2
    total = sum(counts.values())
    print(f"{dataset}: {total} cases")
    for category in (*CATEGORIES, *sorted(set(counts) - set(CATEGORIES))):
        if counts[category]:
            print(f"  {category:<14} {counts[category]:>4}")
    if report.warnings and not quiet:
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
