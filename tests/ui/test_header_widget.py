"""The order-header widgets: the one-line caption, and the editor in AppTest over a real
offline desk on a seeded store (a save, a refusal that changes nothing, clearing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from agents.desk import OrderDesk
from orders.drafts import set_header
from orders.header import utc_today
from orders.schemas import DraftView, OrderView
from rag.embeddings import MiniLMEmbeddingFunction
from tests.agents.conftest import open_desk
from ui.header import header_caption, header_changes

ORDER = "Alfreds Futterkiste wants 3 Queso Cabrales"


def order(**header: object) -> OrderView:
    return OrderView(
        order_id=1,
        customer_id="FRANS",
        customer_name="Franchi S.p.A.",
        status="confirmed",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        total=Decimal("0"),
        lines=[],
        **header,  # type: ignore[arg-type]
    )


def test_the_caption_is_one_line_with_every_field_set() -> None:
    view = order(
        customer_po="7781",
        requested_date=date(2026, 12, 20),
        ship_to="Lyon, France",
        notes="dock 3",
        ship_to_default="Torino, Italy",
    )
    assert header_caption(view) == (
        "PO 7781 · deliver by 20 Dec 2026 · ship to Lyon, France · note: dock 3"
    )


def test_the_caption_shows_the_address_on_file_and_folds_long_notes() -> None:
    assert header_caption(order(ship_to_default="Torino, Italy")) == "ship to Torino, Italy"
    assert header_caption(order()) == ""
    folded = header_caption(order(notes="back door\n\n  dock 3 " + "x" * 100))
    assert folded.startswith("note: back door dock 3 x") and len(folded) == len("note: ") + 80
    assert folded.endswith("…") and "\n" not in folded


def test_only_changed_fields_are_sent() -> None:
    draft = DraftView(
        draft_id=1,
        thread_id="t",
        customer_id=None,
        customer_name=None,
        status="open",
        lines=[],
        total=Decimal("0"),
        customer_po="A1",
        requested_date=date(2026, 1, 1),  # passed since: untouched, so never sent again
    )
    form = {"customer_po": " A1 ", "requested_date": date(2026, 1, 1), "ship_to": "", "notes": ""}
    assert header_changes(draft, form) == {}
    assert header_changes(draft, {**form, "customer_po": "", "notes": " dock 3 "}) == {
        "customer_po": None,
        "notes": "dock 3",
    }


# --- the editor -------------------------------------------------------------------------


@pytest.fixture
def desk(
    seeded: str, store_engine: Engine, embedder: MiniLMEmbeddingFunction
) -> Iterator[OrderDesk]:
    opened = open_desk(store_engine, embedder=embedder)
    yield opened
    opened.close()


@pytest.fixture
def drafted(desk: OrderDesk) -> str:
    thread_id = f"ui-{uuid.uuid4().hex[:12]}"
    assert desk.chat(thread_id, ORDER).draft is not None
    return thread_id


def editor_page(desk, thread_id):  # noqa: ANN001 - run as a script: no annotations to resolve
    from ui.header import header_editor

    header_editor(desk, thread_id, desk.current_draft(thread_id))


def app(desk: OrderDesk, thread_id: str) -> AppTest:
    page = AppTest.from_function(editor_page, args=(desk, thread_id), default_timeout=30)
    return page.run()


def test_a_new_draft_offers_an_empty_header_with_the_address_on_file(
    desk: OrderDesk, drafted: str
) -> None:
    page = app(desk, drafted)
    assert not page.exception
    assert page.expander[0].label == "Order header: PO, delivery date, ship-to"
    ship_to = page.text_input[1]
    assert ship_to.label == "Ship to" and ship_to.value == ""
    assert ship_to.placeholder == "Berlin, Germany (address on file)"
    assert page.date_input[0].value is None


def test_saving_sets_the_header_through_the_desk(desk: OrderDesk, drafted: str) -> None:
    when = utc_today() + timedelta(days=19)
    page = app(desk, drafted)
    page.text_input[0].input("7781")
    page.date_input[0].set_value(when)
    page.text_area[0].input("use the back door, dock 3")
    page.button[0].click().run()
    assert not page.exception and not page.error
    draft = desk.current_draft(drafted)
    assert (draft.customer_po, draft.requested_date, draft.ship_to, draft.notes) == (
        "7781",
        when,
        None,
        "use the back door, dock 3",
    )
    assert page.expander[0].label == (
        f"Order header: PO 7781 · deliver by {when.day} {when:%b %Y} · ship to Berlin, "
        "Germany · note: use the back door, dock 3"
    )
    assert page.text_input[0].value == "7781"  # the fields show the store
    page.date_input[0].set_value(None)
    page.button[0].click().run()
    assert desk.current_draft(drafted).requested_date is None


def test_a_refused_value_is_shown_and_changes_nothing(desk: OrderDesk, drafted: str) -> None:
    desk.set_header(drafted, customer_po="KEEP-1")
    page = app(desk, drafted)
    page.text_input[0].input("77\t81")  # a tab: no PO has one
    page.text_area[0].input("would be lost with it")
    page.button[0].click().run()
    assert [e.value for e in page.error] == [
        "Not changed: The PO number may not contain control characters such as tabs or line breaks."
    ]
    draft = desk.current_draft(drafted)
    assert (draft.customer_po, draft.notes) == ("KEEP-1", None)
    assert (page.text_input[0].value, page.text_area[0].value) == ("KEEP-1", "")
    page.run()  # the message was said once
    assert not page.error


def test_a_date_set_before_it_passed_does_not_block_other_edits(
    desk: OrderDesk, drafted: str, store_engine: Engine
) -> None:
    draft = desk.current_draft(drafted)
    with Session(store_engine) as session:  # set ten days ago for five days ago
        past = utc_today() - timedelta(days=5)
        set_header(session=session, draft_id=draft.draft_id, requested_date=past, today=past)
        session.commit()
    page = app(desk, drafted)
    assert page.date_input[0].value == past  # shown as stored, though it has passed
    page.text_input[1].input("Lyon store")
    page.text_input[0].input("")
    page.button[0].click().run()
    assert not page.error
    draft = desk.current_draft(drafted)
    assert (draft.ship_to, draft.requested_date, draft.ship_to_effective) == (
        "Lyon store",
        past,
        "Lyon store",
    )
    page.text_input[1].input("")  # empty again: the address on file
    page.button[0].click().run()
    assert desk.current_draft(drafted).ship_to_effective == "Berlin, Germany"
