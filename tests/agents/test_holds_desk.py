"""Stock holds through the offline desk, as two members of staff meet them: the second
conversation drafting for stock the first holds is told how many are available, that
the rest is held and until when; it confirms once the first draft is discarded; and a
stock question answers with what is available, not what is on the shelf."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Engine, update

from agents.desk import OrderDesk
from db.models import Product
from tests.agents.conftest import stock_of

Thread = Callable[[], str]
TOFU = 14


def set_stock(engine: Engine, product_id: int, units: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Product).where(Product.product_id == product_id).values(units_in_stock=units)
        )


def test_the_second_draft_is_told_of_the_hold_and_confirms_once_it_goes(
    desk: OrderDesk, thread: Thread, seeded_engine: Engine
) -> None:
    set_stock(seeded_engine, TOFU, 20)
    first, second = thread(), thread()
    held = desk.chat(first, "Ernst Handel: 15 tofu")
    assert held.draft is not None and held.draft.confirmable

    short = desk.chat(second, "Bon app': 10 tofu")
    assert short.draft is not None and not short.draft.confirmable
    assert re.search(
        r"only 5 available .*15 are held by another draft until \d\d:\d\d", short.reply
    )
    assert short.attention  # flagged, not silent

    desk.chat(first, "discard the draft")
    assert desk.current_draft(first) is None
    done = desk.chat(second, "confirm")
    assert done.order_id is not None, done.reply
    assert stock_of(seeded_engine, TOFU) == 10


def test_the_first_draft_keeps_what_it_holds(
    desk: OrderDesk, thread: Thread, seeded_engine: Engine
) -> None:
    set_stock(seeded_engine, TOFU, 20)
    first, second = thread(), thread()
    desk.chat(first, "Ernst Handel: 15 tofu")
    desk.chat(second, "Bon app': 10 tofu")  # asks for more than is left
    done = desk.chat(first, "yes")
    assert done.order_id is not None, done.reply
    refused = desk.chat(second, "yes")
    assert refused.order_id is None and stock_of(seeded_engine, TOFU) == 5


def test_a_stock_question_answers_with_what_is_available(
    desk: OrderDesk, thread: Thread, seeded_engine: Engine
) -> None:
    set_stock(seeded_engine, TOFU, 20)
    mine, other = thread(), thread()
    desk.chat(mine, "Ernst Handel: 15 tofu")
    answer = desk.chat(other, "how much tofu do we have in stock?")
    assert "Tofu (#14" in answer.reply
    assert re.search(r"Tofu \(#14[^\n]*5 available \(15 held by other drafts\)", answer.reply)
    own = desk.chat(mine, "how much tofu do we have in stock?")  # its own hold is its own
    assert re.search(r"Tofu \(#14[^\n]*20 available", own.reply), own.reply
