"""What a customer usually orders, on SQLite and PostgreSQL, checked against the history."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.models import Order, OrderLine
from db.seed import seed
from memory.habits import usual_products


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
