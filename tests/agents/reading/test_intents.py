"""Intents: requests besides order lines, read per sentence, in every language."""

from __future__ import annotations

import pytest

from agents.reading.intents import find_order_number, sentence_request, whole_message_request
from agents.reading.reader import read_message

STATUS = [
    ("where is order 10250?", 10250),
    ("any update on #10835", 10835),
    ("wo ist die Bestellung 10250?", 10250),
    ("¿dónde está el pedido 10250?", 10250),
    ("où en est la commande 10250 ?", 10250),
]


@pytest.mark.parametrize(("sentence", "order_id"), STATUS)
def test_status_requests(sentence: str, order_id: int) -> None:
    request = sentence_request(sentence, has_quantity=False)
    assert request is not None and (request.intent, request.order_id) == ("status", order_id)


def test_cancel_that_order_names_no_number() -> None:
    request = sentence_request("cancel that order", has_quantity=False)
    assert request is not None and (request.intent, request.order_id) == ("cancel_order", None)


def test_a_postal_code_is_not_an_order_number_without_order_words() -> None:
    assert sentence_request("Obere Str. 57, 12209 Berlin", has_quantity=False) is None


def test_two_requests_in_one_message_are_both_read() -> None:
    reading = read_message("where is order 10250? and add 3 konbu for Ernst Handel")
    assert reading.intent == "order"
    # The customer is cut out by the model (it knows the customers); the reader keeps it.
    (ask,) = reading.asks
    assert ask.quantity == 3 and ask.phrase.startswith("konbu")
    assert [(r.intent, r.order_id) for r in reading.requests] == [("status", 10250)]


@pytest.mark.parametrize(
    "message",
    ["what do you know about Ernst Handel?", "what did they order last time?"],
)
def test_memory_questions(message: str) -> None:
    request = whole_message_request(message.lower())
    assert request is not None and request.intent == "habits"


def test_order_numbers() -> None:
    assert find_order_number("order no. 10250") == 10250
    assert find_order_number("12 tofu") is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("12 tofu — sorry, 14", [("tofu", 14)]),
        ("12 tofu, I mean 14", [("tofu", 14)]),
        ("5 ikura, 3 konbu, actually no konbu", [("ikura", 5)]),
        ("Item: Outback Lager\nQty: 12", [("Outback Lager", 12)]),
        ("12 Flotemysost (not 10), 8 Geitost", [("Flotemysost", 12), ("Geitost", 8)]),
    ],
)
def test_corrections_inside_one_message(message: str, expected: list) -> None:
    asks = [(a.phrase, a.quantity) for a in read_message(message).asks]
    assert asks == expected


def test_a_question_about_it_after_a_question_about_a_product_is_one_question() -> None:
    reading = read_message("Do we still carry Gudbrandsdalsost? what does it cost")
    assert reading.intent == "search" and "gudbrandsdalsost" in (reading.query or "")
    assert reading.requests == []
