"""Order-domain fixtures: a freshly seeded Northwind store on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.models import Draft, DraftLine, Order, OrderLine, Product
from db.seed import seed


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine=engine)
    return engine


@pytest.fixture
def session(seeded: Engine) -> Iterator[Session]:
    with Session(seeded, expire_on_commit=False) as session:
        yield session


def store_state(session: Session) -> dict[str, object]:
    """Row counts and every product's stock: what a refused request must leave unchanged."""
    session.expire_all()
    counts = {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Draft, DraftLine, Order, OrderLine)
    }
    stock = dict(session.execute(select(Product.product_id, Product.units_in_stock)).all())
    return {"counts": counts, "stock": stock}
