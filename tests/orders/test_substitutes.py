"""orders.drafts.swap_line and orders.substitutes.ship_available on both backends.

A swap puts the alternative in the line's place at the line's quantity, in one unit of
work, and refuses (changing nothing) a product that is not in the catalog, a closed
draft, the same product and a discontinued one; shipping what is available cuts a short
line to exactly what the draft may have (stock less other drafts' live holds) and takes
a line with none off.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db.models import DraftLine, Product
from orders import drafts
from orders.errors import DraftClosed, InvalidLines, UnknownProduct
from orders.substitutes import ship_available
from tests.orders.conftest import store_state

LINES = [
    {"product_id": 11, "quantity": 12},
    {"product_id": 5, "quantity": 10},  # Chef Anton's Gumbo Mix: discontinued
    {"product_id": 14, "quantity": 5},
]


def draft_with(session: Session, lines: list[dict[str, int]] = LINES) -> int:
    draft = drafts.create_draft(session=session, customer_id="ALFKI", lines=lines)
    session.commit()
    return draft.draft_id


def rows(session: Session, draft_id: int) -> list[tuple[int, int]]:
    """(product, quantity) in the draft's order, as stored."""
    session.expire_all()
    return [
        (line.product_id, line.quantity)
        for line in session.scalars(
            select(DraftLine).where(DraftLine.draft_id == draft_id).order_by(DraftLine.position)
        )
    ]


def test_swap_keeps_the_quantity_and_the_place(session: Session) -> None:
    draft_id = draft_with(session)
    view = drafts.swap_line(session=session, draft_id=draft_id, from_product_id=5, to_product_id=4)
    session.commit()
    assert [(line.product_id, line.quantity) for line in view.lines] == [(11, 12), (4, 10), (14, 5)]
    assert rows(session, draft_id) == [(11, 12), (4, 10), (14, 5)]
    assert all(line.status == "ok" for line in view.lines)


def test_swap_onto_a_line_already_there_adds_its_units(session: Session) -> None:
    draft_id = draft_with(session)
    drafts.swap_line(session=session, draft_id=draft_id, from_product_id=5, to_product_id=14)
    session.commit()
    assert rows(session, draft_id) == [(11, 12), (14, 15)]


@pytest.mark.parametrize(
    ("to_product_id", "error", "says"),
    [
        (999_999, UnknownProduct, "999999"),
        (5, InvalidLines, "itself"),
        (9, InvalidLines, "discontinued"),  # Mishi Kobe Niku
    ],
)
def test_a_refused_swap_changes_nothing(
    session: Session, to_product_id: int, error: type[Exception], says: str
) -> None:
    draft_id = draft_with(session)
    before = store_state(session), rows(session, draft_id)
    with pytest.raises(error, match=says):
        drafts.swap_line(
            session=session, draft_id=draft_id, from_product_id=5, to_product_id=to_product_id
        )
    session.rollback()
    assert (store_state(session), rows(session, draft_id)) == before


def test_swap_refuses_a_line_not_on_the_draft_and_a_closed_draft(session: Session) -> None:
    draft_id = draft_with(session)
    with pytest.raises(InvalidLines, match="not on draft"):
        drafts.swap_line(session=session, draft_id=draft_id, from_product_id=77, to_product_id=4)
    session.rollback()
    drafts.discard_draft(session=session, draft_id=draft_id)
    session.commit()
    before = rows(session, draft_id)
    with pytest.raises(DraftClosed, match="discarded"):
        drafts.swap_line(session=session, draft_id=draft_id, from_product_id=5, to_product_id=4)
    session.rollback()
    assert rows(session, draft_id) == before == [(11, 12), (5, 10), (14, 5)]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stock=st.integers(min_value=0, max_value=30),
    held=st.integers(min_value=0, max_value=30),
    asked=st.integers(min_value=1, max_value=40),
)
def test_ship_available_sets_exactly_what_is_available(
    seeded: Engine, stock: int, held: int, asked: int
) -> None:
    with seeded.begin() as connection:
        connection.execute(
            update(Product).where(Product.product_id == 14).values(units_in_stock=stock)
        )
    with Session(seeded) as session:
        other = drafts.create_draft(
            session=session, customer_id="ERNSH", lines=[{"product_id": 14, "quantity": held or 1}]
        )
        if not held:
            drafts.discard_draft(session=session, draft_id=other.draft_id)
        mine = drafts.create_draft(
            session=session, customer_id="ALFKI", lines=[{"product_id": 14, "quantity": asked}]
        )
        session.commit()
        line = mine.lines[0]
        free = max(stock - min(held, stock), 0)
        assert line.available == free
        view, done = ship_available(session=session, draft_id=mine.draft_id)
        session.commit()
        if asked <= free:  # not short: left as it is
            assert done == [] and rows(session, mine.draft_id) == [(14, asked)]
        elif free:
            assert rows(session, mine.draft_id) == [(14, free)]
            assert view.lines[0].status == "ok" and done[0].quantity == free
        else:
            assert rows(session, mine.draft_id) == [] and done[0].removed
        for draft_id in (mine.draft_id, other.draft_id):
            if drafts.get_draft(session=session, draft_id=draft_id).status == "open":
                drafts.discard_draft(session=session, draft_id=draft_id)
        session.commit()


def test_ship_available_refuses_a_product_not_on_the_draft(session: Session) -> None:
    draft_id = draft_with(session)
    before = rows(session, draft_id)
    with pytest.raises(InvalidLines, match="not on draft"):
        ship_available(session=session, draft_id=draft_id, product_ids=[77])
    session.rollback()
    assert rows(session, draft_id) == before
