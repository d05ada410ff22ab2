"""Unit words on a drafted line: "48 bottles of Sasquatch Ale" is 2 units, said aloud.

The offline model calls `counted_in_units` once a line's product is known and the reader
found a unit word beside its quantity. The domain (`orders.packs`) says what that word
means for the product's `quantity_per_unit`; this module turns the answer into the plan:
a word naming the unit leaves the quantity alone, a whole conversion replaces it and
says so in the reply ("48 bottles of Sasquatch Ale = 2 cases of 24 - 12 oz bottles"), and
anything else - 36 bottles of a case of 24, kg of a product sold in bottles - becomes an
open question (a `bad_quantity` item with the product as its one candidate, so a bare
"2" or "1 case" next answers it) instead of a line.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Protocol

from agents.reading.items import Ask
from orders.packs import (
    PACK_ITEMS,
    Conversion,
    Pack,
    convert,
    item_in_phrase,
    item_word,
    parse_pack,
)


class _Plan(Protocol):
    notes: list[str]

    def ask(self, item: dict[str, Any]) -> None: ...


def counted_in_units(plan: _Plan, ask: Ask, product: dict[str, Any]) -> bool:
    """True when the line may be placed with `ask.quantity` units (converted in place
    when the unit word counted something inside the unit, with a note saying so); False
    when the quantity does not come to whole units and the plan asks instead."""
    if ask.quantity is None or ask.factor is not None:
        return True
    pack = parse_pack(product.get("quantity_per_unit"))
    name = str(product.get("name") or product.get("product_name") or ask.phrase)
    if not ask.unit:  # "48 botles of lumberjak lager": the pack's own word, misspelt
        ask.unit = item_in_phrase(ask.phrase, pack, name)
        if not ask.unit:
            return True
    conversion = convert(ask.quantity, ask.unit, pack)
    if conversion.kind == "units":
        return True
    if conversion.whole:
        ask.quantity = int(conversion.units or 0)
        plan.notes.append(converted(conversion, pack, name))
        return True
    question = not_whole(conversion, pack, name) if conversion.units else unfit(ask, pack, name)
    plan.ask(_question_item(ask.source or ask.phrase, question, [int(product["product_id"])]))
    return False


def pack_hint(question: str, ask: Ask, product: dict[str, Any] | None) -> str:
    """A question about a quantity that is no whole number ("half a case"), with what one
    unit of the product is, so the answer can be given in units."""
    if not (ask.unit and ask.refused and product and product.get("quantity_per_unit")):
        return question
    pack = parse_pack(product["quantity_per_unit"])
    return f"{question} (1 {unit_name(pack, 1)} of {product['name']} = {pack.text}.)"


def converted(conversion: Conversion, pack: Pack, name: str) -> str:
    """ "48 bottles of Sasquatch Ale = 2 cases of 24 - 12 oz bottles." """
    units = int(conversion.units or 0)
    of = pack.text.rstrip(".")  # "5 kg pkg." ends the sentence once
    return f"↻ {_asked(conversion, name)} = {units} {unit_name(pack, units)} of {of}."


def not_whole(conversion: Conversion, pack: Pack, name: str) -> str:
    """ "36 bottles of Sasquatch Ale = 1.5 cases (24 - 12 oz bottles each): 1 or 2 cases?" """
    units = conversion.units or Fraction(0)
    said = f"❓ {_asked(conversion, name)} = {_number(units)} {unit_name(pack, 2)}"
    choices = conversion.choices
    if len(choices) == 1:
        one = f"{_number(conversion.per_unit or Fraction(1))} {conversion.word}"
        return f"{said} ({pack.text} each), less than one: 1 {unit_name(pack, 1)} ({one})?"
    low, high = choices
    return f"{said} ({pack.text} each): {low} or {high} {unit_name(pack, high)}?"


def unfit(ask: Ask, pack: Pack, name: str) -> str:
    """ "5 kg of Sasquatch Ale": a unit word this product is not counted in."""
    sold = f"sold as {pack.text}" if pack.text else "sold by the unit"
    return (
        f"❓ “{ask.quantity} {ask.unit}” of {name}: {name} is {sold}, so I can't tell"
        f" how many units that is. How many {unit_name(pack, 2)}?"
    )


def unit_name(pack: Pack, count: int) -> str:
    """What one unit of `pack` is called in a reply: "case" for a pack that counts items
    inside ("24 - 12 oz bottles"), the pack's own word ("package" of "5 kg pkg."), else
    "unit"; plural unless `count` is 1."""
    word = "case" if pack.levels else pack.item or "unit"
    if count == 1:
        return word
    return f"{word}es" if word.endswith(("x", "s")) else f"{word}s"


def _asked(conversion: Conversion, name: str) -> str:
    return f"{conversion.quantity:,} {conversion.word} of {name}"


def _number(value: Fraction) -> str:
    """1.5, 0.75, 1.33: a fraction as people read it (two decimals at most)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def holds_customer(item: dict[str, Any]) -> bool:
    """An open quantity question about one known product ("1 or 2 cases?") keeps a draft
    with no lines yet, so the customer is still there when the answer comes. A refused
    quantity ("✗ 0 is not a quantity", "✗ 3.7 ...") is not one: bad input changes nothing."""
    return (
        item.get("kind") == "bad_quantity"
        and len(item.get("candidates") or []) == 1
        and str(item.get("question", "")).startswith("❓")
    )


def answers_open(ask: Ask, remaining: list[dict[str, Any]]) -> bool:
    """ "make it 2 cases" right after "1 or 2 cases?": "it" is the product asked about."""
    asked = [item for item in remaining if holds_customer(item)]
    return ask.reference == "it" and ask.quantity is not None and len(asked) == 1


def answer_in_units(
    plan: _Plan, ask: Ask, remaining: list[dict[str, Any]], on_draft: list[dict[str, Any]]
) -> bool:
    """True when a quantity with no product ("2", "1 case", "make it 2 cases") may be taken
    as units; "48 bottles" is not (the open question or line it answers is in cases), so
    the reply asks for the number of units and nothing changes."""
    if not ask.unit or item_word(ask.unit) in PACK_ITEMS:
        return True
    if not remaining and not on_draft:
        return True  # nothing it could answer: the model asks what it is for
    question = (
        f"❓ “{ask.raw_quantity or ask.quantity}”: how many cases (units of the product's"
        " pack) is that? I changed nothing."
    )
    if remaining:
        plan.notes.append(question)  # the open question it answers stays open
    else:
        ids = [int(on_draft[0]["product_id"])] if len(on_draft) == 1 else []
        phrase = (ask.source or ask.raw_quantity or "")[:200]
        plan.ask(_question_item(phrase, question, ids))
    return False


def _question_item(phrase: str, question: str, candidates: list[int]) -> dict[str, Any]:
    """An open `bad_quantity` item (the shape the model's open items have)."""
    return {
        "kind": "bad_quantity",
        "phrase": phrase[:200],
        "quantity": None,
        "question": question,
        "candidates": candidates,
    }
