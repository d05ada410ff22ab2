"""Order status, recent / last orders, listing, and cancellation that returns stock once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.models import OrderStatus
from orders.confirm import confirm_draft
from orders.drafts import create_draft
from orders.errors import AlreadyCancelled, NotYourOrder, OrderError, OrderNotFound
from orders.history import cancel_order, last_order, list_orders, order_status, recent_orders
from tests.orders.conftest import store_state
from tests.orders.test_confirm import stock


def place(session: Session, customer_id: str, key: str, **quantities: int) -> int:
    draft = create_draft(
        session=session,
        customer_id=customer_id,
        lines=[{"product_id": int(p[1:]), "quantity": q} for p, q in quantities.items()],
    )
    return confirm_draft(session=session, draft_id=draft.draft_id, idempotency_key=key).order_id


def test_status_of_a_historical_order(session: Session) -> None:
    order = order_status(session=session, order_id=10248)
    assert (order.customer_id, order.customer_name) == ("VINET", "Vins et alcools Chevalier")
    assert [(line.product_name, line.quantity) for line in order.lines] == [
        ("Queso Cabrales", 12),
        ("Singaporean Hokkien Fried Mee", 10),
        ("Mozzarella di Giovanni", 5),
    ]
    assert order.status == "confirmed" and order.total == Decimal("440.00")
    with pytest.raises(OrderNotFound):
        order_status(session=session, order_id=1)


def test_recent_and_last_orders(session: Session) -> None:
    history = recent_orders(session=session, customer_id="ALFKI", n=3)
    assert [order.order_id for order in history] == [11011, 10952, 10835]
    assert last_order(session=session, customer_id="ALFKI").order_id == 11011
    new_id = place(session, "ALFKI", "k", p11=2)
    assert last_order(session=session, customer_id="ALFKI").order_id == new_id
    cancel_order(session=session, order_id=new_id, customer_id="ALFKI")
    session.commit()
    assert recent_orders(session=session, customer_id="ALFKI", n=1)[0].status == "cancelled"
    assert last_order(session=session, customer_id="ALFKI").order_id == 11011
    assert last_order(session=session, customer_id="FISSA") is None  # never ordered


def test_list_orders_filters(session: Session) -> None:
    in_july_1996 = list_orders(
        session=session,
        since=datetime(1996, 7, 1, tzinfo=UTC),
        until=datetime(1996, 8, 1, tzinfo=UTC),
        limit=100,
    )
    assert len(in_july_1996) == 22
    assert all(order.created_at.month == 7 for order in in_july_1996)
    assert len(list_orders(session=session, customer_id="ALFKI", limit=100)) == 6
    assert list_orders(session=session, status=OrderStatus.CANCELLED) == []
    page = list_orders(session=session, limit=5, offset=5)
    assert len(page) == 5 and page[0].order_id == list_orders(session=session, limit=6)[5].order_id


def test_cancel_returns_stock_exactly_once(session: Session) -> None:
    order_id = place(session, "ALFKI", "k", p11=5, p14=7)
    assert (stock(session, 11), stock(session, 14)) == (17, 28)
    cancelled = cancel_order(session=session, order_id=order_id, customer_id="ALFKI")
    session.commit()
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert (stock(session, 11), stock(session, 14)) == (22, 35)
    with pytest.raises(AlreadyCancelled):
        cancel_order(session=session, order_id=order_id)
    session.rollback()
    assert (stock(session, 11), stock(session, 14)) == (22, 35)


@pytest.mark.parametrize(
    ("order_id", "customer_id", "error"),
    [(10248, "ALFKI", NotYourOrder), (99999, None, OrderNotFound)],
)
def test_refused_cancellations_change_nothing(
    session: Session, order_id: int, customer_id: str | None, error: type[OrderError]
) -> None:
    before = store_state(session)
    with pytest.raises(error):
        cancel_order(session=session, order_id=order_id, customer_id=customer_id)
    session.rollback()
    assert store_state(session) == before
    assert order_status(session=session, order_id=10248).status == "confirmed"


def test_concurrent_cancels_return_stock_once(seeded: Engine) -> None:
    with Session(seeded) as session:
        order_id = place(session, "ALFKI", "k", p11=5)
    start = threading.Barrier(10)

    def cancel(_: int) -> str:
        start.wait()
        with Session(seeded) as session:
            try:
                cancel_order(session=session, order_id=order_id)
                session.commit()
                return "cancelled"
            except AlreadyCancelled:
                session.rollback()
                return "already"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = sorted(pool.map(cancel, range(10)))
    assert results.count("cancelled") == 1
    with Session(seeded) as session:
        assert stock(session, 11) == 22
