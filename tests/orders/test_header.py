"""The order header: checks with clear messages, set_header, confirmation and the filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config import get_settings
from db.models import Draft, Order
from orders.book import OrderBook
from orders.confirm import confirm_draft
from orders.drafts import create_draft, get_draft, set_header
from orders.errors import DraftClosed, DraftNotFound, InvalidHeader
from orders.header import OrderHeader, default_ship_to, parse_header, utc_today
from orders.history import count_orders, list_orders, order_status
from tests.orders.conftest import store_state

TODAY = date(2026, 12, 1)


# --- checks (no database) ---------------------------------------------------------------


def test_a_po_is_trimmed_and_blank_text_means_none() -> None:
    header = parse_header(customer_po="  PO-7781 ", ship_to="\tLyon store \n", notes="   ")
    assert header == OrderHeader(customer_po="PO-7781", ship_to="Lyon store")
    assert header.given() == {"customer_po": "PO-7781", "ship_to": "Lyon store"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"customer_po": "x" * 51}, "The PO number is 51 characters long; at most 50 fit."),
        ({"customer_po": "77\t81"}, "The PO number may not contain control characters"),
        ({"customer_po": "77\n81"}, "The PO number may not contain control characters"),
        ({"customer_po": "77\x0081"}, "The PO number may not contain control characters"),
        ({"customer_po": 7781}, "The PO number input should be a valid string"),
        ({"ship_to": "x" * 301}, "The ship-to is 301 characters long; at most 300 fit."),
        ({"ship_to": "Lyon\x00"}, "The ship-to may not contain control characters."),
        ({"notes": "n" * 1001}, "The notes is 1,001 characters long; at most 1,000 fit."),
        ({"notes": "dock 3\x1b"}, "The notes may not contain control characters."),
        ({"requested_date": "by Friday"}, "must be a calendar date such as 2026-12-20"),
        ({"requested_date": 1_797_000_000}, "must be a calendar date"),
        ({"requested_date": datetime(2026, 12, 20, 9)}, "must be a calendar date"),
        ({"colour": "red"}, "'colour' is not a header field"),
    ],
)
def test_refusals_name_the_field_and_why(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidHeader) as refused:
        parse_header(today=TODAY, **fields)
    assert message in str(refused.value)


def test_the_boundaries_of_each_length_are_accepted() -> None:
    header = parse_header(customer_po="x" * 50, ship_to="s" * 300, notes="line 1\n\tline 2" * 70)
    assert (len(header.customer_po or ""), len(header.ship_to or "")) == (50, 300)
    assert parse_header(notes="n" * 1000).notes == "n" * 1000


def test_a_requested_date_from_today_to_the_limit_is_accepted() -> None:
    latest = TODAY + timedelta(days=365)
    assert parse_header(today=TODAY, requested_date=TODAY).requested_date == TODAY
    assert parse_header(today=TODAY, requested_date=latest).requested_date == latest
    assert parse_header(today=TODAY, requested_date="2026-12-20").requested_date == date(
        2026, 12, 20
    )


def test_a_date_in_the_past_or_too_far_ahead_is_refused() -> None:
    with pytest.raises(InvalidHeader) as past:
        parse_header(today=TODAY, requested_date=TODAY - timedelta(days=1))
    assert str(past.value) == (
        "The requested delivery date 30 Nov 2026 is in the past (today is 1 Dec 2026)."
    )
    with pytest.raises(InvalidHeader) as far:
        parse_header(today=TODAY, requested_date=TODAY + timedelta(days=366))
    assert "2 Dec 2027 is more than 365 days ahead (the latest is 1 Dec 2027" in str(far.value)


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_DELIVERY_DAYS_AHEAD", "30")
    get_settings.cache_clear()
    assert parse_header(today=TODAY, requested_date=TODAY + timedelta(days=30)).requested_date
    with pytest.raises(InvalidHeader, match="more than 30 days ahead"):
        parse_header(today=TODAY, requested_date=TODAY + timedelta(days=31))


def test_today_defaults_to_the_utc_date() -> None:
    assert utc_today() == datetime.now(UTC).date()
    with pytest.raises(InvalidHeader, match="in the past"):
        parse_header(requested_date=utc_today() - timedelta(days=1))
    assert parse_header(requested_date=utc_today()).requested_date == utc_today()


def test_every_fault_is_named_at_once() -> None:
    with pytest.raises(InvalidHeader) as refused:
        parse_header(today=TODAY, customer_po="x" * 60, requested_date=date(2020, 1, 1))
    assert "PO number is 60 characters" in str(refused.value)
    assert "1 Jan 2020 is in the past" in str(refused.value)


def test_the_default_ship_to_is_the_address_on_file() -> None:
    assert default_ship_to("Lyon", "France") == "Lyon, France"
    assert default_ship_to(None, " France ") == "France"
    assert default_ship_to("", None) is None


# --- drafts -----------------------------------------------------------------------------


def _draft(session: Session, customer_id: str | None = "ALFKI", **kwargs: object) -> int:
    draft = create_draft(
        session=session,
        customer_id=customer_id,
        lines=[{"product_id": 11, "quantity": 2}],
        **kwargs,  # type: ignore[arg-type]
    )
    session.commit()
    return draft.draft_id


def test_set_header_stores_the_fields_and_the_view_shows_them(session: Session) -> None:
    draft_id = _draft(session)
    session.expire_all()  # as stored (SQLite hands back naive UTC)
    before = session.get(Draft, draft_id).updated_at
    view = set_header(
        session=session,
        draft_id=draft_id,
        customer_po=" 7781 ",
        requested_date=date(2026, 12, 20),
        notes="use the back door, dock 3",
        today=TODAY,
    )
    session.commit()
    assert (view.customer_po, view.requested_date, view.notes) == (
        "7781",
        date(2026, 12, 20),
        "use the back door, dock 3",
    )
    session.expire_all()
    again = get_draft(session=session, draft_id=draft_id)
    assert again == view
    assert session.get(Draft, draft_id).updated_at > before


def test_ship_to_defaults_to_the_customer_address_and_the_column_stays_empty(
    session: Session,
) -> None:
    draft_id = _draft(session)  # ALFKI: Alfreds Futterkiste, Berlin, Germany
    view = get_draft(session=session, draft_id=draft_id)
    assert (view.ship_to, view.ship_to_default, view.ship_to_effective) == (
        None,
        "Berlin, Germany",
        "Berlin, Germany",
    )
    view = set_header(session=session, draft_id=draft_id, ship_to="Lyon store, 3 rue X")
    assert view.ship_to_effective == "Lyon store, 3 rue X"
    assert view.model_dump()["ship_to_effective"] == "Lyon store, 3 rue X"
    view = set_header(session=session, draft_id=draft_id, ship_to=None)
    session.commit()
    assert view.ship_to_effective == "Berlin, Germany"
    assert session.scalar(select(Draft.ship_to).where(Draft.draft_id == draft_id)) is None


def test_a_draft_without_a_customer_has_no_default_ship_to(session: Session) -> None:
    draft_id = _draft(session, customer_id=None)
    view = set_header(session=session, draft_id=draft_id, customer_po="A1")
    assert (view.customer_po, view.ship_to_effective) == ("A1", None)


def test_unset_fields_stay_and_none_or_blank_clears(session: Session) -> None:
    draft_id = _draft(session)
    set_header(session=session, draft_id=draft_id, customer_po="7781", notes="dock 3")
    view = set_header(session=session, draft_id=draft_id, requested_date="2026-12-24", today=TODAY)
    assert (view.customer_po, view.notes, view.requested_date) == (
        "7781",
        "dock 3",
        date(2026, 12, 24),
    )
    view = set_header(session=session, draft_id=draft_id, customer_po=None, notes="  ")
    assert (view.customer_po, view.notes, view.requested_date) == (None, None, date(2026, 12, 24))


def test_a_refused_header_changes_nothing(session: Session) -> None:
    draft_id = _draft(session)
    set_header(session=session, draft_id=draft_id, customer_po="7781")
    session.commit()
    session.expire_all()
    before = get_draft(session=session, draft_id=draft_id)
    stamp = session.get(Draft, draft_id).updated_at
    with pytest.raises(InvalidHeader, match="in the past"):
        set_header(
            session=session,
            draft_id=draft_id,
            customer_po="NEW-1",  # valid, but the date is not: neither is written
            requested_date=TODAY - timedelta(days=1),
            today=TODAY,
        )
    session.commit()
    session.expire_all()
    assert get_draft(session=session, draft_id=draft_id) == before
    assert session.get(Draft, draft_id).updated_at == stamp


def test_a_closed_or_missing_draft_is_refused(session: Session) -> None:
    draft_id = _draft(session)
    confirm_draft(session=session, draft_id=draft_id, idempotency_key="h-closed")
    with pytest.raises(DraftClosed):
        set_header(session=session, draft_id=draft_id, customer_po="late")
    with pytest.raises(DraftNotFound):
        set_header(session=session, draft_id=999_999, customer_po="x")


def test_create_draft_takes_a_header_and_checks_it_again(session: Session) -> None:
    header = parse_header(today=TODAY, customer_po="PO 1", requested_date=date(2026, 12, 3))
    view = create_draft(session=session, customer_id="ALFKI", lines=[], header=header, today=TODAY)
    assert (view.customer_po, view.requested_date) == ("PO 1", date(2026, 12, 3))
    session.commit()
    before = store_state(session)
    # Checked on 1 Dec, used on 4 Dec: the date has passed, so the draft is refused.
    with pytest.raises(InvalidHeader, match="3 Dec 2026 is in the past"):
        create_draft(
            session=session,
            customer_id="ALFKI",
            header=header,
            today=date(2026, 12, 4),
        )
    forged = OrderHeader.model_construct(customer_po="x" * 80)
    with pytest.raises(InvalidHeader, match="PO number is 80 characters"):
        create_draft(session=session, customer_id="ALFKI", header=forged)
    session.rollback()
    assert store_state(session) == before


# --- confirmation and orders ------------------------------------------------------------


def test_confirmation_copies_the_header_onto_the_order(session: Session) -> None:
    when = utc_today() + timedelta(days=14)
    draft_id = _draft(session)
    set_header(
        session=session,
        draft_id=draft_id,
        customer_po="AB-7781",
        requested_date=when,
        ship_to="Lyon store",
        notes="dock 3",
    )
    session.commit()
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="h-copy")
    assert (order.customer_po, order.requested_date, order.ship_to, order.notes) == (
        "AB-7781",
        when,
        "Lyon store",
        "dock 3",
    )
    assert (order.ship_to_default, order.ship_to_effective) == ("Berlin, Germany", "Lyon store")
    assert order_status(session=session, order_id=order.order_id) == order
    row = session.get(Order, order.order_id)
    assert (row.customer_po, row.requested_date, row.notes) == ("AB-7781", when, "dock 3")
    # A retry returns the same order, header and all.
    again = confirm_draft(session=session, draft_id=draft_id, idempotency_key="h-copy")
    assert again == order


def test_a_draft_without_a_header_confirms_as_before(session: Session) -> None:
    draft_id = _draft(session)
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="h-none")
    assert (order.customer_po, order.requested_date, order.ship_to, order.notes) == (None,) * 4
    assert order.ship_to_effective == "Berlin, Germany"
    assert order_status(session=session, order_id=order.order_id) == order


def test_history_orders_have_no_header_but_a_ship_to(session: Session) -> None:
    order = order_status(session=session, order_id=10248)  # Northwind's first: VINET, Reims
    assert (order.customer_po, order.ship_to_effective) == (None, "Reims, France")


def _order(session: Session, key: str, **header: object) -> int:
    draft_id = _draft(session)
    set_header(session=session, draft_id=draft_id, **header)  # type: ignore[arg-type]
    session.commit()
    return confirm_draft(session=session, draft_id=draft_id, idempotency_key=key).order_id


def test_orders_are_found_by_po_exactly_in_any_case(session: Session, seeded: Engine) -> None:
    wanted = _order(session, "po-1", customer_po="AB-7781")
    _order(session, "po-2", customer_po="AB-77810")
    _order(session, "po-3")
    found = list_orders(session=session, po=" ab-7781 ")
    assert [order.order_id for order in found] == [wanted]
    assert count_orders(session=session, po="AB-7781") == 1
    assert count_orders(session=session, po="AB-778") == 0
    assert count_orders(session=session, po="ab\x007781") == 0  # no match, no driver error
    assert count_orders(session=session, po="  ") == count_orders(session=session)
    page = OrderBook(seeded).orders(po="ab-7781", customer_id="ALFKI")
    assert (page.total, [order.order_id for order in page.orders]) == (1, [wanted])
    assert OrderBook(seeded).orders(po="ab-7781", customer_id="VINET").total == 0


def test_orders_are_found_by_requested_delivery_date(session: Session, seeded: Engine) -> None:
    start = utc_today() + timedelta(days=10)
    early = _order(session, "d-1", requested_date=start)
    late = _order(session, "d-2", requested_date=start + timedelta(days=5))
    _order(session, "d-3")  # no date: never matches a date filter

    def found(**filters: date) -> list[int]:
        return [order.order_id for order in OrderBook(seeded).orders(**filters).orders]

    assert found(delivery_from=start) == [late, early]
    assert found(delivery_from=start + timedelta(days=1)) == [late]
    assert found(delivery_until=start) == [early]
    assert found(delivery_from=start, delivery_until=start + timedelta(days=4)) == [early]
    assert count_orders(session=session, delivery_until=start - timedelta(days=1)) == 0
