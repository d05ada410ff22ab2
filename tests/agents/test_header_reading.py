"""The order header read from messages: PO number, requested delivery date, ship-to, notes.

Three layers. Table-driven tests of `agents.reading.header` (fast, no catalog): what each
cue reads in six languages, what is left alone, how dates are read (day first, month
first only when day first is impossible, relative to a fixed today, nothing downloaded).
The tools on both backends through a scripted model (an LLM's calls: a header with some
fields, a refused date, null clearing a field). And the offline desk end to end on a
seeded SQLite store: hypothesis writes orders from the real catalog
(tests/agents/order_generator.py) and puts a PO, a delivery date or a phone number at a
random place - the draft must keep exactly the lines it has without them, and the header
must be read: a PO, a date or a phone is never a line.
"""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from agents.desk import OrderDesk, Turn
from agents.reading.header import find_header, header_fields, read_date
from agents.reading.reader import read_message
from agents.reading.text import clean
from agents.reading.today import pinned
from tests.agents.conftest import Northwind
from tests.agents.fixtures_loop import (  # noqa: F401 - fixtures
    DeskFactory,
    catalog_fixture,
    loop_collection_fixture,
    make_desk_fixture,
    store_fixture,
    thread_id_fixture,
)
from tests.agents.order_generator import Catalog, GeneratedOrder, orders
from tests.fakes import ScriptedChatModel, call, calls_tools, says

MONDAY = date(2026, 12, 14)


def read(message: str, *, has_draft: bool = False) -> dict[str, str]:
    """The header fields a message gives, as the tools get them (dates as ISO dates)."""
    fields, unread = header_fields(find_header(clean(message), has_draft=has_draft), MONDAY)
    assert not unread, unread
    return fields


# --- what each cue reads -------------------------------------------------------------------

READS = [
    (
        "PO number: 4711-A\nPlease deliver by Friday.",
        {"customer_po": "4711-A", "requested_date": "2026-12-18"},
    ),
    (
        "Alfreds: 5 tofu. P.O. #7781, deliver 2026-12-22",
        {"customer_po": "7781", "requested_date": "2026-12-22"},
    ),
    ("Subject: PO 88213\n\nSteeleye Stout 12", {"customer_po": "88213"}),
    ("Ernst Handel: PO 12 — 12 tofu", {"customer_po": "12"}),
    ("the PO is 5521", {"customer_po": "5521"}),
    ("12 Sasquatch Ale, our order ref. XZ-88", {"customer_po": "XZ-88"}),
    (
        "unsere Bestellnummer 4711 – bitte liefern Sie am 3. Januar:",
        {"customer_po": "4711", "requested_date": "2027-01-03"},
    ),
    (
        "n° de commande 5561. Merci de livrer le 20 décembre.",
        {"customer_po": "5561", "requested_date": "2026-12-20"},
    ),
    (
        "número de pedido: GC-2291. Entrega antes del 18 de diciembre.",
        {"customer_po": "GC-2291", "requested_date": "2026-12-18"},
    ),
    (
        "ordine n. 3390, consegna entro il 5 gennaio.",
        {"customer_po": "3390", "requested_date": "2027-01-05"},
    ),
    (
        "Pedido nº 7720. Favor entregar até 10 de janeiro.",
        {"customer_po": "7720", "requested_date": "2027-01-10"},
    ),
    (
        "Bon de commande : BC-7781, livraison avant le 23/12.",
        {"customer_po": "BC-7781", "requested_date": "2026-12-23"},
    ),
    ("10 Ipoh Coffee, PO 10250", {"customer_po": "10250"}),
    ("deliver on the 20th", {"requested_date": "2026-12-20"}),
    ("deliver on the 9th", {"requested_date": "2027-01-09"}),
    ("needed by next Tuesday", {"requested_date": "2026-12-15"}),  # the next one to come
    ("needed by Tuesday", {"requested_date": "2026-12-15"}),
    ("deliver tomorrow", {"requested_date": "2026-12-15"}),
    ("Lieferung bis übermorgen", {"requested_date": "2026-12-16"}),
    ("bitte bis Freitag 10 Uhr liefern", {"requested_date": "2026-12-18"}),
    ("Entrega el viernes, por favor.", {"requested_date": "2026-12-18"}),
    ("Livraison mardi prochain", {"requested_date": "2026-12-15"}),
    ("Requested delivery date: 2026-12-21", {"requested_date": "2026-12-21"}),
    ("Liefertermin: 22.12.2026", {"requested_date": "2026-12-22"}),
    ("Lieferung bis 23.12.", {"requested_date": "2026-12-23"}),
    ("Data di consegna: 21/12/2026.", {"requested_date": "2026-12-21"}),
    ("delivery by 15/12", {"requested_date": "2026-12-15"}),
    ("delivery by 03/01", {"requested_date": "2027-01-03"}),  # day first, in English too
    ("deliver by 12/23", {"requested_date": "2026-12-23"}),  # day first is impossible
    ("Need it before Friday 18/12.", {"requested_date": "2026-12-18"}),
    ("Ship to: Hafenstraße 12, 20459 Hamburg", {"ship_to": "Hafenstraße 12, 20459 Hamburg"}),
    ("ship to our Lyon store", {"ship_to": "our Lyon store"}),
    (
        "Lieferadresse: Adenauerallee 900, 70563 Stuttgart",
        {"ship_to": "Adenauerallee 900, 70563 Stuttgart"},
    ),
    (
        "Livrer à notre entrepôt de Marseille, quai 4.",
        {"ship_to": "notre entrepôt de Marseille, quai 4"},
    ),
    ("Dirección de entrega: C/ Mayor 5, 28013 Madrid", {"ship_to": "C/ Mayor 5, 28013 Madrid"}),
    ("Indirizzo di consegna: Via Roma 10, Torino", {"ship_to": "Via Roma 10, Torino"}),
    ("ship to our Lyon store. Thanks!", {"ship_to": "our Lyon store"}),
    (
        "12 tofu\nNote: please use the back door, dock 3.",
        {"notes": "please use the back door, dock 3"},
    ),
    ("5 Konbu\nHinweis: Anlieferung nur vormittags", {"notes": "Anlieferung nur vormittags"}),
    ("6 Pavlova\nNota: consegnare dopo le 14:00.", {"notes": "consegnare dopo le 14:00"}),
]


@pytest.mark.parametrize(("message", "expected"), READS, ids=[m[:40] for m, _ in READS])
def test_each_cue_reads_its_field(message: str, expected: dict[str, str]) -> None:
    assert read(message) == expected


LEFT_ALONE = [
    "We spoke on 10/12.",  # a date without a delivery cue
    "Invoice date 01/12/2026",
    "Delivery: Grenzacherweg 237, 1203 Genève, not before 04/01/2027.",  # earliest, not wanted
    "We close at 5 pm on Friday 18 December, deliver before then.",
    "Tel. +43 7675 3425",
    "call 0711-020361 if short",
    "Our ref: 2026/118",  # a reference, not the customer's PO
    "where is order no. 10250?",  # one of our orders
    "where is order 45678; DROP TABLE orders",  # a question about an order, no "?"
    "status of order number 45678 please",
    "Bitte storniere Bestellung 45678",  # cancel one: ours, whatever its number
    "cancel order 45678",
    "Ship to: same",
    "Shipping address: as usual",
    "please ship 12 Tofu and 8 Ikura to Hungry Coyote Import Store",  # who, not where
    "Ship to Tortuga, Avda. Azteca 123: 10 Tofu",  # an order line, not a ship-to
    "Ordine: 12 Mozzarella di Giovanni",  # a quantity, not a PO
    "P.O. Box 555, Anchorage",
    "Guten Morgen, 12 Tofu bitte",
    "> PO 4471-B, deliver by Friday",  # quoted: an older message's header
    "deliver in December",  # a month is no day
]


@pytest.mark.parametrize("message", LEFT_ALONE)
def test_without_a_clear_cue_nothing_is_read(message: str) -> None:
    assert read(message) == {}


def test_a_note_alone_is_a_memory_but_with_an_order_or_a_draft_it_is_the_orders() -> None:
    note = "note: use the back door, dock 3"
    assert read(note) == {}
    assert read_message(note).intent == "remember"
    assert read(note, has_draft=True) == {"notes": "use the back door, dock 3"}
    assert read_message(note, has_draft=True).intent == "header"
    assert read(f"5 tofu\n{note}") == {"notes": "use the back door, dock 3"}


def test_a_later_mention_wins() -> None:
    assert read("10 Gravad lax, PO 5512 - sorry, the PO is 5521") == {"customer_po": "5521"}


def test_the_rest_of_the_reader_never_sees_the_headers_numbers() -> None:
    reading = read_message("Ernst Handel: PO 12 — 12 tofu, deliver on the 15th")
    assert [(a.quantity, a.phrase) for a in reading.asks if a.quantity] == [(12, "tofu")]
    reading = read_message("PO 15, 15 Konbu. Lieferung bis 16.12.")
    assert [(a.quantity, a.phrase.lower()) for a in reading.asks if a.quantity] == [(15, "konbu")]
    assert "15" not in reading.order_header.rest.split(",")[0]
    reading = read_message("deliver on the 20th", has_draft=True)
    assert reading.intent == "header" and not reading.asks
    status = read_message("where is order 10250?")
    assert status.intent == "status" and status.order_id == 10250  # still a question


# --- reading a date ------------------------------------------------------------------------

DATES = [
    ("Friday", "en", MONDAY, date(2026, 12, 18)),
    ("next Friday", "en", date(2026, 12, 18), date(2026, 12, 25)),  # said on a Friday
    ("15/12", "en", MONDAY, date(2026, 12, 15)),
    ("15/12", "en", date(2026, 12, 16), date(2027, 12, 15)),  # no year: the next one
    ("12/11/2026", "en", MONDAY, date(2026, 11, 12)),  # day first: a past date, as written
    ("11/12/2026", "de", MONDAY, date(2026, 12, 11)),
    ("12/23", "en", MONDAY, date(2026, 12, 23)),
    ("12/23", "fr", MONDAY, None),  # no month 23, and French is always day first
    ("32/12", "de", MONDAY, None),
    ("01/02/25", "en", MONDAY, date(2025, 2, 1)),  # a two-digit year is this century's
    ("2026-12-15", "it", MONDAY, date(2026, 12, 15)),
    ("18.12.26", "de", MONDAY, date(2026, 12, 18)),
    ("3. Januar", "de", MONDAY, date(2027, 1, 3)),
    ("20 décembre", "fr", MONDAY, date(2026, 12, 20)),
    ("18 de diciembre", "es", MONDAY, date(2026, 12, 18)),
    ("10 de janeiro", "pt", MONDAY, date(2027, 1, 10)),
    ("5 gennaio", "it", MONDAY, date(2027, 1, 5)),
    ("venerdì", "it", MONDAY, date(2026, 12, 18)),
    ("sexta-feira", "pt", MONDAY, date(2026, 12, 18)),
    ("nächsten Dienstag", "de", MONDAY, date(2026, 12, 15)),
    ("the 31st", "en", date(2027, 2, 3), date(2027, 3, 31)),  # February has none
    ("December 2026", "en", MONDAY, None),
]


@pytest.mark.parametrize(("written", "lang", "today", "expected"), DATES)
def test_read_date(written: str, lang: str, today: date, expected: date | None) -> None:
    assert read_date(written, lang, today) == expected


def test_reading_dates_downloads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """dateparser is given its languages, so it detects none and fetches no model."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("dateparser tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    day = MONDAY + timedelta(days=40)  # a day no earlier test read from: a fresh parser
    assert read_date("Freitag", "de", day) == date(2027, 1, 29)
    assert read_date("le 5 mars", "fr", day) == date(2027, 3, 5)


# --- the tools, as an LLM calls them (both backends) ---------------------------------------

QUESO = {"product_id": 11, "quantity": 12}


def drafted(model: ScriptedChatModel, tool: str = "draft_order", n: int = 1) -> dict:
    return json.loads(model.tool_results(n)[tool])


def test_draft_order_sets_the_header_and_names_a_refused_date(
    make_desk: DeskFactory, thread_id: str
) -> None:
    header = {"customer_po": "4711-A", "requested_date": "2025-01-03", "notes": "dock 3"}
    model = ScriptedChatModel(
        script=[
            calls_tools(call("draft_order", customer_id="ALFKI", lines=[QUESO], header=header)),
            says("Drafted."),
        ]
    )
    with pinned(MONDAY):
        turn = make_desk(model).chat(thread_id, "Alfreds: 12 Queso Cabrales, PO 4711-A")
    result = drafted(model)
    assert "in the past" in result["error"] and "3 Jan 2025" in result["error"]
    assert result["draft"]["customer_po"] == "4711-A" and result["draft"]["notes"] == "dock 3"
    assert result["draft"]["requested_date"] is None
    assert turn.draft is not None and [(x.product_id, x.quantity) for x in turn.draft.lines] == [
        (11, 12)
    ]
    assert turn.draft.customer_po == "4711-A" and turn.draft.requested_date is None


def test_update_draft_changes_only_the_header_fields_given_and_null_clears_one(
    make_desk: DeskFactory, thread_id: str
) -> None:
    first = {"customer_po": "4711", "requested_date": "2026-12-18", "ship_to": "Lyon store"}
    model = ScriptedChatModel(
        script=[
            calls_tools(call("draft_order", customer_id="ALFKI", lines=[QUESO], header=first)),
            says("Drafted."),
            calls_tools(call("update_draft", header={"customer_po": "7781", "ship_to": None})),
            says("Changed."),
        ]
    )
    desk = make_desk(model)
    with pinned(MONDAY):
        desk.chat(thread_id, "Alfreds: 12 Queso Cabrales, PO 4711, by Friday, ship to Lyon")
        turn = desk.chat(thread_id, "PO is 7781, and the usual address")
    assert "error" not in drafted(model, "update_draft", 3)
    assert turn.draft is not None
    assert (turn.draft.customer_po, turn.draft.requested_date, turn.draft.ship_to) == (
        "7781",
        date(2026, 12, 18),
        None,
    )
    assert [(x.product_id, x.quantity) for x in turn.draft.lines] == [(11, 12)]


def test_a_malformed_date_from_a_model_is_refused_with_the_reason(
    make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            calls_tools(
                call(
                    "draft_order",
                    customer_id="ALFKI",
                    lines=[QUESO],
                    header={"requested_date": "18/12/2026"},
                )
            ),
            says("Drafted."),
        ]
    )
    make_desk(model).chat(thread_id, "Alfreds: 12 Queso Cabrales by 18/12")
    result = drafted(model)
    assert "calendar date" in result["error"] and result["draft"]["lines"]


# --- the offline desk, end to end (SQLite) -------------------------------------------------


def chat(desk: OrderDesk, *messages: str) -> Turn:
    thread_id = f"header-{uuid.uuid4().hex[:12]}"
    with pinned(MONDAY):
        turns = [desk.chat(thread_id, message) for message in messages]
    return turns[-1]


def test_a_refused_date_is_named_and_the_lines_are_drafted(
    northwind: Northwind,
) -> None:
    desk = northwind.desk
    turn = chat(desk, "Save-a-lot Markets: 20 Konbu, 10 Tofu. Please deliver on 2025-01-03.")
    assert turn.draft is not None and {x.product_id: x.quantity for x in turn.draft.lines} == {
        13: 20,
        14: 10,
    }
    assert turn.draft.requested_date is None
    assert "I couldn't use the delivery date 2025-01-03: it is in the past" in turn.reply
    assert not turn.attention and not turn.draft.needs_attention


def test_the_reply_shows_what_was_read_and_edits_in_chat_change_it(
    northwind: Northwind,
) -> None:
    desk = northwind.desk
    turn = chat(
        desk,
        "Ernst Handel: 10 Boston Crab Meat. PO number: 4711-A, please deliver by Friday",
        "sorry, the PO is 7781",
        "ship to our Graz store",
        "note: use the back door, dock 3",
    )
    assert turn.draft is not None
    assert (turn.draft.customer_po, turn.draft.requested_date) == ("7781", date(2026, 12, 18))
    assert (turn.draft.ship_to, turn.draft.notes) == ("our Graz store", "use the back door, dock 3")
    assert {x.product_id: x.quantity for x in turn.draft.lines} == {40: 10}
    assert turn.reply.startswith(
        "Draft for Ernst Handel (ERNSH): 1 line (Boston Crab Meat), total $184.00 · PO 7781 · "
        "deliver by Fri 18 Dec 2026 · ship to our Graz store · note: use the back door, dock 3."
    )


# Header text as customers write it, per language: the test's own, not the reader's lexicon.
PO_LABELS = {
    "en": ("PO number: {po}", "P.O. #{po}", "Our PO {po}"),
    "de": ("Bestellnummer {po}", "Unsere Bestellnummer: {po}"),
    "es": ("Número de pedido: {po}", "N.º de pedido {po}"),
    "fr": ("N° de commande {po}", "Bon de commande : {po}"),
    "pt": ("Pedido nº {po}", "Número do pedido: {po}"),
    "it": ("Ordine n. {po}", "Numero d'ordine {po}"),
}
DATE_CUES = {
    "en": ("Please deliver by {d}/{m}.", "Delivery date: {d}/{m}/{y}"),
    "de": ("Lieferung bis {d}.{m}.", "Liefertermin: {d}.{m}.{y}"),
    "es": ("Entrega antes del {d}/{m}.", "Fecha de entrega: {d}/{m}/{y}"),
    "fr": ("Livraison avant le {d}/{m}.", "Date de livraison : {d}/{m}/{y}"),
    "pt": ("Entregar até {d}/{m}.", "Data de entrega: {d}/{m}/{y}"),
    "it": ("Consegna entro il {d}/{m}.", "Data di consegna: {d}/{m}/{y}"),
}
PHONES = ("Tel. +49 89 {a} {b}", "Phone: (0{a}) {b}", "+351 21 {a} {b}", "Tel {a}-{b}")


@dataclass(frozen=True)
class WithHeader:
    order: GeneratedOrder
    message: str
    po: str | None
    day: date | None


@st.composite
def with_header(draw: st.DrawFn, catalog: Catalog) -> WithHeader:
    """An order with a PO, a delivery date and a phone number put at random places; the PO
    often the same number as a line's quantity."""
    order = draw(orders(catalog, max_lines=6))
    quantities = [str(line.quantity) for line in order.lines]
    po = draw(
        st.one_of(
            st.sampled_from(quantities), st.from_regex(r"[1-9][0-9]{2,5}(-[A-Z])?", fullmatch=True)
        )
    )
    ahead = draw(st.integers(1, 60))
    day = MONDAY + timedelta(days=ahead)
    po_text = draw(st.sampled_from(PO_LABELS[order.lang])).format(po=po)
    date_text = draw(st.sampled_from(DATE_CUES[order.lang])).format(
        d=f"{day.day:02d}", m=f"{day.month:02d}", y=day.year
    )
    phone = draw(st.sampled_from(PHONES)).format(
        a=draw(st.integers(100, 9999)), b=draw(st.integers(1000, 99999))
    )
    # The generator's own PO and delivery-date noise would compete with the ones put in.
    dates = tuple(noise for noise in order.noise if noise[:1].isalpha() and "/" in noise)
    lines = [line for line in order.message.split("\n") if " PO " not in line and line not in dates]
    chosen = draw(st.lists(st.sampled_from(("po", "date", "phone")), min_size=1, unique=True))
    texts = {"po": po_text, "date": date_text, "phone": phone}
    for kind in chosen:
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, texts[kind])
    return WithHeader(
        order,
        "\n".join(lines),
        po if "po" in chosen else None,
        day if "date" in chosen else None,
    )


def _lines(turn: Turn) -> dict[int, int]:
    return {x.product_id: x.quantity for x in turn.draft.lines} if turn.draft else {}


def test_a_po_date_or_phone_anywhere_changes_no_line_and_the_header_is_read(
    northwind: Northwind,
) -> None:
    desk, catalog = northwind.desk, northwind.catalog

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(with_header(catalog))
    def prop(example: WithHeader) -> None:
        order = example.order
        plain = chat(desk, order.message)
        # Only orders the desk reads exactly without a header: the property is about what
        # the header adds, not about what the generator's messages already lose.
        assume(
            _lines(plain) == order.expected
            and plain.draft is not None
            and plain.draft.customer_id == order.customer.customer_id
        )
        note(example.message)
        turn = chat(desk, example.message)
        note(turn.reply)
        assert turn.draft is not None
        assert _lines(turn) == order.expected
        assert turn.draft.customer_id == order.customer.customer_id
        assert turn.draft.customer_po == example.po
        assert turn.draft.requested_date == example.day
        if example.po is not None:
            assert f"PO {example.po}" in turn.reply

    prop()
