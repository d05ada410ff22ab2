"""What a customer usually orders, on SQLite and PostgreSQL, checked against the history;
and the summary text an order is remembered by."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.models import Order, OrderLine
from db.seed import seed
from memory.habits import order_summary, usual_products
from memory.store import MAX_TEXT_CHARS, check_text
from orders.schemas import OrderLineView, OrderView


def history(engine: Engine, customer_id: str) -> list[tuple[int, int]]:
    with Session(engine) as session:
        return list(
            session.execute(
                select(OrderLine.product_id, OrderLine.quantity)
                .join(Order)
                .where(Order.customer_id == customer_id)
            ).all()
        )


def test_usual_products_are_the_most_frequent_with_their_median_quantity(
    engine: Engine,
) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        habits = usual_products(session=session, customer_id="ERNSH", top=5)
    lines = history(engine, "ERNSH")
    counts = Counter(product for product, _ in lines)
    assert habits.orders == 30
    assert [u.orders for u in habits.usual] == sorted(
        (c for c in counts.values() if c >= 2), reverse=True
    )[:5]
    for usual in habits.usual:
        assert usual.orders == counts[usual.product_id]
        quantities = sorted(q for p, q in lines if p == usual.product_id)
        assert min(quantities) <= usual.quantity <= max(quantities)
    # Ernst Handel's four-time products include Guaraná Fantástica (24, discontinued).
    assert {u.product_id: u.discontinued for u in habits.usual}[24] is True


def test_a_customer_without_repeat_products_has_no_usual(engine: Engine) -> None:
    seed(engine=engine)
    with Session(engine) as session:
        habits = usual_products(session=session, customer_id="CENTC")
        nobody = usual_products(session=session, customer_id="ZZZZZ")
    assert habits.orders == 1 and habits.usual == []
    assert nobody.orders == 0 and nobody.usual == []


def test_a_summary_says_cancelled_and_always_fits_one_memory() -> None:
    line = OrderLineView(
        product_id=11,
        product_name="Queso Cabrales",
        quantity=12,
        unit_price=Decimal("21.00"),
        discount=Decimal("0"),
        line_total=Decimal("252.00"),
    )
    order = OrderView(
        order_id=11080,
        customer_id="ALFKI",
        customer_name="Alfreds Futterkiste",
        status="confirmed",
        created_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
        total=Decimal("252.00"),
        lines=[line],
    )
    assert order_summary(order) == "Order 11080 on 2026-11-30: 12 × Queso Cabrales; total $252.00"
    cancelled = order.model_copy(
        update={"status": "cancelled", "cancelled_at": datetime(2026, 12, 1, tzinfo=UTC)}
    )
    assert order_summary(cancelled) == (
        "Order 11080 on 2026-11-30 (cancelled 2026-12-01): 12 × Queso Cabrales; total $252.00"
    )
    big = order.model_copy(update={"lines": [line] * 80})  # 80 lines: ~1,500 characters
    text = order_summary(big)
    assert len(text) <= MAX_TEXT_CHARS and text.endswith("more lines; total $252.00")
    shown = text.count("Queso Cabrales")
    assert f" and {80 - shown} more lines" in text
    assert check_text(text) == text  # the store takes it as it is
