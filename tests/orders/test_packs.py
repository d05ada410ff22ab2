"""orders.packs: every real quantity_per_unit reads, and conversions are exact or said not to be.

Table tests for the shapes the catalogs use, then hypothesis properties over the real
Northwind products (db.seed's rows, as the store holds them): k units' worth of an inner
item is exactly k units, a remainder is never whole and offers the whole numbers around
it, a word naming the unit leaves the quantity alone, and a word that does not fit the
product is unknown. Superstore's products (no pack text: "each") count nothing inside.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.seed import northwind_products, superstore_products
from orders.packs import (
    ITEM_WORDS,
    MULTIPLES,
    PACK_ITEMS,
    Pack,
    convert,
    item_in_phrase,
    item_word,
    parse_pack,
)

NORTHWIND = {int(p["product_id"]): str(p["quantity_per_unit"]) for p in northwind_products()}
NAMES = {int(p["product_id"]): str(p["name"]) for p in northwind_products()}
COUNTED = {pid: text for pid, text in NORTHWIND.items() if parse_pack(text).levels}


@pytest.mark.parametrize(
    ("text", "levels", "item"),
    [
        ("24 - 12 oz bottles", [(24, "bottle")], None),
        ("10 boxes x 30 bags", [(10, "box"), (30, "bag")], None),
        ("12 - 550 ml bottles", [(12, "bottle")], None),
        ("36 boxes", [(36, "box")], None),
        ("1 kg pkg.", [], "package"),
        ("5 kg pkg.", [], "package"),
        ("1k pkg.", [], "package"),
        ("2 kg box", [], "box"),
        ("24 pkgs. x 4 pieces", [(24, "package"), (4, "piece")], None),
        ("750 cc per bottle", [], "bottle"),
        ("500 g", [], None),
        ("48 pieces", [(48, "piece")], None),
        ("16 pies", [(16, "pie")], None),
        ("24 boxes x 2 pies", [(24, "box"), (2, "pie")], None),
        ("50 bags x 30 sausgs.", [(50, "bag"), (30, "sausage")], None),
        ("30 gift boxes", [(30, "box")], None),
        ("20 - 450 g glasses", [(20, "jar")], None),
        ("24 - 250 g  jars", [(24, "jar")], None),
        ("24 - 0.5 l bottles", [(24, "bottle")], None),
        ("each", [], None),
        ("", [], None),
        (None, [], None),
    ],
)
def test_parse_pack(text: str | None, levels: list[tuple[int, str]], item: str | None) -> None:
    pack = parse_pack(text)
    assert [(level.count, level.item) for level in pack.levels] == levels
    assert pack.item == item


def test_every_catalog_pack_reads() -> None:
    """Every Northwind text reads into levels or one named thing (or a plain measure);
    every Superstore product is one thing each, counting nothing inside."""
    for pid, text in NORTHWIND.items():
        pack = parse_pack(text)
        assert pack.levels or pack.item or pack.size, (pid, text)
        assert pack.text == text.strip()
    for product in superstore_products():
        pack = parse_pack(product["quantity_per_unit"])  # type: ignore[arg-type]
        assert (pack.levels, pack.item, pack.size) == ((), None, None)
        assert convert(7, "pcs", pack).units == 7
        assert convert(7, None, pack).units == 7


@pytest.mark.parametrize(
    ("quantity", "word", "text", "kind", "units"),
    [
        (48, "bottles", "24 - 12 oz bottles", "inner", 2),
        (36, "bottles", "24 - 12 oz bottles", "inner", Fraction(3, 2)),
        (36, "Flaschen", "24 - 12 oz bottles", "inner", Fraction(3, 2)),
        (48, "botellas", "24 - 12 oz bottles", "inner", 2),
        (3, "cases", "24 - 12 oz bottles", "units", 3),
        (3, "Kisten", "24 - 12 oz bottles", "units", 3),
        (5, "boxes", "10 boxes x 30 bags", "inner", Fraction(1, 2)),
        (600, "bags", "10 boxes x 30 bags", "inner", 2),
        (2, "cartons", "10 boxes x 30 bags", "units", 2),
        (2, "pkgs", "1 kg pkg.", "units", 2),
        (2, "paquetes", "1 kg pkg.", "units", 2),
        (4, "bottles", "750 cc per bottle", "units", 4),
        (10, "kg", "5 kg pkg.", "measure", 2),
        (4, "kg", "2 kg box", "measure", 2),
        (12, "lb", "12 - 1 lb pkgs.", "measure", 1),
        (5, "kg", "24 - 12 oz bottles", "unknown", None),
        (4, "bottles", "24 - 4 oz tins", "unknown", None),
        (2, "pallets", "24 - 12 oz bottles", "unknown", None),
        (6, "garrafas", "500 ml", "units", 6),
        (2, "bags", "500 g", "units", 2),
        (2, "pallets", "500 g", "unknown", None),
        (60, "sausages", "50 bags x 30 sausgs.", "inner", Fraction(1, 25)),
        (12, "Stück", "10 boxes x 12 pieces", "inner", Fraction(1, 10)),
        (12, "Stück", "40 - 100 g pkgs.", "units", 12),
    ],
)
def test_convert(
    quantity: int, word: str, text: str, kind: str, units: Fraction | int | None
) -> None:
    conversion = convert(quantity, word, parse_pack(text))
    assert conversion.kind == kind
    assert conversion.units == units


def test_choices() -> None:
    pack = parse_pack("24 - 12 oz bottles")
    assert convert(36, "bottles", pack).choices == (1, 2)
    assert convert(18, "bottles", pack).choices == (1,)
    assert convert(48, "bottles", pack).choices == ()
    assert convert(5, "kg", pack).choices == ()


def _inner_word(pack: Pack, data: st.DataObject) -> tuple[str, int]:
    """A word for one of the pack's counted items, as the catalog writes it or in any
    language, and how many of it one unit holds."""
    level = data.draw(st.sampled_from(pack.levels))
    word = data.draw(st.sampled_from([level.word, *ITEM_WORDS[level.item]]))
    per_unit = pack.per_unit(level.item)
    assert per_unit is not None
    return word, per_unit


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(COUNTED)), k=st.integers(1, 40), data=st.data())
def test_whole_inner_counts_are_exact(pid: int, k: int, data: st.DataObject) -> None:
    pack = parse_pack(COUNTED[pid])
    word, n = _inner_word(pack, data)
    conversion = convert(k * n, word, pack)
    assert conversion.kind == "inner", (word, pack)
    assert conversion.units == k and conversion.whole
    assert conversion.per_unit == n


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(COUNTED)), k=st.integers(0, 40), data=st.data())
def test_remainders_are_not_whole(pid: int, k: int, data: st.DataObject) -> None:
    pack = parse_pack(COUNTED[pid])
    word, n = _inner_word(pack, data)
    if n == 1:
        return
    r = data.draw(st.integers(1, n - 1))
    conversion = convert(k * n + r, word, pack)
    assert not conversion.whole
    assert conversion.units == Fraction(k * n + r, n)
    assert conversion.choices == ((k, k + 1) if k >= 1 else (1,))


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(NORTHWIND)), q=st.integers(1, 500), data=st.data())
def test_unit_words_keep_the_quantity(pid: int, q: int, data: st.DataObject) -> None:
    """ "3 cases", "2 Kartons", "diez cajas": units, unless the pack counts that item."""
    pack = parse_pack(NORTHWIND[pid])
    inside = {level.item for level in pack.levels}
    items = sorted(PACK_ITEMS - inside)
    word = data.draw(st.sampled_from([w for item in items for w in ITEM_WORDS[item]]))
    assert convert(q, word, pack).units == q
    assert convert(q, None, pack).units == q


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(NORTHWIND)), q=st.integers(1, 500), data=st.data())
def test_unrelated_words_are_unknown(pid: int, q: int, data: st.DataObject) -> None:
    """An item the product is not packed in, or a measure it has no size in, is unknown."""
    pack = parse_pack(NORTHWIND[pid])
    named = {level.item for level in pack.levels} | {pack.item} | PACK_ITEMS
    if not pack.levels and pack.item is None:
        named = set(ITEM_WORDS) - MULTIPLES  # "500 ml": one thing, in whatever it comes
    items = sorted(set(ITEM_WORDS) - named)
    word = data.draw(st.sampled_from([w for item in items for w in ITEM_WORDS[item]]))
    conversion = convert(q, word, pack)
    assert conversion.kind == "unknown" and conversion.units is None
    if pack.size is None or pack.size[0] != "mass":
        assert convert(q, "kg", pack).kind == "unknown"


def test_item_words() -> None:
    assert item_word("pkgs.") == item_word("Packungen") == item_word("packets") == "package"
    assert item_word("sausgs.") == "sausage"
    assert item_word("Gläser") == item_word("glasses") == "jar"
    assert item_word("bouteilles") == item_word("garrafas") == item_word("bottiglie") == "bottle"
    assert item_word("gift boxes") == "box"
    assert item_word("widgets") is None


def _misspelt(word: str, data: st.DataObject) -> str:
    """The word as typed in a hurry: as is, a letter dropped, or its consonants only."""
    how = data.draw(st.sampled_from(["as is", "drop", "consonants"]))
    if how == "drop" and len(word) > 4:
        at = data.draw(st.integers(1, len(word) - 2))
        return word[:at] + word[at + 1 :]
    if how == "consonants" and len(word) > 4:
        return word[0] + "".join(c for c in word[1:] if c not in "aeiou")
    return word


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(COUNTED)), data=st.data())
def test_the_packs_own_word_is_found_in_the_phrase_misspelt(pid: int, data: st.DataObject) -> None:
    pack, name = parse_pack(COUNTED[pid]), NAMES[pid]
    level = data.draw(st.sampled_from(pack.levels))
    typed = _misspelt(level.word.lower().rstrip("."), data)
    phrase = data.draw(
        st.sampled_from([f"{typed} of {name}", f"{typed} {name}", f"{name} {typed}"])
    )
    if typed in name.lower().split():
        return  # a word of the name itself is never taken
    found = item_in_phrase(phrase, pack, name)
    assert found is not None and item_word(found) == level.item, (phrase, found)


@settings(max_examples=30, deadline=None)
@given(pid=st.sampled_from(sorted(NORTHWIND)))
def test_a_products_name_alone_has_no_pack_word(pid: int) -> None:
    assert item_in_phrase(NAMES[pid], parse_pack(NORTHWIND[pid]), NAMES[pid]) is None


def test_a_description_is_not_a_count_of_items() -> None:
    pies = parse_pack("16 pies")
    assert item_in_phrase("meat pies", pies, "Tourtière") is None
    assert item_in_phrase("tourtière pies", pies, "Tourtière") == "pies"
