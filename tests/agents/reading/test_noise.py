"""Ignorable text: greetings, closings, signatures, headers, quotes and numbers that are not goods.

Table-driven and catalog-free, one table per rule, rows in English, German, Spanish, French,
Portuguese and Italian. Negative rows are order lines that must stay content and carry no
noise span over their quantity. Whole emails (German, Spanish, French, English, Italian,
Portuguese) assert the kind of every line. A hypothesis property writes random emails —
greeting, order lines, closing, a signature of names, titles, phones, addresses and PO
lines with random digits — and checks every order line is content and no signature line is.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.reading.noise import LineInfo, classify_lines, find_noise, strip_courtesy


def kinds(message: str) -> list[str]:
    return [info.kind for info in classify_lines(message)]


def spans_of(segment: str) -> list[tuple[str, str]]:
    return [(span.kind, segment[span.start : span.end]) for span in find_noise(segment)]


# --- find_noise: (segment, kind, the text the span must cover exactly) --------------------
NOISE = [
    # phones in every common format, with and without a label
    ("+43 7675 3425", "phone", "+43 7675 3425"),
    ("(5) 555-4729", "phone", "(5) 555-4729"),
    ("030-0074321", "phone", "030-0074321"),
    ("0621-08460", "phone", "0621-08460"),
    ("+1 (503) 555-9931", "phone", "+1 (503) 555-9931"),
    ("91.555.22.82", "phone", "91.555.22.82"),
    ("Tel. +43 7675 3425", "phone", "Tel. +43 7675 3425"),
    ("Fax: (030) 0074321", "phone", "Fax: (030) 0074321"),
    ("Mob. 0049 171 1234567", "phone", "Mob. 0049 171 1234567"),
    ("Teléfono: 91 555 94 44", "phone", "Teléfono: 91 555 94 44"),
    ("Tél. : 26.47.15.10", "phone", "Tél. : 26.47.15.10"),
    ("Telefone: (11) 555-7647", "phone", "Telefone: (11) 555-7647"),
    ("Cell. 035 640230", "phone", "Cell. 035 640230"),
    ("Handy 0171 2345678", "phone", "Handy 0171 2345678"),
    ("call me on 555-4729", "phone", "555-4729"),
    ("Durchwahl 12", "phone", "Durchwahl 12"),
    # dates and times
    ("bis 15/12", "date", "15/12"),
    ("am 15.12.2026", "date", "15.12.2026"),
    ("2026-12-15", "date", "2026-12-15"),
    ("due 12/15/2026", "date", "12/15/2026"),
    ("Lieferung am 3. Januar 2027", "date", "3. Januar 2027"),
    ("livraison le 20 décembre", "date", "20 décembre"),
    ("para el 5 de enero", "date", "5 de enero"),
    ("consegna il 20 dicembre", "date", "20 dicembre"),
    ("entrega em 5 de janeiro de 2027", "date", "5 de janeiro de 2027"),
    ("by Dec 15th", "date", "Dec 15th"),
    ("on the 15th of December", "date", "15th of December"),
    ("Mon, 3 Dec 2026", "date", "Mon, 3 Dec 2026"),
    ("bis 15.12.", "date", "15.12."),
    ("at 10:30", "time", "10:30"),
    ("around 9am", "time", "9am"),
    ("um 14 Uhr", "time", "14 Uhr"),
    ("vers 10h30", "time", "10h30"),
    ("a las 10:30 h", "time", "10:30 h"),
    # PO, order and reference numbers: label and number together
    ("PO 4471-B", "po_number", "PO 4471-B"),
    ("PO# 88231", "po_number", "PO# 88231"),
    ("P.O. number: 7781", "po_number", "P.O. number: 7781"),
    ("our ref. 2026/118", "reference", "our ref. 2026/118"),
    ("Order No. 10250", "order_number", "Order No. 10250"),
    ("status of order 10250?", "order_number", "order 10250"),
    ("Bestellnummer 4500012345", "po_number", "Bestellnummer 4500012345"),
    ("Auftrags-Nr. 7781", "order_number", "Auftrags-Nr. 7781"),
    ("pedido nº 1234", "order_number", "pedido nº 1234"),
    ("número de pedido 1234", "order_number", "número de pedido 1234"),
    ("commande n° 778", "order_number", "commande n° 778"),
    ("ordine n. 55", "order_number", "ordine n. 55"),
    ("encomenda nº 321", "order_number", "encomenda nº 321"),
    ("Ref: AB-1234", "reference", "Ref: AB-1234"),
    ("Invoice 2026-0042", "reference", "Invoice 2026-0042"),
    ("Rechnung Nr. 2026-0042", "reference", "Rechnung Nr. 2026-0042"),
    ("factura nº 88", "reference", "factura nº 88"),
    ("rif. 2026/55", "reference", "rif. 2026/55"),
    ("HRB 12345", "reference", "HRB 12345"),
    # postal addresses
    ("12209 Berlin", "postal_address", "12209 Berlin"),
    ("05021 México D.F.", "postal_address", "05021 México D.F."),
    ("1010 Wien", "postal_address", "1010 Wien"),
    ("A-8010 Graz", "postal_address", "A-8010 Graz"),
    ("28023 Madrid", "postal_address", "28023 Madrid"),
    ("75012 Paris", "postal_address", "75012 Paris"),
    ("05487-020 São Paulo", "postal_address", "05487-020 São Paulo"),
    ("Obere Str. 57", "postal_address", "Obere Str. 57"),
    ("Kirchgasse 6", "postal_address", "Kirchgasse 6"),
    ("Hauptstraße 5", "postal_address", "Hauptstraße 5"),
    ("120 Hanover Sq.", "postal_address", "120 Hanover Sq."),
    ("Avda. de la Constitución 2222", "postal_address", "Avda. de la Constitución 2222"),
    ("C/ Araquil, 67", "postal_address", "C/ Araquil, 67"),
    ("24, place Kléber", "postal_address", "24, place Kléber"),
    ("59 rue de l'Abbaye", "postal_address", "59 rue de l'Abbaye"),
    ("Rua Orós, 92", "postal_address", "Rua Orós, 92"),
    ("Via Ludovico il Moro 22", "postal_address", "Via Ludovico il Moro 22"),
    ("Portland, OR 97219", "postal_address", "Portland, OR 97219"),
    ("London WX1 6LT", "postal_address", "WX1 6LT"),
    ("Suite 300", "postal_address", "Suite 300"),
    ("Postfach 1234", "postal_address", "Postfach 1234"),
    ("3º piso", "postal_address", "3º piso"),
    # money, percentages, tax and bank ids, mail and web
    ("$5.00 each", "money", "$5.00"),
    ("5,00 € pro Stück", "money", "5,00 €"),
    ("EUR 12", "money", "EUR 12"),
    ("23,25 euros", "money", "23,25 euros"),
    ("R$ 45,90", "money", "R$ 45,90"),
    ("15% off", "percent", "15%"),
    ("10 por ciento de descuento", "percent", "10 por ciento"),
    ("USt-IdNr.: DE123456789", "vat_id", "USt-IdNr.: DE123456789"),
    ("VAT ID GB123456789", "vat_id", "VAT ID GB123456789"),
    ("CIF: B-12345678", "vat_id", "CIF: B-12345678"),
    ("P.IVA 01234567890", "vat_id", "P.IVA 01234567890"),
    ("ATU12345678", "vat_id", "ATU12345678"),
    ("IBAN: DE89 3704 0044 0532 0130 00", "iban", "IBAN: DE89 3704 0044 0532 0130 00"),
    ("FR14 2004 1010 0505 0001 3M02 606", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
    ("maria@alfreds.de", "email", "maria@alfreds.de"),
    ("www.alfreds.de", "url", "www.alfreds.de"),
    ("see https://shop.example/orders/10250.", "url", "https://shop.example/orders/10250"),
]


@pytest.mark.parametrize(("segment", "kind", "covered"), NOISE)
def test_noise_span(segment: str, kind: str, covered: str) -> None:
    assert (kind, covered) in spans_of(segment), spans_of(segment)


# --- order lines: no span over the quantity (most have no span at all) ---------------------
ORDER_LINES = [
    "12 tofu",
    "Tofu x12",
    "20 unidades de queso manchego",
    "vingt cartons de bière",
    "1 box of 24 pens",
    "5 x Ikura",
    "Outback Lager - 24",
    "3 Kisten Bier",
    "12 Flaschen Chartreuse verte",
    "dazu 4 Packungen Tofu",
    "2 cajas de Queso Cabrales",
    "necesito 15 latas de atún",
    "10 bouteilles de Côte de Blaye",
    "6 Camembert Pierrot",
    "6 caixas de Guaraná Fantástica",
    "quero 8 pacotes de Café",
    "15 confezioni di Mozzarella di Giovanni",
    "vorrei 30 bottiglie di Chianti",
    "order 12 tofu",
    "2000 Tofu",
    "12000 Stück Tofu",
    "1000 pens",
    "Via UPS 2 boxes",
    "24 x 330ml Sasquatch Ale",
    "Chai 12",
    "make the tofu 30",
    "add 3 konbu",
    "1/2 kg Tofu",
    "Mozzarella 2,5 kg",
    "12 Queso Cabrales",
    "Boston Crab Meat 10 tins",
]


@pytest.mark.parametrize("line", ORDER_LINES)
def test_order_line_has_no_noise(line: str) -> None:
    assert find_noise(line) == []


@pytest.mark.parametrize("line", ORDER_LINES)
def test_order_line_is_content(line: str) -> None:
    assert kinds(f"Hello,\n{line}\nThanks") == ["greeting", "content", "closing"]


# Mixed lines: the noise is found and the quantity is left readable.
MIXED = [
    ("12 tofu, PO 4471-B", "po_number", "12 tofu"),
    ("5 x Ikura bis 15.12.2026", "date", "5 x Ikura"),
    ("20 Chai zu 18,00 € bitte", "money", "20 Chai"),
    ("10 cajas de Chai, pedido nº 1234", "order_number", "10 cajas de Chai"),
    ("6 Camembert livrés le 20 décembre", "date", "6 Camembert"),
    ("8 Guaraná, ref. 2026/118", "reference", "8 Guaraná"),
]


@pytest.mark.parametrize(("line", "kind", "kept"), MIXED)
def test_mixed_line_keeps_its_quantity(line: str, kind: str, kept: str) -> None:
    spans = find_noise(line)
    assert [span.kind for span in spans] == [kind]
    quantity = line.index(kept)
    assert all(span.end <= quantity or span.start >= quantity + len(kept) for span in spans)


def test_span_values_drop_the_label() -> None:
    values = {span.kind: span.value for span in find_noise("PO 4471-B, Tel. +43 7675 3425")}
    assert values == {"po_number": "4471-B", "phone": "+43 7675 3425"}
    assert [s.value for s in find_noise("Order No. 10250")] == ["10250"]


# --- strip_courtesy -----------------------------------------------------------------------
COURTESY = [
    ("Hi team, please send 12 tofu, thanks a lot!", "please send 12 tofu", ["greeting", "thanks"]),
    ("Thanks! Also 5 konbu please", "Also 5 konbu please", ["thanks"]),
    ("Can you send 12 tofu? Thanks", "Can you send 12 tofu?", ["thanks"]),
    ("12 tofu thx", "12 tofu", ["thanks"]),
    ("send 12 tofu, thanks and best regards", "send 12 tofu", ["thanks", "closing"]),
    ("Hi Maria, hope you are well! 12 tofu please", "12 tofu please", ["greeting", "greeting"]),
    ("Thanks for the quick delivery. Please send 12 tofu", "Please send 12 tofu", ["thanks"]),
    ("Hallo, bitte 5 Tofu", "bitte 5 Tofu", ["greeting"]),
    ("Hallo Herr Müller bitte 5 Tofu", "bitte 5 Tofu", ["greeting"]),
    ("Guten Morgen! 3 Kisten Bier, vielen Dank", "3 Kisten Bier", ["greeting", "thanks"]),
    (
        "Hola, necesito 5 quesos por favor, gracias",
        "necesito 5 quesos por favor",
        ["greeting", "thanks"],
    ),
    ("¡Hola! ¿Tienen 5 quesos?", "¿Tienen 5 quesos?", ["greeting"]),
    (
        "Buenos días: 20 unidades de queso manchego. Un saludo",
        "20 unidades de queso manchego.",
        ["greeting", "closing"],
    ),
    (
        "Bonjour, vingt cartons de bière, merci d'avance",
        "vingt cartons de bière",
        ["greeting", "thanks"],
    ),
    ("Merci pour votre aide, 5 Camembert svp", "5 Camembert svp", ["thanks"]),
    ("Bom dia! 6 caixas de Guaraná, obrigado", "6 caixas de Guaraná", ["greeting", "thanks"]),
    ("Olá Pedro, 8 pacotes de Café", "8 pacotes de Café", ["greeting"]),
    ("Buongiorno, vorrei 3 Chai, grazie mille", "vorrei 3 Chai", ["greeting", "thanks"]),
    ("Ciao! 15 Mozzarella, cordiali saluti", "15 Mozzarella", ["greeting", "closing"]),
    ("Best regards, Maria", "", ["closing"]),
    ("Thank you for your order", "", ["thanks"]),
    ("12 tofu", "12 tofu", []),
    ("Thanks for sending 12 tofu last week", "Thanks for sending 12 tofu last week", []),
    ("Chai 12, Best", "Chai 12", ["closing"]),
]


@pytest.mark.parametrize(("segment", "rest", "dropped"), COURTESY)
def test_strip_courtesy(segment: str, rest: str, dropped: list[str]) -> None:
    assert strip_courtesy(segment) == (rest, dropped)


# --- one line, its kind: greetings and closings in every language -------------------------
GREETINGS = [
    "Hi", "Hi,", "Hello there!", "Dear Sir or Madam", "Dear Ms. Anders,", "Good morning all,",
    "Hope you are well", "I hope this email finds you well.", "Hallo Herr Müller,",
    "Sehr geehrte Damen und Herren,", "Liebe Frau Schmidt,", "Guten Tag,", "Hola Juan,",
    "Estimados señores:", "Buenos días,", "Espero que estés bien", "Bonjour Madame,",
    "Madame, Monsieur,", "J'espère que vous allez bien.", "Prezados,", "Olá Pedro,",
    "Espero que esteja bem.", "Buongiorno,", "Gentile cliente,", "Spero che tu stia bene",
]  # fmt: skip


@pytest.mark.parametrize("line", GREETINGS)
def test_greeting_line(line: str) -> None:
    assert kinds(line) == ["greeting"]


CLOSINGS = [
    "Thanks", "Thanks a lot", "Many thanks in advance", "Best regards", "Kind regards,",
    "Cheers", "Cheers, Maria", "Thanks and best regards", "Mit freundlichen Grüßen",
    "Viele Grüße", "MfG", "Vielen Dank im Voraus!", "Saludos cordiales", "Un saludo",
    "Atentamente,", "Gracias de antemano", "Cordialement", "Bien à vous", "Merci d'avance",
    "Atenciosamente", "Obrigado", "Cordiali saluti", "Grazie mille", "Distinti saluti",
]  # fmt: skip


@pytest.mark.parametrize("line", CLOSINGS)
def test_closing_line(line: str) -> None:
    assert kinds(f"12 tofu\n{line}") == ["content", "closing"]


# After a closing: (line, kind). Only lines with nothing order-like are signature.
AFTER_CLOSING = [
    ("Maria Anders", "signature"),
    ("Sales Representative", "signature"),
    ("Gerente de compras", "signature"),
    ("Alfreds Futterkiste GmbH", "signature"),
    ("Obere Str. 57", "signature"),
    ("12209 Berlin", "signature"),
    ("Germany", "signature"),
    ("Tel. +43 7675 3425", "signature"),
    ("Fax: (030) 0074321", "signature"),
    ("Mob. 0049 171 1234567", "signature"),
    ("Tel. 030-0074321 | Fax 030-0076545", "signature"),
    ("www.alfreds.de", "signature"),
    ("maria@alfreds.de", "signature"),
    ("USt-IdNr.: DE123456789", "signature"),
    ("This email is confidential and intended for the addressee only.", "signature"),
    ("Also 5 konbu please", "content"),
    ("PS: please add 3 tofu", "content"),
    ("5 x Ikura", "content"),
    ("vingt cartons de bière", "content"),
    ("dazu noch zwei Kisten Bier", "content"),
    ("Mataderos 2312", "content"),  # an address without a street word looks like "Chai 12"
    ("could you also deliver the cheese and the tofu before the holidays", "content"),
]


@pytest.mark.parametrize(("line", "kind"), AFTER_CLOSING)
def test_line_after_closing(line: str, kind: str) -> None:
    assert kinds(f"Hi,\n12 tofu\nBest regards,\n{line}")[-1] == kind


def test_signature_opens_with_delimiter_and_device_lines() -> None:
    assert kinds("12 tofu\n--\nMaria Anders") == ["content", "signature", "signature"]
    assert kinds("12 tofu\nSent from my iPhone") == ["content", "signature"]
    assert kinds("12 tofu\nEnviado desde mi iPhone") == ["content", "signature"]
    assert kinds("12 tofu\nVon meinem iPhone gesendet") == ["content", "signature"]
    assert kinds("12 tofu, thanks!\nMaria") == ["content", "signature"]


def test_a_name_without_a_closing_stays_content() -> None:
    assert kinds("12 tofu\nMaria Anders") == ["content", "content"]
    assert kinds("Thanks for the catalogue!\n12 tofu\nIkura") == ["closing", "content", "content"]


# --- headers: (line, fields) ---------------------------------------------------------------
HEADERS = [
    ("From: Maria Anders <maria@alfreds.de>",
     {"from_name": "Maria Anders", "from_email": "maria@alfreds.de", "from_domain": "alfreds.de"}),
    ("From: orders@ernsthandel.at",
     {"from_email": "orders@ernsthandel.at", "from_domain": "ernsthandel.at"}),
    ('Von: "Anders, Maria" <maria@alfreds.de>',
     {"from_name": "Anders, Maria", "from_email": "maria@alfreds.de",
      "from_domain": "alfreds.de"}),
    ("De: Ana Trujillo [mailto:ana@trujillo.mx]",
     {"from_name": "Ana Trujillo", "from_email": "ana@trujillo.mx", "from_domain": "trujillo.mx"}),
    ("Da: Giovanni Rovelli", {"from_name": "Giovanni Rovelli"}),
    ("To: orders@northwind.example", {"to": "orders@northwind.example"}),
    ("An: Verkauf", {"to": "Verkauf"}),
    ("Para: Ventas", {"to": "Ventas"}),
    ("À : service@vins.fr", {"to": "service@vins.fr"}),
    ("A: ordini@northwind.example", {"to": "ordini@northwind.example"}),
    ("Cc: Hans", {"cc": "Hans"}),
    ("Sent: Monday, December 3, 2026 10:12 AM", {"date": "Monday, December 3, 2026 10:12 AM"}),
    ("Gesendet: Montag, 3. Dezember 2026 10:12", {"date": "Montag, 3. Dezember 2026 10:12"}),
    ("Enviado: lunes, 3 de diciembre de 2026", {"date": "lunes, 3 de diciembre de 2026"}),
    ("Envoyé : lundi 3 décembre 2026", {"date": "lundi 3 décembre 2026"}),
    ("Inviato: lunedì 3 dicembre 2026", {"date": "lunedì 3 dicembre 2026"}),
    ("Date: 3 Dec 2026", {"date": "3 Dec 2026"}),
    ("Datum: 03.12.2026", {"date": "03.12.2026"}),
    ("Fecha: 3/12/2026", {"date": "3/12/2026"}),
    ("Subject: Order – Ernst Handel, PO 4471-B",
     {"subject": "Order – Ernst Handel, PO 4471-B", "po_number": "4471-B"}),
    ("Betreff: AW: Bestellung", {"subject": "Bestellung"}),
    ("Asunto: RE: Pedido nº 1234", {"subject": "Pedido nº 1234", "order_number": "1234"}),
    ("Objet : TR: Commande", {"subject": "Commande"}),
    ("Assunto: Encomenda", {"subject": "Encomenda"}),
    ("Oggetto: R: ordine n. 55", {"subject": "ordine n. 55", "order_number": "55"}),
    ("Fwd: WG: Order for Monday", {"subject": "Order for Monday"}),
    ("Re: order for next week", {"subject": "order for next week"}),
]  # fmt: skip


@pytest.mark.parametrize(("line", "fields"), HEADERS)
def test_header_line(line: str, fields: dict[str, str]) -> None:
    (info,) = classify_lines(line)
    assert (info.kind, info.fields) == ("header", fields)


def test_header_labels_only_count_at_the_top() -> None:
    assert kinds("12 tofu\nA: 5 ikura") == ["content", "content"]
    assert kinds("Hi,\nDe: 5 quesos") == ["greeting", "content"]


# --- quotes and reply chains ---------------------------------------------------------------
QUOTE_INTROS = [
    "On Mon, 3 Dec 2026 at 10:12, Desk <desk@northwind.example> wrote:",
    "Am 03.12.2026 um 10:12 schrieb Desk <desk@northwind.example>:",
    "El lun, 3 dic 2026 a las 10:12, Pedro <pedro@x.com> escribió:",
    "Le 2 déc. 2026 à 09:30, Service <vente@northwind.example> a écrit :",
    "Em seg., 3 de dez. de 2026 às 10:12, Pedro <pedro@x.com> escreveu:",
    "Il giorno lun 3 dic 2026 alle 10:12 Desk <desk@x.it> ha scritto:",
]


@pytest.mark.parametrize("intro", QUOTE_INTROS)
def test_quote_intro_quotes_the_rest(intro: str) -> None:
    assert kinds(f"12 tofu\n{intro}\nHow many do you need?\n20 tofu") == [
        "content", "quote", "quote", "quote",
    ]  # fmt: skip


def test_marked_quotes_keep_the_replies_between_them() -> None:
    message = "On Mon, Desk <d@x.com> wrote:\n> how many?\n20 tofu\n> and ikura?\n5 ikura"
    assert kinds(message) == ["quote", "quote", "content", "quote", "content"]


@pytest.mark.parametrize(
    "separator",
    ["-----Original Message-----", "----- Ursprüngliche Nachricht -----",
     "-------- Message d'origine --------", "-----Mensaje original-----",
     "----- Mensagem original -----", "-----Messaggio originale-----"],
)  # fmt: skip
def test_original_message_quotes_the_rest(separator: str) -> None:
    assert kinds(f"12 tofu\n{separator}\nFrom: d@x.com\n20 tofu") == [
        "content", "quote", "quote", "quote",
    ]  # fmt: skip


def test_outlook_reply_block_quotes_the_rest() -> None:
    message = "5 x Ikura\nBest,\nMaria\n\nVon: Hans <hans@x.de>\nGesendet: Freitag\n20 Tofu"
    assert kinds(message) == [
        "content", "closing", "signature", "blank", "quote", "quote", "quote",
    ]  # fmt: skip


def test_forwarded_message_keeps_its_body() -> None:
    message = (
        "Please see below.\n---------- Forwarded message ---------\n"
        "From: Maria <maria@alfreds.de>\nSubject: Order\n\nHi,\n12 tofu\nThanks\nMaria"
    )
    assert kinds(message) == [
        "content", "header", "header", "header", "blank", "greeting", "content", "closing",
        "signature",
    ]  # fmt: skip


# --- whole emails ------------------------------------------------------------------------
GERMAN = """Von: Maria Anders <maria@alfreds.de>
Gesendet: Montag, 3. Dezember 2026 10:12
An: Bestellung <orders@northwind.example>
Betreff: AW: Bestellung Alfreds Futterkiste, Bestellnummer 4500012345

Hallo Herr Müller,

ich hoffe, es geht Ihnen gut.
Bitte liefern Sie bis 15.12.2026:
12 Tofu
5 x Ikura
dazu 3 Kisten Outback Lager

Vielen Dank im Voraus!
Mit freundlichen Grüßen
Maria Anders
Einkauf
Alfreds Futterkiste GmbH
Obere Str. 57
12209 Berlin
Tel. 030-0074321
Fax: (030) 0074321
www.alfreds.de

Von: Hans Müller <hans@northwind.example>
Gesendet: Freitag, 30. November 2026 09:00
Betreff: Angebot
Hier unser Angebot: 20 Tofu zu 23,25 €"""
GERMAN_KINDS = (
    ["header"] * 4
    + ["blank", "greeting", "blank", "greeting"]
    + ["content"] * 4
    + ["blank", "closing", "closing"]
    + ["signature"] * 8
    + ["blank"]
    + ["quote"] * 4
)

SPANISH = """De: Ana Trujillo <ana@trujillo.mx>
Asunto: Pedido nº 1234

Estimados señores:

Espero que estén bien. Necesitamos para el 5 de enero:
- 20 unidades de queso manchego
- 10 cajas de Chai

Un saludo
Ana Trujillo
Gerente de compras
Avda. de la Constitución 2222
05021 México D.F.
Tel: (5) 555-4729
Enviado desde mi iPhone

El lun, 3 dic 2026 a las 10:12, Pedro <pedro@x.com> escribió:
> ¿Cuántos quieren?"""
SPANISH_KINDS = (
    ["header", "header", "blank", "greeting", "blank", "content", "content", "content", "blank"]
    + ["closing"]
    + ["signature"] * 6
    + ["blank", "quote", "quote"]
)

FRENCH = """Bonjour Madame,

Merci pour votre devis.
Nous voudrions commander vingt cartons de bière et 6 Camembert Pierrot, commande n° 778.

Cordialement,
Paul Henriot
Vins et alcools Chevalier
59 rue de l'Abbaye
51100 Reims
Tél. : 26.47.15.10

Le 2 déc. 2026 à 09:30, Service <vente@northwind.example> a écrit :
> Voici notre offre"""
FRENCH_KINDS = (
    ["greeting", "blank", "closing", "content", "blank", "closing"]
    + ["signature"] * 5
    + ["blank", "quote", "quote"]
)

ENGLISH = """Subject: Order – Ernst Handel, PO 4471-B
From: orders@ernsthandel.at

Hi team,
I hope this email finds you well.
Please send 12 tofu, thanks!
Thanks! Also 5 konbu please
Best regards,
Roland Mendel
Sales Manager
Ernst Handel
Kirchgasse 6
8010 Graz
Phone: +43 7675 3425
PS: please add 3 Chai too
--
Sent from my iPhone"""
ENGLISH_KINDS = (
    ["header", "header", "blank", "greeting", "greeting", "content", "content", "closing"]
    + ["signature"] * 6
    + ["content", "signature", "signature"]
)

ITALIAN = """Da: Giovanni Rovelli <g@rovelli.it>
Oggetto: R: ordine n. 55

Buongiorno,
15 confezioni di Mozzarella di Giovanni
Cordiali saluti
Giovanni Rovelli
Via Ludovico il Moro 22
24100 Bergamo
Tel. 035-640230"""
ITALIAN_KINDS = ["header", "header", "blank", "greeting", "content", "closing"] + ["signature"] * 4

PORTUGUESE = """Prezados,
Espero que estejam bem.
6 caixas de Guaraná Fantástica
Atenciosamente,
Pedro Afonso
Rua do Mercado, 12
05487-020 São Paulo
Telefone: (11) 555-7647"""
PORTUGUESE_KINDS = ["greeting", "greeting", "content", "closing"] + ["signature"] * 4


@pytest.mark.parametrize(
    ("message", "expected"),
    [(GERMAN, GERMAN_KINDS), (SPANISH, SPANISH_KINDS), (FRENCH, FRENCH_KINDS),
     (ENGLISH, ENGLISH_KINDS), (ITALIAN, ITALIAN_KINDS), (PORTUGUESE, PORTUGUESE_KINDS)],
    ids=["de", "es", "fr", "en", "it", "pt"],
)  # fmt: skip
def test_whole_email(message: str, expected: list[str]) -> None:
    infos = classify_lines(message)
    assert [(i.text, i.kind) for i in infos] == list(
        zip(message.split("\n"), expected, strict=True)
    )


def test_line_offsets_and_fields() -> None:
    infos = classify_lines(GERMAN)
    assert [i.index for i in infos] == list(range(len(GERMAN.split("\n"))))
    assert all(GERMAN[i.start : i.end] == i.text for i in infos)
    assert infos[0].fields["from_domain"] == "alfreds.de"
    assert infos[3].fields["po_number"] == "4500012345"
    assert all(not i.fields for i in infos if i.kind != "header")


def test_speed_of_a_forty_line_email() -> None:
    message = "\n".join((GERMAN + "\n" + ENGLISH).split("\n")[:40])
    classify_lines(message)  # compile the patterns once
    best = min(_timed(message) for _ in range(5))
    assert best < 0.005, f"{best * 1000:.2f} ms"


def _timed(message: str) -> float:
    start = time.perf_counter()
    for info in classify_lines(message):
        strip_courtesy(info.text)
    return time.perf_counter() - start


# --- the property: random emails ---------------------------------------------------------
ORDER_TEMPLATES = [
    "{n} tofu", "Tofu x{n}", "{n} unidades de queso manchego", "vingt cartons de bière",
    "1 box of {n} pens", "{n} x Ikura", "Outback Lager - {n}", "{n} Kisten Bier",
    "dazu {n} Flaschen Chartreuse", "{n} cajas de Queso Cabrales",
    "{n} bouteilles de Côte de Blaye", "{n} caixas de Guaraná Fantástica",
    "{n} confezioni di Mozzarella", "please add {n} Chai", "Also {n} konbu please",
]  # fmt: skip
GREETING_LINES = ["Hi team,", "Hallo Herr Müller,", "Estimados señores:", "Bonjour Madame,",
                  "Prezados,", "Buongiorno,", "Dear Sir or Madam", "Hola Juan,"]  # fmt: skip
CLOSING_LINES = ["Best regards,", "Mit freundlichen Grüßen", "Un saludo", "Cordialement,",
                 "Atenciosamente,", "Cordiali saluti", "Thanks a lot", "Viele Grüße"]  # fmt: skip
NAMES = ["Maria Anders", "Ana Trujillo", "Paul Henriot", "Giovanni Rovelli", "Pedro Afonso",
         "Roland Mendel", "Sales Manager", "Einkauf", "Gerente de compras",
         "Alfreds Futterkiste GmbH", "Vins et alcools Chevalier", "Ernst Handel"]  # fmt: skip
SIGNATURE_TEMPLATES = [
    "Tel. +43 {a4} {b4}", "Fax: (0{a2}) {b7}", "Mob. 0049 171 {b7}", "Phone: +1 (503) 555-{a4}",
    "Tél. : {a2}.{b2}.{c2}.{d2}", "Telefone: (11) 555-{a4}", "Obere Str. {s}",
    "{z5} Berlin", "{s} Hanover Sq.", "Avda. de la Constitución {s}", "Via Monte Bianco {s}",
    "Rua Orós, {s}", "{s}, place Kléber", "C/ Araquil, {s}", "Kirchgasse {s}", "PO {a4}-B",
    "Ref: AB-{a4}", "Bestellnummer 45000{a4}", "Order No. 1{a4}", "www.alfreds.de",
    "maria@alfreds.de", "USt-IdNr.: DE{b7}{a2}",
]  # fmt: skip


def _digits(draw: st.DrawFn, count: int) -> str:
    return f"{draw(st.integers(0, 10**count - 1)):0{count}d}"


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    orders = [
        template.format(n=draw(st.integers(1, 500)))
        for template in draw(st.lists(st.sampled_from(ORDER_TEMPLATES), min_size=1, max_size=6))
    ]
    signature = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    for template in draw(st.lists(st.sampled_from(SIGNATURE_TEMPLATES), max_size=5)):
        parts = {k: _digits(draw, n) for k, n in
                 (("a2", 2), ("b2", 2), ("c2", 2), ("d2", 2), ("a4", 4), ("b4", 4), ("b7", 7),
                  ("z5", 5))}  # fmt: skip
        parts["s"] = str(draw(st.integers(1, 999)))
        signature.append(template.format(**parts))
    lines = [draw(st.sampled_from(GREETING_LINES)), *orders, draw(st.sampled_from(CLOSING_LINES))]
    return "\n".join(lines + signature), orders, signature


@settings(max_examples=150, deadline=None)
@given(emails())
def test_random_emails_keep_every_order_line(email: tuple[str, list[str], list[str]]) -> None:
    message, orders, signature = email
    infos: list[LineInfo] = classify_lines(message)
    body = infos[1 : 1 + len(orders)]
    assert [(i.text, i.kind) for i in body] == [(line, "content") for line in orders]
    assert infos[0].kind == "greeting" and infos[1 + len(orders)].kind == "closing"
    tail = infos[2 + len(orders) :]
    assert [(i.text, i.kind) for i in tail] == [(line, "signature") for line in signature]
    for line in orders:
        quantity = re.search(r"\d+", line)
        if quantity:
            assert all(
                s.end <= quantity.start() or s.start >= quantity.end() for s in find_noise(line)
            )


@pytest.mark.parametrize(
    ("segment", "value"),
    [("Delivery to dock 3", "3"), ("KW 51", "51"), ("cust. no. 4471", "4471"), ("Tor 7", "7")],
)
def test_places_and_weeks_are_references_not_quantities(segment: str, value: str) -> None:
    assert [span.value for span in find_noise(segment)] == [value]
