"""Items: each quantity bound to its product phrase, whatever the form and the order."""

from __future__ import annotations

import pytest

from agents.reading.items import read_items

# (segment, [(phrase, quantity), ...]): phrases compared case- and accent-sensitively as written.
BINDINGS = [
    ("12 Queso Cabrales", [("Queso Cabrales", 12)]),
    ("Queso Cabrales x12", [("Queso Cabrales", 12)]),
    ("Queso Cabrales ×12", [("Queso Cabrales", 12)]),
    ("12x Queso Cabrales", [("Queso Cabrales", 12)]),
    ("12 x Queso Cabrales", [("Queso Cabrales", 12)]),
    ("Queso Cabrales - 12", [("Queso Cabrales", 12)]),
    ("Queso Cabrales: 12", [("Queso Cabrales", 12)]),
    ("Queso Cabrales (qty 12)", [("Queso Cabrales", 12)]),
    ("12 pcs Queso Cabrales", [("Queso Cabrales", 12)]),
    ("12 units of Queso Cabrales", [("Queso Cabrales", 12)]),
    ("Queso Cabrales 12", [("Queso Cabrales", 12)]),
    ("a dozen Queso Cabrales", [("Queso Cabrales", 12)]),
    ("konbu xtwenty", [("konbu", 20)]),
    ("ikura - twenty", [("ikura", 20)]),
    (
        "Gnocchi di nonna Alice x8 and Outback Lager x24",
        [("Gnocchi di nonna Alice", 8), ("Outback Lager", 24)],
    ),
    ("15 tofu 9 clam chowder 30 lager", [("tofu", 15), ("clam chowder", 9), ("lager", 30)]),
    ("20 unidades de queso manchego", [("queso manchego", 20)]),
    ("diez cajas de cerveza Laughing Lumberjack", [("cerveza Laughing Lumberjack", 10)]),
    ("zwölf Stück Tofu", [("Tofu", 12)]),
    ("vingt cartons de Pâté chinois", [("Pâté chinois", 20)]),
    ("seis caixas de Chocolade", [("Chocolade", 6)]),
    ("dodici pezzi di Mozzarella di Giovanni", [("Mozzarella di Giovanni", 12)]),
    ("wants 5 tofu", [("tofu", 5)]),
    ("a dozen each of Geitost and Flotemysost", [("Geitost", 12), ("Flotemysost", 12)]),
]


@pytest.mark.parametrize(("segment", "expected"), BINDINGS)
def test_each_quantity_binds_to_its_product(segment: str, expected: list) -> None:
    asks = read_items(segment).asks
    assert [(ask.phrase, ask.quantity) for ask in asks] == expected


def test_words_no_quantity_claims_are_leftovers_not_dropped() -> None:
    items = read_items("the mozzarella")
    assert items.asks == []
    assert items.leftovers == ["mozzarella"]


def test_the_customer_before_an_order_cue_is_kept() -> None:
    items = read_items("Acme Widgets wants 5 tofu")
    assert [(a.phrase, a.quantity) for a in items.asks] == [("tofu", 5)]
    assert items.customer_phrase == "Acme Widgets"


@pytest.mark.parametrize("segment", ["3.5 tofu", "-5 tofu", "tofu x 2.5"])
def test_a_quantity_that_is_not_whole_is_kept_refused_not_dropped(segment: str) -> None:
    (ask,) = read_items(segment).asks
    assert ask.phrase == "tofu"
    assert ask.quantity is None and ask.refused


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("two (2) Konbu", [("Konbu", 2)]),
        ("12 // tofu", [("tofu", 12)]),
        ("tofu=12", [("tofu", 12)]),
    ],
)
def test_a_quantity_written_twice_or_behind_punctuation_is_one(
    segment: str, expected: list
) -> None:
    assert [(a.phrase, a.quantity) for a in read_items(segment).asks] == expected
