"""Demo data: load the Northwind sample (or the Superstore catalog) into DATABASE_URL.

`python -m db.seed` loads Northwind's 91 customers, 77 products and 830 historical orders
(2,155 lines) with their own keys and dates; `--catalog superstore` loads Northwind's
customers with the 1,894-product Superstore catalog instead of Northwind's products.
Seeding only inserts rows whose key is missing, in one transaction, so a second run
changes nothing and stock sold since the first run is never reset. The CSV files and
their SOURCE.md live in `db/data/`. Seeding never creates tables: it runs after
`python -m db.migrate` and says so when the schema is missing or behind.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db.models import Customer, Order, OrderLine, OrderStatus, Product

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
Catalog = Literal["northwind", "superstore"]
CENT = Decimal("0.01")


class SeedError(RuntimeError):
    """The store holds data that this seed would contradict (e.g. the other catalog)."""


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def northwind_customers() -> list[dict[str, object]]:
    return [
        {
            "customer_id": row["customer_id"],
            "company_name": row["company_name"],
            "contact_name": row["contact_name"] or None,
            "city": row["city"] or None,
            "country": row["country"] or None,
        }
        for row in read_csv(DATA_DIR / "northwind" / "customers.csv")
    ]


def northwind_products() -> list[dict[str, object]]:
    descriptions = {
        int(row["product_id"]): row["description"]
        for row in read_csv(DATA_DIR / "northwind" / "descriptions.csv")
    }
    return [
        {
            "product_id": int(row["product_id"]),
            "name": row["product_name"],
            "category": row["category"],
            "quantity_per_unit": row["quantity_per_unit"] or None,
            "description": descriptions.get(int(row["product_id"])),
            "unit_price": Decimal(row["unit_price"]),
            "units_in_stock": int(row["units_in_stock"]),
            "discontinued": row["discontinued"] == "1",
        }
        for row in read_csv(DATA_DIR / "northwind" / "products.csv")
    ]


def superstore_products() -> list[dict[str, object]]:
    """Superstore rows as products: ids 1..N in file order, list price, derived stock.

    The source has no stock figures; stock is a deterministic function of how often the
    product sold (popular items are stocked deeper), so runs are repeatable.
    """
    return [
        {
            "product_id": number,
            "sku": row["sku"],
            "name": row["product_name"],
            "category": f"{row['category']} / {row['sub_category']}",
            "quantity_per_unit": "each",
            "unit_price": Decimal(row["list_price"]).quantize(CENT),
            "units_in_stock": 20 + 15 * int(row["order_lines"]),
            "discontinued": False,
        }
        for number, row in enumerate(read_csv(DATA_DIR / "superstore" / "products.csv"), 1)
    ]


def northwind_orders() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Historical orders (with totals computed from their lines) and their lines."""
    lines = [
        {
            "order_id": int(row["order_id"]),
            "product_id": int(row["product_id"]),
            "unit_price": Decimal(row["unit_price"]),
            "quantity": int(row["quantity"]),
            "discount": Decimal(row["discount"]),
        }
        for row in read_csv(DATA_DIR / "northwind" / "order_details.csv")
    ]
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        gross = line["unit_price"] * line["quantity"] * (1 - line["discount"])  # type: ignore[operator]
        totals[line["order_id"]] += gross  # type: ignore[index]
    orders = [
        {
            "order_id": int(row["order_id"]),
            "customer_id": row["customer_id"],
            "status": OrderStatus.CONFIRMED,
            "created_at": datetime.fromisoformat(row["order_date"]).replace(tzinfo=UTC),
            "total": totals[int(row["order_id"])].quantize(CENT),
        }
        for row in read_csv(DATA_DIR / "northwind" / "orders.csv")
    ]
    return orders, lines


def _insert_missing(
    session: Session, column: object, rows: Iterable[dict[str, object]], key: str
) -> list[dict[str, object]]:
    """Insert the rows whose `key` is not yet in `column`'s table; return those inserted."""
    existing = set(session.scalars(select(column)))  # type: ignore[call-overload]
    missing = [row for row in rows if row[key] not in existing]
    if missing:
        session.execute(insert(column.table), missing)  # type: ignore[attr-defined]
    return missing


def _advance_sequences(session: Session) -> None:
    # Explicit Northwind ids do not move PostgreSQL's sequences; without this the next
    # new order would collide with order 1.
    if session.get_bind().dialect.name != "postgresql":
        return
    for statement in _SEQUENCE_RESETS:
        session.execute(statement)


_SEQUENCE_RESETS = [
    text(
        "SELECT setval(pg_get_serial_sequence('orders', 'order_id'), "
        "(SELECT COALESCE(MAX(order_id), 0) + 1 FROM orders), false)"
    ),
    text(
        "SELECT setval(pg_get_serial_sequence('products', 'product_id'), "
        "(SELECT COALESCE(MAX(product_id), 0) + 1 FROM products), false)"
    ),
]


def _check_catalog(session: Session, catalog: Catalog) -> None:
    has_skus = session.scalar(select(func.count()).where(Product.sku.is_not(None)))
    without_skus = session.scalar(select(func.count()).where(Product.sku.is_(None)))
    other = "superstore" if has_skus else "northwind" if without_skus else None
    if other and other != catalog:
        raise SeedError(
            f"the database already holds the {other} catalog; seed the {catalog} "
            "catalog into an empty database (set DATABASE_URL to a new one)"
        )


def seed(*, engine: Engine, catalog: Catalog = "northwind") -> dict[str, int]:
    """Load the demo data into `engine`'s database; return how many rows each table gained."""
    with Session(engine) as session, session.begin():
        _check_catalog(session, catalog)
        added = {
            "customers": len(
                _insert_missing(session, Customer.customer_id, northwind_customers(), "customer_id")
            )
        }
        if catalog == "superstore":
            products = _insert_missing(session, Product.sku, superstore_products(), "sku")
            added |= {"products": len(products), "orders": 0, "order_lines": 0}
        else:
            products = _insert_missing(
                session, Product.product_id, northwind_products(), "product_id"
            )
            orders, lines = northwind_orders()
            new_orders = _insert_missing(session, Order.order_id, orders, "order_id")
            new_ids = {order["order_id"] for order in new_orders}
            new_lines = [line for line in lines if line["order_id"] in new_ids]
            if new_lines:
                session.execute(insert(OrderLine), new_lines)
            added |= {
                "products": len(products),
                "orders": len(new_orders),
                "order_lines": len(new_lines),
            }
        _advance_sequences(session)
    return added


def main(argv: list[str] | None = None) -> int:
    from config import ConfigError, configure_logging, get_settings
    from db.engine import create_db_engine
    from db.migrate import SchemaNotCurrent, check_current

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--catalog",
        choices=["northwind", "superstore"],
        help="which product catalog to load (default: DEMO_CATALOG, northwind)",
    )
    args = parser.parse_args(argv)
    engine = None
    try:
        settings = get_settings()
        configure_logging(settings)
        engine = create_db_engine(settings)
        check_current(engine)
        added = seed(engine=engine, catalog=args.catalog or settings.demo_catalog)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except SchemaNotCurrent as error:
        print(f"Cannot seed {settings.database_url_safe}: {error}", file=sys.stderr)
        return 1
    except SeedError as error:
        print(f"Seed refused: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(
            f"Cannot seed {settings.database_url_safe}: {reason}",
            file=sys.stderr,
        )
        return 1
    finally:
        if engine is not None:
            engine.dispose()
    if any(added.values()):
        print(
            f"Seeded {settings.database_url_safe}: "
            + ", ".join(f"{count} {table}" for table, count in added.items())
        )
    else:
        print(f"Demo data already present in {settings.database_url_safe}; nothing changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
