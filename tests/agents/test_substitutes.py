"""Substitutes through the offline desk, end to end: a line that cannot be sold as asked
is flagged with its in-stock alternatives, and the user's answer swaps one in or ships
what is available.

Real parts throughout (seeded SQLite and PostgreSQL, the embedding model, Chroma, the
checkpointer); the alternatives expected are read from the desk's own catalog search,
and the words are read by the offline model as a user types them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from agents.desk import OrderDesk, Turn
from agents.offline.substitutes import read_choice
from db.models import Draft, Product
from orders.stock import aware
from tests.agents.conftest import Northwind
from tests.agents.fixtures_loop import (  # noqa: F401 - fixtures
    DeskFactory,
    catalog_fixture,
    loop_collection_fixture,
    make_desk_fixture,
    store_fixture,
    thread_id_fixture,
)
from tests.fakes import ScriptedChatModel, call, calls_tools, says

GUMBO = "Alfreds Futterkiste wants 10 Chef Anton's Gumbo Mix"  # 5: discontinued


def lines(turn: Turn) -> dict[int, int]:
    assert turn.draft is not None, turn.reply
    return {line.product_id: line.quantity for line in turn.draft.lines}


def offered(desk: OrderDesk, turn: Turn, product_id: int) -> list[str]:
    assert turn.draft is not None
    return [o.name for o in desk.alternatives(turn.draft)[product_id].options]


@contextmanager
def stock(engine: Engine, product_id: int, **values: object) -> Iterator[None]:
    with Session(engine) as session:
        product = session.get(Product, product_id)
        assert product is not None
        before = {name: getattr(product, name) for name in values}
    with engine.begin() as connection:
        connection.execute(update(Product).where(Product.product_id == product_id).values(values))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(
                update(Product).where(Product.product_id == product_id).values(before)
            )


def test_a_discontinued_line_names_alternatives_and_use_the_first_swaps(
    desk: OrderDesk, thread: Callable[[], str]
) -> None:
    t = thread()
    first = desk.chat(t, GUMBO)
    names = offered(desk, first, 5)
    assert names[0] == "Chef Anton's Cajun Seasoning" and len(names) == 3
    assert "⚠ Chef Anton's Gumbo Mix is discontinued. In stock instead: 1) " + names[0] in (
        first.reply
    )
    assert all(name in first.reply for name in names) and "“use the first”" in first.reply
    assert first.attention and not first.pending  # flagged: it cannot be confirmed yet
    drafted = next(s for s in first.steps if s.name == "draft_order").result
    listed = drafted["draft"]["lines"][0]["alternatives"]  # what an LLM reads too
    assert [a["name"] for a in listed] == names
    assert {"product_id", "unit_price", "available", "quantity_per_unit"} <= set(listed[0])

    swapped = desk.chat(t, "use the first")
    assert lines(swapped) == {4: 10}
    assert "Swapped Chef Anton's Gumbo Mix for Chef Anton's Cajun Seasoning" in swapped.reply
    assert swapped.draft is not None and swapped.draft.confirmable and not swapped.attention

    t = thread()
    desk.chat(t, GUMBO)
    assert lines(desk.chat(t, f"swap to {names[1]}")) == {65: 10}


def test_a_short_line_ships_what_is_available(
    desk: OrderDesk, seeded_engine: Engine, thread: Callable[[], str]
) -> None:
    with stock(seeded_engine, 14, units_in_stock=3):
        t = thread()
        first = desk.chat(t, "Save-a-lot Markets: 4 tofu please")
        assert "⚠ Tofu: only 3 available (4 asked)" in first.reply
        assert "“ship what's available” (3)" in first.reply and "Longlife Tofu" in first.reply
        shipped = desk.chat(t, "just send what you have")
        assert lines(shipped) == {14: 3} and "cut from 4 to the 3 available" in shipped.reply
        assert shipped.draft is not None and shipped.draft.confirmable
        assert desk.chat(t, "yes").order_id is not None

    with stock(seeded_engine, 10, units_in_stock=0):  # Ikura: none at all
        t = thread()
        desk.chat(t, "Bon app' would like 5 Ikura and 10 Konbu")
        cut = desk.chat(t, "ship what's available")
        assert lines(cut) == {13: 10}
        assert "Ikura: none available, so I removed it" in cut.reply


def test_stock_held_by_another_draft_is_named_with_its_time(
    desk: OrderDesk, seeded_engine: Engine, thread: Callable[[], str]
) -> None:
    with stock(seeded_engine, 14, units_in_stock=8):
        desk.chat(thread(), "Ernst Handel wants 5 tofu")  # holds 5 of the 8
        with Session(seeded_engine) as session:
            until = session.scalars(select(Draft.hold_until).where(Draft.status == "open")).one()
        t = thread()
        turn = desk.chat(t, "Save-a-lot Markets: 6 tofu please")
        clock = f"{aware(until).astimezone():%H:%M}"  # type: ignore[union-attr]
        assert f"only 3 available (6 asked) — 5 are held by another draft until {clock}" in (
            turn.reply
        )
        assert lines(desk.chat(t, "ship what's available")) == {14: 3}


def test_edits_after_an_offer_stay_edits(desk: OrderDesk, thread: Callable[[], str]) -> None:
    t = thread()
    desk.chat(t, "Alfreds Futterkiste wants 10 Chef Anton's Gumbo Mix and 4 Tofu")
    assert lines(desk.chat(t, "make the tofu 6")) == {5: 10, 14: 6}
    assert lines(desk.chat(t, "also 3 Louisiana Fiery Hot Pepper Sauce")) == {5: 10, 14: 6, 65: 3}
    assert lines(desk.chat(t, "remove the first one")) == {14: 6, 65: 3}


def test_the_desk_methods_swap_and_ship_and_refuse_cleanly(
    desk: OrderDesk, seeded_engine: Engine, thread: Callable[[], str]
) -> None:
    t = thread()
    desk.chat(t, GUMBO)
    refused = desk.swap_line(t, 5, 999_999, user="tester")
    assert refused.error and "999999" in refused.reply and lines(refused) == {5: 10}
    done = desk.swap_line(t, 5, 6, user="tester")
    assert not done.error and lines(done) == {6: 10} and "Grandma's" in done.reply
    with stock(seeded_engine, 6, units_in_stock=7):
        cut = desk.ship_available(t, 6, user="tester")
        assert lines(cut) == {6: 7} and "cut from 10 to the 7 available" in cut.reply
    assert desk.ship_available(t, 77, user="tester").error  # not on the draft
    assert desk.swap_line(thread(), 5, 4).error  # no draft at all


@pytest.mark.parametrize(
    ("text", "kind", "index"),
    [
        ("use the first", "pick", 1),
        ("the second one please", "pick", 2),
        ("take option 3", "pick", 3),
        ("ok, option #2", "pick", 2),
        ("the 2nd alternative for the mutton, please", "pick", 2),
        ("nimm den ersten", "pick", 1),
        ("je prends le deuxième", "pick", 2),
        ("me quedo con la primera", "pick", 1),
        ("ok swap it", "it", None),
        ("swap to Longlife Tofu", "name", None),
        ("ship what's available", "ship", None),
        ("reduce it to what's in stock", "ship", None),
        ("mandad lo que haya", "ship", None),
        ("schickt was da ist", "ship", None),
        ("envoyez ce qui est disponible", "ship", None),
        ("va bene, manda quello che c'è", "ship", None),
        ("pode mandar o que tiver", "ship", None),
        ("ok ship whatever's free", "ship", None),
        ("ok, the alternative then", "it", None),
        ("prendi la seconda", "pick", 2),
        ("fico com a primeira opção", "pick", 1),
    ],
)
def test_read_choice(text: str, kind: str, index: int | None) -> None:
    choice = read_choice(text)
    assert choice is not None and (choice.kind, choice.index) == (kind, index)


@pytest.mark.parametrize(
    "text",
    [
        "make the tofu 30",
        "also 5 Tourtière",
        "what do you have in stock?",
        "12 konbu",
        "no",
        "what alternatives are there?",
    ],
)
def test_read_choice_leaves_other_messages(text: str) -> None:
    assert read_choice(text) is None


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(product=st.integers(min_value=0, max_value=999), quantity=st.integers(1, 9), pick=st.data())
def test_any_product_taken_off_sale_swaps_to_the_alternative_chosen(
    northwind: Northwind, product: int, quantity: int, pick: st.DataObject
) -> None:
    products = northwind.catalog.products  # in stock and on sale in Northwind
    item = products[product % len(products)]
    desk = northwind.desk
    with stock(desk.engine, item.product_id, discontinued=True):
        t = f"prop-{item.product_id}-{quantity}-{id(pick)}"
        first = desk.chat(t, f"Alfreds Futterkiste wants {quantity} {item.name}")
        assume(first.draft is not None and lines(first) == {item.product_id: quantity})
        options = desk.alternatives(first.draft)[item.product_id].options  # type: ignore[arg-type]
        assume(options)
        assert all(option.name in first.reply for option in options)
        n = pick.draw(st.integers(1, len(options)))
        said = pick.draw(
            st.sampled_from(["use number {n}", "take option {n}", "option {n} please"])
        )
        turn = desk.chat(t, said.format(n=n))
        assert lines(turn) == {options[n - 1].product_id: quantity}, turn.reply
        desk.reject(t)


# --- the tools, as an LLM calls them (both backends) ---------------------------------------


def test_an_llm_sees_the_alternatives_and_swaps_and_ships_through_the_tools(
    make_desk: DeskFactory, thread_id: str
) -> None:
    gumbo, tofu = {"product_id": 5, "quantity": 10}, {"product_id": 14, "quantity": 50}
    model = ScriptedChatModel(
        script=[
            calls_tools(call("draft_order", customer_id="ALFKI", lines=[gumbo, tofu])),
            says("Drafted."),
            calls_tools(call("swap_line", from_product_id=5, to_product_id=4)),
            says("Swapped."),
            calls_tools(call("swap_line", from_product_id=4, to_product_id=999_999)),
            says("Refused."),
            calls_tools(call("ship_available")),
            says("Cut."),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds: 10 gumbo mix, 50 tofu")
    drafted = json.loads(model.tool_results(1)["draft_order"])["draft"]["lines"]
    assert [a["product_id"] for a in drafted[0]["alternatives"]][:1] == [4]
    assert drafted[1]["ship_available"] == 35 and drafted[1]["alternatives"]
    assert 5 not in [a["product_id"] for line in drafted for a in line["alternatives"]]

    desk.chat(thread_id, "use the first for the gumbo")
    swapped = json.loads(model.tool_results(3)["swap_line"])
    assert swapped["swapped"]["quantity"] == 10
    assert [x["product_id"] for x in swapped["draft"]["lines"]] == [4, 14]

    desk.chat(thread_id, "swap it to product 999999")
    assert "999999" in json.loads(model.tool_results(5)["swap_line"])["error"]

    turn = desk.chat(thread_id, "ship what's available")
    shipped = json.loads(model.tool_results(7)["ship_available"])["shipped"]
    assert shipped == [
        {"product_id": 14, "product_name": "Tofu", "asked": 50, "quantity": 35, "removed": False}
    ]
    assert lines(turn) == {4: 10, 14: 35}


def test_the_message_that_drafts_a_flagged_line_is_not_read_as_a_choice(
    desk: OrderDesk, thread: Callable[[], str], seeded_engine: Engine
) -> None:
    """ "PO number: 1" drafts Aniseed Syrup with PO 1; with the syrup off sale the line is
    flagged, and the same message read again must not take "number: 1" as option 1."""
    with stock(seeded_engine, 3, discontinued=True):
        t = thread()
        turn = desk.chat(t, "PO number: 1\nAniseed Syrup x1 for Alfreds Futterkiste")
        assert lines(turn) == {3: 1} and turn.draft is not None and turn.draft.customer_po == "1"
        assert "Swapped" not in turn.reply and turn.attention
        again = desk.chat(t, "PO number: 2")  # a header edit, with the offer on screen
        assert lines(again) == {3: 1} and again.draft is not None
        assert again.draft.customer_po == "2"
