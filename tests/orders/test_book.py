"""The order book (what pages and the API read) over the seeded Northwind store, on both
backends: a page of orders with its total, one order, today's orders, the data's own
range, orders per month with empty months, top products by units, customers, products
by category and stock, and the database health line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.orm import Session

from db.models import Order, OrderLine, OrderStatus
from orders.book import ORDER_STATUSES, OrderBook
from orders.errors import OrderNotFound
from orders.history import cancel_order


@pytest.fixture
def book(seeded: Engine) -> OrderBook:
    return OrderBook(seeded)


def test_a_page_of_orders_knows_the_total(book: OrderBook) -> None:
    second = book.orders(limit=50, offset=50)
    assert (second.total, len(second.orders), second.first, second.last) == (830, 50, 51, 100)
    assert (second.pages, second.next_offset) == (17, 100)
    last = book.orders(limit=50, offset=800)
    assert (len(last.orders), last.first, last.last, last.next_offset) == (30, 801, 830, None)
    created = [o.created_at for o in book.orders(limit=100).orders]
    assert created == sorted(created, reverse=True)
    beyond = book.orders(offset=5_000)
    assert (beyond.orders, beyond.total, beyond.first) == ([], 830, 0)


def test_filters_apply_to_the_page_and_its_count(book: OrderBook, seeded: Engine) -> None:
    alfki = book.orders(customer_id="ALFKI")
    assert alfki.total == 6 and {o.customer_id for o in alfki.orders} == {"ALFKI"}
    july = book.orders(
        since=datetime(1996, 7, 1, tzinfo=UTC), until=datetime(1996, 8, 1, tzinfo=UTC)
    )
    assert july.total == len(july.orders) == 22
    assert book.orders(status="cancelled").total == 0
    with Session(seeded) as session:
        cancel_order(session=session, order_id=10248)
        session.commit()
    cancelled = book.orders(status=OrderStatus.CANCELLED)
    assert [o.order_id for o in cancelled.orders] == [10248] and cancelled.total == 1
    assert book.orders(status="confirmed").total == 829
    assert ORDER_STATUSES == ("confirmed", "cancelled")
    with pytest.raises(ValueError):
        book.orders(status="shipped")


def test_one_order_and_an_unknown_one(book: OrderBook) -> None:
    order = book.order(10248)
    assert (order.customer_name, order.total) == ("Vins et alcools Chevalier", Decimal("440.00"))
    assert [line.product_id for line in order.lines] == [11, 42, 72]
    with pytest.raises(OrderNotFound):
        book.order(1)


def test_todays_orders_newest_first(book: OrderBook, seeded: Engine) -> None:
    assert book.todays_orders() == []  # the history ends in 1998
    on_the_4th = book.todays_orders(now=datetime(1996, 7, 4, 18, tzinfo=UTC))
    assert [o.order_id for o in on_the_4th] == [10248]
    now = datetime.now(UTC)
    with Session(seeded) as session:
        session.add_all(
            [
                Order(customer_id="ALFKI", created_at=now - timedelta(days=1), total=1),
                Order(customer_id="ALFKI", created_at=now - timedelta(seconds=2), total=2),
                Order(customer_id="BONAP", created_at=now - timedelta(seconds=1), total=3),
            ]
        )
        session.commit()
    today = book.todays_orders(now=now)
    if now.hour == 0 and now.minute == 0 and now.second < 3:  # the test ran across midnight
        pytest.skip("one of today's orders was made yesterday")
    assert [o.customer_id for o in today] == ["BONAP", "ALFKI"]


def test_the_datas_own_range(book: OrderBook, engine: Engine) -> None:
    assert book.order_span() == (date(1996, 7, 4), date(1998, 5, 6))
    assert OrderBook(_empty(engine)).order_span() is None


def _empty(engine: Engine) -> Engine:
    with Session(engine) as session:
        session.execute(OrderLine.__table__.delete())
        session.execute(Order.__table__.delete())
        session.commit()
    return engine


def test_orders_per_month_over_the_datas_range_with_empty_months(
    book: OrderBook, seeded: Engine
) -> None:
    months = book.orders_per_month()
    assert (months[0].month, months[0].orders) == (date(1996, 7, 1), 22)
    assert months[0].revenue == Decimal("27861.89")
    assert months[-1].month == date(1998, 5, 1) and len(months) == 23
    assert sum(m.orders for m in months) == 830
    # Every order of August 1996 cancelled: the month stays, with nothing in it.
    with Session(seeded) as session:
        session.execute(
            update(Order)
            .where(Order.created_at >= datetime(1996, 8, 1, tzinfo=UTC))
            .where(Order.created_at < datetime(1996, 9, 1, tzinfo=UTC))
            .values(status=OrderStatus.CANCELLED)
        )
        session.commit()
    months = book.orders_per_month()
    august = months[1]
    assert (august.month, august.orders, august.revenue) == (date(1996, 8, 1), 0, Decimal("0.00"))
    assert len(months) == 23 and sum(m.orders for m in months) == 830 - 25


def test_months_are_utc_whatever_the_sessions_time_zone(db_url: str, seeded: Engine) -> None:
    # Northwind's orders are placed at midnight UTC: read in Los Angeles time, the first
    # order of each month would fall in the month before.
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no session time zone")
    west = create_engine(db_url, connect_args={"options": "-c timezone=America/Los_Angeles"})
    try:
        months = OrderBook(west).orders_per_month()
        assert (months[0].month, months[0].orders) == (date(1996, 7, 1), 22)
        assert OrderBook(west).order_span() == (date(1996, 7, 4), date(1998, 5, 6))
    finally:
        west.dispose()


def test_top_products_by_units_without_cancelled_orders(book: OrderBook, seeded: Engine) -> None:
    top = book.top_products(5)
    assert [p.units for p in top] == sorted((p.units for p in top), reverse=True)
    assert (top[0].name, top[0].units) == ("Camembert Pierrot", 1577)
    with Session(seeded) as session:
        in_order = session.scalars(
            select(OrderLine.order_id).where(OrderLine.product_id == top[0].product_id)
        ).first()
        quantity = session.scalar(
            select(OrderLine.quantity).where(
                OrderLine.order_id == in_order, OrderLine.product_id == top[0].product_id
            )
        )
        cancel_order(session=session, order_id=in_order)
        session.commit()
    after = {p.product_id: p.units for p in book.top_products(77)}
    assert after[top[0].product_id] == 1577 - quantity


def test_customers_and_products(book: OrderBook) -> None:
    customers = book.customers()
    assert len(customers) == 91
    assert [c.name for c in customers] == sorted(c.name for c in customers)
    assert book.customer_name("ALFKI") == "Alfreds Futterkiste"
    assert book.customer_name("NOONE") is None
    categories = book.categories()
    assert len(categories) == 8 and "Seafood" in categories
    assert len(book.products()) == 77
    seafood = book.products(category="Seafood")
    assert seafood and {p.category for p in seafood} == {"Seafood"}
    in_stock = book.products(in_stock_only=True)
    assert in_stock and all(p.orderable for p in in_stock)
    left_out = {p.product_id for p in book.products()} - {p.product_id for p in in_stock}
    assert left_out and all(not p.orderable for p in book.products() if p.product_id in left_out)
    both = book.products(category="Seafood", in_stock_only=True)
    assert {p.product_id for p in both} == {p.product_id for p in seafood if p.orderable}


def test_ping_says_up(book: OrderBook) -> None:
    assert book.ping() == (True, "database up")


def test_ping_says_down_with_the_reason() -> None:
    nowhere = create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    try:
        ok, line = OrderBook(nowhere).ping()
    finally:
        nowhere.dispose()
    assert not ok and line.startswith("database down: ") and "Traceback" not in line
    assert len(line) <= len("database down: ") + 120
