"""Drafts: catalog prices only, line statuses, edits, and validation that changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from config import get_settings
from db.models import Customer
from orders.drafts import (
    add_to_line,
    check_quantity,
    create_draft,
    discard_draft,
    get_draft,
    open_draft_for_thread,
    remove_line,
    set_customer,
    set_line,
)
from orders.errors import (
    DraftAlreadyOpen,
    DraftClosed,
    InvalidLines,
    InvalidQuantity,
    OrderError,
    UnknownCustomer,
    UnknownProduct,
)
from orders.schemas import LineStatus
from tests.orders.conftest import store_state


def lines(draft: object) -> list[tuple[int, int, str]]:
    return [(line.product_id, line.quantity, line.status.value) for line in draft.lines]  # type: ignore[attr-defined]


def test_a_draft_is_priced_from_the_catalog(session: Session) -> None:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": 11, "quantity": 12}, {"product_id": 4, "quantity": 2}],
        thread_id="t-1",
    )
    assert draft.customer_name == "Alfreds Futterkiste"
    assert [(line.product_name, line.unit_price) for line in draft.lines] == [
        ("Queso Cabrales", Decimal("21.00")),
        ("Chef Anton's Cajun Seasoning", Decimal("22.00")),
    ]
    assert draft.total == Decimal("296.00")  # 12*21 + 2*22
    assert draft.confirmable


def test_a_typed_price_or_discount_is_ignored(session: Session) -> None:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": 11, "quantity": 2, "unit_price": "0.01", "discount": 1}],
    )
    assert draft.lines[0].unit_price == Decimal("21.00")
    assert draft.total == Decimal("42.00")


def test_line_statuses_say_what_cannot_be_sold(session: Session) -> None:
    # 1 Chai is discontinued; 31 Gorgonzola Telino has 0 in stock; 11 has 22.
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[
            {"product_id": 1, "quantity": 1},
            {"product_id": 31, "quantity": 5},
            {"product_id": 11, "quantity": 22},
            {"product_id": 72, "quantity": 100},
        ],
    )
    statuses = {line.product_id: (line.status, line.available) for line in draft.lines}
    assert statuses[1][0] is LineStatus.DISCONTINUED
    assert statuses[31] == (LineStatus.SHORT_STOCK, 0)
    assert statuses[11] == (LineStatus.OK, 22)
    assert statuses[72][0] is LineStatus.SHORT_STOCK
    assert not draft.confirmable
    assert {line.product_id for line in draft.problems} == {1, 31, 72}


def test_repeated_products_are_added_together(session: Session) -> None:
    draft = create_draft(
        session=session,
        customer_id=None,
        lines=[{"product_id": 14, "quantity": 12}, {"product_id": 14, "quantity": 3}],
    )
    assert lines(draft) == [(14, 15, "ok")]
    assert not draft.confirmable  # no customer yet


def test_edits_change_set_add_remove_and_keep_line_order(session: Session) -> None:
    draft = create_draft(
        session=session,
        customer_id=None,
        lines=[{"product_id": 14, "quantity": 20}, {"product_id": 10, "quantity": 2}],
        thread_id="t-edit",
    )
    draft_id = draft.draft_id
    set_line(session=session, draft_id=draft_id, product_id=14, quantity=30)
    add_to_line(session=session, draft_id=draft_id, product_id=74, quantity=2)
    add_to_line(session=session, draft_id=draft_id, product_id=74, quantity=1)
    remove_line(session=session, draft_id=draft_id, product_id=10)
    draft = set_customer(session=session, draft_id=draft_id, customer_id="BONAP")
    assert lines(draft) == [(14, 30, "ok"), (74, 3, "ok")]
    assert draft.customer_id == "BONAP"
    session.commit()
    assert open_draft_for_thread(session=session, thread_id="t-edit") == get_draft(
        session=session, draft_id=draft_id
    )
    assert open_draft_for_thread(session=session, thread_id="other") is None


@pytest.mark.parametrize(
    ("value", "expected"), [(12, 12), ("12", 12), (12.0, 12), (Decimal("3"), 3)]
)
def test_whole_quantities_are_accepted(value: object, expected: int) -> None:
    assert check_quantity(value, limit=100) == expected


@pytest.mark.parametrize(
    "value", [0, -5, 3.7, "a million", "", True, None, float("nan"), float("inf"), 1e12, "1e3"]
)
def test_other_quantities_are_refused(value: object) -> None:
    with pytest.raises(InvalidQuantity):
        check_quantity(value, limit=10_000)


def test_max_line_quantity_comes_from_settings(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_LINE_QUANTITY", "50")
    get_settings.cache_clear()
    with pytest.raises(InvalidQuantity, match="limit of 50"):
        create_draft(
            session=session, customer_id="ALFKI", lines=[{"product_id": 11, "quantity": 51}]
        )
    # and the sum of repeated lines is held to it too
    with pytest.raises(InvalidQuantity):
        create_draft(
            session=session,
            customer_id="ALFKI",
            lines=[{"product_id": 11, "quantity": 30}, {"product_id": 11, "quantity": 30}],
        )


@pytest.mark.parametrize(
    ("customer_id", "line", "error"),
    [
        ("NOPE1", {"product_id": 11, "quantity": 1}, UnknownCustomer),
        ("ALFKI", {"product_id": 999, "quantity": 1}, UnknownProduct),
        ("ALFKI", {"product_id": 11, "quantity": 0}, InvalidQuantity),
        ("ALFKI", {"product_id": 11, "quantity": -5}, InvalidQuantity),
        ("ALFKI", {"product_id": 11, "quantity": 3.7}, InvalidQuantity),
        ("ALFKI", {"product_id": 11}, InvalidLines),
        ("ALFKI", {"product_id": "'; DROP TABLE products; --", "quantity": 1}, InvalidLines),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    session: Session, customer_id: str, line: dict[str, object], error: type[OrderError]
) -> None:
    before = store_state(session)
    with pytest.raises(error) as caught:
        create_draft(session=session, customer_id=customer_id, lines=[line])
    session.rollback()
    assert str(caught.value)  # a message for people, not an empty error
    assert store_state(session) == before


def test_a_closed_draft_cannot_change(session: Session) -> None:
    draft = create_draft(
        session=session, customer_id="ALFKI", lines=[{"product_id": 11, "quantity": 1}]
    )
    discard_draft(session=session, draft_id=draft.draft_id)
    with pytest.raises(DraftClosed, match="discarded"):
        set_line(session=session, draft_id=draft.draft_id, product_id=11, quantity=3)
    with pytest.raises(InvalidLines):
        remove_line(
            session=session,
            draft_id=create_draft(session=session, customer_id="ALFKI").draft_id,
            product_id=11,
        )


def test_a_thread_never_has_two_open_drafts_even_when_two_sessions_race(seeded: Engine) -> None:
    """The database refuses a second open draft for one thread (two processes each saw
    none and started one); the refused session keeps its other work, and a discarded or
    confirmed draft does not count."""
    with Session(seeded) as first, Session(seeded) as second:
        assert open_draft_for_thread(session=first, thread_id="race") is None
        assert open_draft_for_thread(session=second, thread_id="race") is None
        create_draft(session=first, customer_id="ALFKI", thread_id="race")
        first.commit()
        second.get(Customer, "ALFKI").city = "Berlin-Mitte"  # the session's other work
        with pytest.raises(DraftAlreadyOpen, match="already has an open draft"):
            create_draft(session=second, customer_id="ANATR", thread_id="race")
        second.commit()
    with Session(seeded) as session:
        assert session.get(Customer, "ALFKI").city == "Berlin-Mitte"
        open_draft = open_draft_for_thread(session=session, thread_id="race")
        assert open_draft is not None and open_draft.customer_id == "ALFKI"
        discard_draft(session=session, draft_id=open_draft.draft_id)
        again = create_draft(session=session, customer_id="ANATR", thread_id="race")
        session.commit()
        assert open_draft_for_thread(session=session, thread_id="race") == again
