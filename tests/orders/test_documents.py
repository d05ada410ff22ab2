"""Order confirmations (orders.documents): the PDF read back with pypdf, the e-mail body.

On both backends an order is confirmed from a draft with a PO number, a requested date,
a ship-to and notes; its PDF and text must carry the order number, the PO, every line's
quantity and product (on one row) and the total. A cancelled order says CANCELLED.
Unicode names survive in the text and are shown or visibly replaced in the PDF, never an
error, with Noto Sans or with the core-font fallback; the money format is the pages' one.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Product
from orders import documents
from orders.confirm import confirm_draft
from orders.documents import confirmation_pdf, confirmation_text, display_width
from orders.drafts import create_draft
from orders.header import format_day, parse_header
from orders.history import cancel_order, order_status
from orders.money import money
from orders.schemas import OrderLineView, OrderView
from ui.format import money as page_money

EXOTIC = "Œufs “bio” – Ærø smørrebrød, Straße, crème brûlée 寿司🍣"


def pdf_text(document: bytes) -> str:
    """Every page's text, whitespace collapsed (a wrapped cell reads as one phrase)."""
    assert document.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(document))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def place(session: Session, *, po: str = "PO-7781", **quantities: int) -> OrderView:
    header = parse_header(
        customer_po=po,
        requested_date=date.today() + timedelta(days=10),
        ship_to="Lyon store, 12 rue de la République",
        notes="use the back door, dock 3",
    )
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": int(p[1:]), "quantity": q} for p, q in quantities.items()],
        header=header,
    )
    return confirm_draft(
        session=session,
        draft_id=draft.draft_id,
        idempotency_key=uuid.uuid4().hex,
        created_by="ann@example.com",
    )


def row(line: OrderLineView) -> str:
    """How a line reads in either document: quantity, product, unit price, on one row."""
    return f"{line.quantity:,} {line.product_name} {money(line.unit_price)}"


def test_the_pdf_carries_order_po_lines_and_total(session: Session) -> None:
    order = place(session, p11=12, p6=10, p72=5)
    assert order.customer_po == "PO-7781" and len(order.lines) == 3
    text = pdf_text(confirmation_pdf(order))
    assert f"Order confirmation {order.order_id}" in text
    assert "Your PO number PO-7781" in text
    for line in order.lines:
        assert row(line) in text, (row(line), text)
    assert f"Total {money(order.total)}" in text
    assert format_day(order.requested_date) in text  # type: ignore[arg-type]
    assert "Lyon store, 12 rue de la République" in text and "dock 3" in text
    assert "Confirmed by ann@example.com" in text and "Status Confirmed" in text
    assert "CANCELLED" not in text


def test_the_text_carries_the_same(session: Session) -> None:
    order = place(session, p11=12, p6=10, p72=5)
    body = confirmation_text(order)
    assert body.startswith("Dear Alfreds Futterkiste,\n")
    assert f"We confirm order {order.order_id} as follows." in body
    assert "Your PO number:     PO-7781" in body
    flat = " ".join(body.split())
    for line in order.lines:
        assert row(line) in flat
    assert f"Total  {money(order.total)}" in body
    assert "Ship to:            Lyon store, 12 rue de la République" in body
    assert "Confirmed by:       ann@example.com" in body


def test_the_text_table_is_aligned() -> None:
    order = view("Chai", "Rössle Sauerkraut", "寿司", "Gnocchi", quantities=(1200, 3, 10, 7))
    body = confirmation_text(order).splitlines()
    start = body.index("  Qty  Product            Unit price  Discount  Line total")
    table = body[start : start + 2 + len(order.lines)]
    # Every column ends where its heading does: the line totals all end on one column.
    assert len({display_width(text) for text in table}) == 1, table
    assert table[2].startswith("1,200  Chai ") and table[4].startswith("   10  寿司 ")
    assert body[start + 3 + len(order.lines)].endswith(f"Total  {money(order.total)}")


def test_a_cancelled_order_says_so(session: Session) -> None:
    order = place(session, p11=2)
    cancel_order(session=session, order_id=order.order_id)
    session.commit()
    cancelled = order_status(session=session, order_id=order.order_id)
    body = confirmation_text(cancelled)
    flat = " ".join(body.split())
    assert f"CANCELLED: order {cancelled.order_id} was cancelled on" in flat
    assert "will not be delivered" in flat and "Status:             CANCELLED on" in body
    assert "Thank you for your order" not in body
    text = pdf_text(confirmation_pdf(cancelled))
    assert f"CANCELLED: order {cancelled.order_id} was cancelled on" in text
    assert "Status CANCELLED on" in text


def test_a_historical_order_without_a_header(session: Session) -> None:
    order = order_status(session=session, order_id=10248)
    text = pdf_text(confirmation_pdf(order))
    assert "Your PO number -" in text and "Requested delivery not specified" in text
    assert "Ship to Reims, France" in text  # the customer's address on file
    assert "Confirmed by not recorded" in text and "Total $440.00" in text
    assert "12 Queso Cabrales $14.00 - $168.00" in text


def test_unicode_names_survive_or_are_replaced_visibly(session: Session) -> None:
    session.execute(update(Product).where(Product.product_id == 11).values(name=EXOTIC))
    session.commit()
    order = place(session, p11=3, p38=1)
    assert order.lines[0].product_name == EXOTIC
    body = confirmation_text(order)  # the e-mail keeps every character (wrapped in its column)
    assert "Œufs “bio” – Ærø smørrebrød, Straße," in body and "crème brûlée 寿司🍣" in body
    text = pdf_text(confirmation_pdf(order))
    # Noto Sans shows Latin: only the CJK and the emoji become a visible ?.
    assert "Œufs “bio” – Ærø smørrebrød, Straße, crème brûlée ???" in text
    assert "Côte de Blaye" in text  # a Northwind name with an accent
    assert "cannot be shown in this PDF's font" in text  # and the PDF says so


def test_without_the_font_a_core_font_transliterates(
    session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    session.execute(update(Product).where(Product.product_id == 11).values(name=EXOTIC))
    session.commit()
    order = place(session, p11=3)

    def missing() -> dict:
        raise FileNotFoundError("no Noto Sans here")

    monkeypatch.setattr(documents, "_font_files", missing)
    text = pdf_text(confirmation_pdf(order))
    # Œ, the curly quotes and the dash have ASCII forms; Latin-1 (Æ, ø, ß, è) stays.
    assert 'OEufs "bio" - Ærø smørrebrød, Straße, crème brûlée ???' in text
    assert "cannot be shown in this PDF's font" in text
    assert "without Noto Sans" in caplog.text


def view(
    *names: str,
    status: str = "confirmed",
    notes: str | None = None,
    quantities: tuple[int, ...] = (),
) -> OrderView:
    counts = quantities or tuple(range(1, len(names) + 1))
    lines = [
        OrderLineView(
            product_id=i,
            product_name=name,
            quantity=count,
            unit_price=Decimal("9.99"),
            discount=Decimal("0.05"),
            line_total=Decimal("9.49") * count,
        )
        for i, (name, count) in enumerate(zip(names, counts, strict=True))
    ]
    return OrderView(
        order_id=42,
        customer_id="ALFKI",
        customer_name="Alfreds Futterkiste",
        status=status,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        total=sum((line.line_total for line in lines), Decimal(0)),
        lines=lines,
        notes=notes,
    )


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(name=st.text(min_size=1, max_size=60), notes=st.text(max_size=80))
def test_any_name_or_note_makes_both_documents(name: str, notes: str) -> None:
    order = view(name, notes=notes or None)
    body = confirmation_text(order)
    assert "Total  $" in body
    text = pdf_text(confirmation_pdf(order))
    assert "Order confirmation 42" in text and "1 " in text


def test_a_line_the_font_lacks_entirely_is_still_a_row() -> None:
    text = pdf_text(confirmation_pdf(view("寿司", "Chai")))
    assert "1 ?? $9.99 5% $9.49" in text and "2 Chai $9.99 5% $18.98" in text


def test_control_and_bidi_characters_are_shown_not_obeyed() -> None:
    body = confirmation_text(view("Chai\u202eevil\x07"))
    assert "Chai?evil?" in body


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1255.72"), "$1,255.72"),
        (Decimal("0"), "$0.00"),
        (Decimal("0.005"), "$0.01"),
        (1255.72, "$1,255.72"),
        (1000000, "$1,000,000.00"),
        (Decimal("-5"), "-$5.00"),
    ],
)
def test_one_money_format(value: Decimal | float | int, shown: str) -> None:
    assert money(value) == shown
    if value >= 0 and value != Decimal("0.005"):
        assert page_money(value) == shown  # the same as the pages'


def test_a_long_order_runs_onto_more_pages_and_loses_no_line() -> None:
    order = view(*(f"Product {i:03d}" for i in range(80)))
    document = confirmation_pdf(order)
    assert len(PdfReader(io.BytesIO(document)).pages) > 1
    text = pdf_text(document)
    assert all(row(line) in text for line in order.lines) and f"Total {money(order.total)}" in text
