"""Confirmation: catalog prices, stock taken once, idempotency, and no oversell under races."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from db.engine import session_scope
from db.models import Draft, DraftStatus, Order, OrderLine, Product
from orders.confirm import confirm_draft
from orders.drafts import create_draft, remove_line
from orders.errors import (
    DraftClosed,
    EmptyDraft,
    IdempotencyConflict,
    InvalidLines,
    OrderError,
    Unavailable,
)
from tests.orders.conftest import store_state


def stock(session: Session, product_id: int) -> int:
    session.expire_all()
    return session.get(Product, product_id).units_in_stock


def new_draft(session: Session, customer_id: str | None = "ALFKI", **quantities: int) -> int:
    draft = create_draft(
        session=session,
        customer_id=customer_id,
        lines=[{"product_id": int(pid[1:]), "quantity": qty} for pid, qty in quantities.items()],
    )
    session.commit()
    return draft.draft_id


def test_confirm_sells_at_catalog_prices_and_takes_stock(session: Session) -> None:
    draft_id = new_draft(session, p11=12, p4=2)
    order = confirm_draft(
        session=session, draft_id=draft_id, idempotency_key="k1", created_by="amy"
    )
    assert order.order_id > 11077
    assert [(line.product_id, line.quantity, line.unit_price) for line in order.lines] == [
        (4, 2, Decimal("22.00")),
        (11, 12, Decimal("21.00")),
    ]
    assert order.total == Decimal("296.00")
    assert order.created_by == "amy"
    assert (stock(session, 11), stock(session, 4)) == (22 - 12, 53 - 2)
    draft = session.get(Draft, draft_id)
    assert (draft.status, draft.order_id) == (DraftStatus.CONFIRMED, order.order_id)


def test_price_is_read_again_at_confirmation(session: Session) -> None:
    draft_id = new_draft(session, p11=1)
    session.execute(update(Product).where(Product.product_id == 11).values(unit_price=25))
    session.commit()
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="k-price")
    assert order.lines[0].unit_price == Decimal("25.00")


def test_the_same_key_twice_gives_one_order(session: Session) -> None:
    draft_id = new_draft(session, p11=5)
    first = confirm_draft(session=session, draft_id=draft_id, idempotency_key="double-click")
    second = confirm_draft(session=session, draft_id=draft_id, idempotency_key="double-click")
    assert first == second
    assert stock(session, 11) == 22 - 5
    assert session.scalar(select(func.count()).where(Order.idempotency_key == "double-click")) == 1


def test_a_confirmed_draft_cannot_be_confirmed_again_with_another_key(session: Session) -> None:
    draft_id = new_draft(session, p11=5)
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="a")
    with pytest.raises(DraftClosed, match=f"order {order.order_id}"):
        confirm_draft(session=session, draft_id=draft_id, idempotency_key="b")
    assert stock(session, 11) == 22 - 5


def test_a_key_cannot_confirm_two_drafts(session: Session) -> None:
    confirm_draft(session=session, draft_id=new_draft(session, p11=1), idempotency_key="same")
    other = new_draft(session, p14=1)
    with pytest.raises(IdempotencyConflict):
        confirm_draft(session=session, draft_id=other, idempotency_key="same")
    assert session.get(Draft, other).status is DraftStatus.OPEN


@pytest.mark.parametrize(
    ("quantities", "error", "message"),
    [
        ({"p1": 1, "p11": 2}, Unavailable, "Chai is discontinued"),
        ({"p11": 2, "p31": 5}, Unavailable, "Gorgonzola Telino: 0 available, 5 asked"),
        ({"p11": 23}, Unavailable, "Queso Cabrales: 22 available, 23 asked"),
    ],
)
def test_unsellable_lines_refuse_the_whole_order_and_change_nothing(
    session: Session, quantities: dict[str, int], error: type[OrderError], message: str
) -> None:
    draft_id = new_draft(session, **quantities)
    before = store_state(session)
    with pytest.raises(error, match=message):
        confirm_draft(session=session, draft_id=draft_id, idempotency_key="k")
    assert store_state(session) == before
    assert session.get(Draft, draft_id).status is DraftStatus.OPEN  # fix it and try again


def test_empty_draft_or_no_customer_is_refused(session: Session) -> None:
    no_customer = new_draft(session, customer_id=None, p11=1)
    with pytest.raises(EmptyDraft, match="no customer"):
        confirm_draft(session=session, draft_id=no_customer, idempotency_key="k1")
    empty = new_draft(session, p11=1)
    remove_line(session=session, draft_id=empty, product_id=11)
    session.commit()
    before = store_state(session)
    with pytest.raises(EmptyDraft, match="no lines"):
        confirm_draft(session=session, draft_id=empty, idempotency_key="k2")
    assert store_state(session) == before


def test_a_key_is_required(session: Session) -> None:
    with pytest.raises(InvalidLines):
        confirm_draft(session=session, draft_id=new_draft(session, p11=1), idempotency_key="")


def test_concurrent_retries_with_one_key_commit_once(seeded: Engine) -> None:
    with Session(seeded) as session:
        draft_id = new_draft(session, p11=4, p14=3)
    start = threading.Barrier(8)

    def click(_: int) -> int:
        start.wait()
        with Session(seeded) as session:
            return confirm_draft(
                session=session, draft_id=draft_id, idempotency_key="race"
            ).order_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        order_ids = set(pool.map(click, range(8)))
    assert len(order_ids) == 1
    with Session(seeded) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Order).where(Order.idempotency_key == "race")
            )
            == 1
        )
        assert (stock(session, 11), stock(session, 14)) == (22 - 4, 35 - 3)


def test_50_racing_confirmations_never_oversell_or_lose_an_order(seeded: Engine) -> None:
    """50 threads race for Queso Cabrales (22 units) and Tofu (35), 1-3 of each per order."""
    with Session(seeded) as session:
        initial = {11: stock(session, 11), 14: stock(session, 14)}
        drafts = [new_draft(session, p11=1 + n % 3, p14=1 + (n * 7) % 3) for n in range(50)]
    start = threading.Barrier(50)

    def confirm(draft_id: int) -> tuple[str, int | str]:
        start.wait()
        try:
            with session_scope(seeded) as session:
                order = confirm_draft(
                    session=session, draft_id=draft_id, idempotency_key=str(uuid.uuid4())
                )
            return "ok", order.order_id
        except Unavailable as error:
            return "refused", str(error)

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(confirm, drafts))

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds["ok"] + kinds["refused"] == 50
    assert kinds["ok"] > 0 and kinds["refused"] > 0  # the race was real: stock ran out
    assert all("Not enough stock" in str(detail) for kind, detail in outcomes if kind == "refused")
    told_ok = sorted(order_id for kind, order_id in outcomes if kind == "ok")
    with Session(seeded) as session:
        new_orders = sorted(session.scalars(select(Order.order_id).where(Order.order_id > 11077)))
        assert new_orders == told_ok  # none lost, none duplicated, none unreported
        sold = dict(
            session.execute(
                select(OrderLine.product_id, func.sum(OrderLine.quantity))
                .where(OrderLine.order_id > 11077)
                .group_by(OrderLine.product_id)
            ).all()
        )
        for product_id, units in initial.items():
            final = stock(session, product_id)
            assert final >= 0
            assert units == final + sold.get(product_id, 0)
