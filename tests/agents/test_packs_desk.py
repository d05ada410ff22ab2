"""Unit words through the offline desk: what is inside a unit is converted aloud or asked.

Real parts throughout (seeded SQLite / PostgreSQL store, embeddings, Chroma, the offline
model). Hypothesis writes "<code>: <k*n> <item word> of <product>" from the real catalog
(n: how many of that item one unit holds, by its quantity_per_unit) and checks the draft
holds k units and the reply says the conversion; a count that is not whole units drafts
no line, blocks confirmation and asks with the whole numbers around it. Fixed
conversations check the answers ("2", "1 case", "make it 2 cases") on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.desk import OrderDesk, Turn
from agents.reading.lexicon import words
from agents.reading.text import fold
from db.seed import northwind_products
from orders.packs import item_word, measure_of, parse_pack
from tests.agents.conftest import Northwind

Thread = Callable[[], str]
# The English plural the reader reads as a unit word, per item (the test's own table).
PLURAL = {
    "bottle": "bottles",
    "box": "boxes",
    "bag": "bags",
    "jar": "jars",
    "package": "packages",
    "piece": "pieces",
    "tin": "tins",
}
PACKS = {int(p["product_id"]): str(p["quantity_per_unit"]) for p in northwind_products()}


def lines(turn: Turn) -> dict[int, int]:
    return {line.product_id: line.quantity for line in turn.draft.lines} if turn.draft else {}


def raised(turn: Turn) -> bool:
    return bool(turn.attention) or bool(turn.draft and turn.draft.needs_attention)


@st.composite
def inner_counts(draw: st.DrawFn, northwind: Northwind) -> tuple[str, int, str, int, int]:
    """(customer code, product id, product name, per-unit count, item word) of a product
    in stock whose pack counts an item the reader has a word for."""
    choices = []
    for product in northwind.catalog.products:
        pack = parse_pack(PACKS[product.product_id])
        for level in pack.levels:
            count = pack.per_unit(level.item)
            if level.item in PLURAL and count is not None and count > 1:
                choices.append((product, count, PLURAL[level.item]))
    product, count, word = draw(st.sampled_from(choices))
    customer = draw(st.sampled_from(northwind.catalog.customers))
    return customer.customer_id, product.product_id, product.name, count, word  # type: ignore[return-value]


def _k(northwind: Northwind, product_id: int, data: st.DataObject, low: int) -> int:
    stock = next(p.stock for p in northwind.catalog.products if p.product_id == product_id)
    return data.draw(st.integers(low, max(low, min(stock, 8))))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whole_inner_counts_draft_units_and_say_so(
    northwind: Northwind, data: st.DataObject
) -> None:
    code, pid, name, n, word = data.draw(inner_counts(northwind))
    k = _k(northwind, pid, data, 1)
    turn = northwind.desk.chat(f"t-{uuid.uuid4().hex[:12]}", f"{code}: {k * n} {word} of {name}")
    assert lines(turn) == {pid: k}, turn.reply
    assert f"{k * n:,} {word} of {name} = {k} case" in turn.reply


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_counts_that_are_not_whole_units_are_asked(
    northwind: Northwind, data: st.DataObject
) -> None:
    code, pid, name, n, word = data.draw(inner_counts(northwind))
    k = _k(northwind, pid, data, 0)
    r = data.draw(st.integers(1, n - 1))
    turn = northwind.desk.chat(
        f"t-{uuid.uuid4().hex[:12]}", f"{code}: {k * n + r} {word} of {name}"
    )
    assert pid not in lines(turn)
    assert raised(turn) and turn.draft is not None and not turn.draft.confirmable
    assert turn.draft.customer_id == code
    choices = f"{k} or {k + 1} cases?" if k else f"1 case ({n} {word})?"
    assert choices in turn.reply
    assert f"{k * n + r:,} {word} of {name}" in turn.reply


@pytest.mark.parametrize(
    ("answer", "units"),
    [
        ("2", 2),
        ("1 case", 1),
        ("make it 2 cases", 2),
        ("2 caisses alors", 2),  # a filler beside the answer is not a product
        ("pode ser 1", 1),
        ("let's say 2", 2),
    ],
)
def test_the_answer_places_the_line(
    desk: OrderDesk, thread: Thread, answer: str, units: int
) -> None:
    t = thread()
    asked = desk.chat(t, "Ernst Handel wants 36 bottles of Sasquatch Ale")
    assert lines(asked) == {} and raised(asked)
    assert "36 bottles of Sasquatch Ale = 1.5 cases (24 - 12 oz bottles each): 1 or 2 cases?" in (
        asked.reply
    )
    refused = desk.chat(t, "yes")
    assert refused.order_id is None and not refused.pending
    answered = desk.chat(t, answer)
    assert lines(answered) == {34: units}
    assert answered.draft.customer_id == "ERNSH" and answered.draft.confirmable


def test_pack_words_inner_words_and_plain_numbers(desk: OrderDesk, thread: Thread) -> None:
    turn = desk.chat(
        thread(), "Ernst Handel: 3 cases of Sasquatch Ale, 48 bottles of Steeleye Stout, 5 tofu"
    )
    assert lines(turn) == {34: 3, 35: 2, 14: 5}
    assert "48 bottles of Steeleye Stout = 2 cases of 24 - 12 oz bottles" in turn.reply
    assert not raised(turn)


def test_an_answer_in_bottles_changes_nothing(desk: OrderDesk, thread: Thread) -> None:
    t = thread()
    desk.chat(t, "Ernst Handel wants 36 bottles of Sasquatch Ale")
    turn = desk.chat(t, "48 bottles")
    assert lines(turn) == {} and raised(turn)
    assert "how many cases" in turn.reply


def test_a_unit_word_the_product_is_not_sold_in(desk: OrderDesk, thread: Thread) -> None:
    turn = desk.chat(
        thread(), "Ernst Handel: 5 kg of Sasquatch Ale and 4 bottles of Boston Crab Meat"
    )
    assert lines(turn) == {} and raised(turn)
    assert "5 kg” of Sasquatch Ale" in turn.reply and "4 bottles” of Boston Crab Meat" in turn.reply


def test_every_reader_unit_word_is_known_to_the_packs() -> None:
    """A unit word the reader reads but orders.packs does not know would be 'unknown' for
    every product: each one names an item or a measure."""
    unknown = {w for w in words("unit") if item_word(w) is None and measure_of(w) is None}
    assert unknown == set(), sorted(unknown)
    assert fold("Stück") in words("unit")
