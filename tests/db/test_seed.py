"""Demo seed: Northwind's counts, keys, dates and names arrive intact, and twice is once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import get_settings
from db import seed as seed_module
from db.models import Customer, Order, OrderLine, OrderStatus, Product
from db.seed import SeedError, seed


def counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Customer, Product, Order, OrderLine)
    }


def snapshot(session: Session) -> list[tuple[object, ...]]:
    products = session.execute(
        select(Product.product_id, Product.units_in_stock, Product.unit_price)
    ).all()
    orders = session.execute(select(Order.order_id, Order.total, Order.created_at)).all()
    return sorted(map(tuple, products)) + sorted(map(tuple, orders))


def test_northwind_counts(engine: Engine) -> None:
    added = seed(engine=engine)
    assert added == {"customers": 91, "products": 77, "orders": 830, "order_lines": 2155}
    with Session(engine) as session:
        assert counts(session) == {
            "customers": 91,
            "products": 77,
            "orders": 830,
            "order_lines": 2155,
        }
        discontinued = session.scalar(select(func.count()).where(Product.discontinued.is_(True)))
        assert discontinued == 10


def test_northwind_keys_dates_and_prices_are_preserved(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        assert session.get(Customer, "ALFKI").company_name == "Alfreds Futterkiste"
        cabrales = session.get(Product, 11)
        assert (cabrales.name, cabrales.unit_price) == ("Queso Cabrales", Decimal("21.00"))
        order = session.get(Order, 10248)
        assert order.customer_id == "VINET"
        assert order.created_at.date() == date(1996, 7, 4)
        assert order.status is OrderStatus.CONFIRMED
        assert [(line.product_id, line.quantity) for line in order.lines] == [
            (11, 12),
            (42, 10),
            (72, 5),
        ]
        assert order.total == Decimal("440.00")  # 12*14.00 + 10*9.80 + 5*34.80


def test_history_totals_include_the_historical_discounts(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        order = session.get(Order, 10250)  # lines 2 and 3 carry a 15% discount
        assert order.total == sum(line.line_total for line in order.lines)
        assert order.total == Decimal("1552.60")


def test_non_ascii_names_survive(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        names = set(session.scalars(select(Product.name)))
        assert {"Pâté chinois", "Lakkalikööri", "Guaraná Fantástica"} <= names
        assert sum(1 for name in names if not name.isascii()) == 16
        assert session.get(Customer, "FRANK").company_name == "Frankenversand"


def test_second_run_changes_nothing(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        before = snapshot(session)
    assert seed(engine=engine) == {"customers": 0, "products": 0, "orders": 0, "order_lines": 0}
    with Session(engine) as session:
        assert snapshot(session) == before
        assert counts(session)["order_lines"] == 2155


def test_reseeding_never_resets_stock_sold_since(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Product).where(Product.product_id == 11).values(units_in_stock=3))
    seed(engine=engine)
    with Session(engine) as session:
        assert session.get(Product, 11).units_in_stock == 3


def test_a_partial_store_is_completed(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session, session.begin():
        session.delete(session.get(Order, 11077))
    added = seed(engine=engine)
    assert added["orders"] == 1 and added["order_lines"] == 25
    with Session(engine) as session:
        assert counts(session)["order_lines"] == 2155


def test_new_orders_are_numbered_after_the_history(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session, session.begin():
        order = Order(customer_id="ALFKI", total=Decimal("0"))
        session.add(order)
        session.flush()
        assert order.order_id == 11078
        product = Product(name="New", category="X", unit_price=Decimal("1.00"))
        session.add(product)
        session.flush()
        assert product.product_id == 78


def test_database_refuses_negative_stock(engine: Engine) -> None:
    seed(engine=engine)
    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        session.execute(update(Product).where(Product.product_id == 1).values(units_in_stock=-1))


def test_superstore_catalog(engine: Engine) -> None:
    added = seed(engine=engine, catalog="superstore")
    assert added == {"customers": 91, "products": 1894, "orders": 0, "order_lines": 0}
    with Session(engine) as session:
        skus = list(session.scalars(select(Product.sku)))
        assert len(skus) == len(set(skus)) == 1894
        assert "OFF-BI-10004632-A" in skus and "OFF-BI-10004632-B" in skus
        staples = session.scalars(select(Product).where(Product.name == "Staples")).all()
        assert len(staples) == 10
        assert all(product.units_in_stock > 0 for product in staples)
    assert seed(engine=engine, catalog="superstore")["products"] == 0


def test_catalogs_are_never_mixed(engine: Engine) -> None:
    seed(engine=engine)
    with pytest.raises(SeedError, match="already holds the northwind catalog"):
        seed(engine=engine, catalog="superstore")
    with Session(engine) as session:
        assert counts(session)["products"] == 77


def test_cli_seeds_then_reports_nothing_to_do(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed_module.main([]) == 0
    assert "91 customers, 77 products, 830 orders, 2155 order_lines" in capsys.readouterr().out
    assert seed_module.main([]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_cli_reports_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://orders:pw@127.0.0.1:1/nowhere")
    get_settings.cache_clear()
    assert seed_module.main([]) == 1
    error = capsys.readouterr().err
    assert "Cannot seed postgresql+psycopg2://orders:***@127.0.0.1:1/nowhere" in error
    assert "Connection refused" in error or "connection" in error.lower()


def test_cli_never_creates_tables_and_names_the_command_that_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no_schema.db'}")
    get_settings.cache_clear()
    assert seed_module.main([]) == 1
    error = capsys.readouterr().err
    assert "database schema is at nothing" in error and "run python -m db.migrate" in error
    engine = create_engine(f"sqlite:///{tmp_path / 'no_schema.db'}")
    assert inspect(engine).get_table_names() == []
    engine.dispose()
