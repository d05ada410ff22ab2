"""Open items: stored with the draft, replaced and cleared, gone with it, and blocking confirmation.

On SQLite and PostgreSQL: the items are read back in a new session in the order given,
a bad item is refused and changes nothing, a discarded or deleted draft takes its items
with it, and `confirm_draft` refuses a draft that still has any (the last line of
defence under the desk's gate), leaving stock, orders and the draft as they were.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, func, inspect, select, text
from sqlalchemy.orm import Session

from db.engine import init_schema
from db.models import Draft, DraftOpenItem, DraftStatus
from orders.confirm import confirm_draft
from orders.drafts import create_draft, discard_draft, get_draft, set_open_items
from orders.errors import (
    DraftClosed,
    DraftNeedsAttention,
    EmptyDraft,
    InvalidOpenItems,
    OrderError,
    UnknownProduct,
)
from orders.schemas import OpenItem
from tests.orders.conftest import store_state

MOZZARELLA = {
    "kind": "ambiguous",
    "phrase": "5 mozzarella",
    "quantity": 5,
    "question": "Which mozzarella: Mozzarella di Giovanni or Gorgonzola Telino?",
    "candidates": [72, 31],
}
WIDGETS = {
    "kind": "unplaced",
    "phrase": "3 blue widgets",
    "quantity": 3,
    "question": "We have no blue widgets: what did you mean?",
}
TOFU_QTY = {"kind": "bad_quantity", "phrase": "some tofu", "question": "How many tofu?"}


def item_rows(session: Session, draft_id: int) -> int:
    query = select(func.count()).select_from(DraftOpenItem)
    return session.scalar(query.where(DraftOpenItem.draft_id == draft_id)) or 0


def drafted(session: Session, **extra: object) -> int:
    draft = create_draft(
        session=session,
        customer_id="ALFKI",
        lines=[{"product_id": 11, "quantity": 2}],
        thread_id="t-open",
        **extra,  # type: ignore[arg-type]
    )
    session.commit()
    return draft.draft_id


def test_open_items_are_stored_and_read_back_in_order(seeded: Engine) -> None:
    with Session(seeded) as session:
        draft_id = drafted(session, open_items=[MOZZARELLA, WIDGETS, TOFU_QTY])
    with Session(seeded) as session:
        draft = get_draft(session=session, draft_id=draft_id)
    assert [item.model_dump() for item in draft.open_items] == [
        MOZZARELLA,
        WIDGETS | {"candidates": []},
        TOFU_QTY | {"quantity": None, "candidates": []},
    ]
    assert draft.needs_attention and not draft.confirmable
    assert draft.questions == [MOZZARELLA["question"], WIDGETS["question"], "How many tofu?"]
    dumped = draft.model_dump(mode="json")
    assert dumped["needs_attention"] is True and dumped["open_items"][0]["candidates"] == [72, 31]


def test_set_open_items_replaces_them_and_an_empty_list_clears_them(session: Session) -> None:
    draft_id = drafted(session, open_items=[MOZZARELLA, WIDGETS])

    replaced = set_open_items(session=session, draft_id=draft_id, items=[TOFU_QTY])
    session.commit()
    assert [item.phrase for item in replaced.open_items] == ["some tofu"]
    assert item_rows(session, draft_id) == 1

    cleared = set_open_items(session=session, draft_id=draft_id, items=[])
    session.commit()
    assert cleared.open_items == [] and not cleared.needs_attention and cleared.confirmable
    assert item_rows(session, draft_id) == 0
    assert [line.product_id for line in cleared.lines] == [11]  # the lines are untouched


def test_a_draft_may_have_no_lines_while_it_has_open_items_or_a_customer(
    session: Session,
) -> None:
    questions_only = create_draft(session=session, customer_id=None, open_items=[WIDGETS])
    customer_only = create_draft(session=session, customer_id="ALFKI")
    assert questions_only.lines == [] and questions_only.needs_attention
    assert customer_only.lines == [] and not customer_only.confirmable
    session.commit()
    before = store_state(session)
    with pytest.raises(EmptyDraft, match="nothing to draft"):
        create_draft(session=session, customer_id=None, lines=[], open_items=[])
    session.rollback()
    assert store_state(session) == before


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"kind": "maybe", "phrase": "x", "question": "?"}, InvalidOpenItems),
        ({"kind": "unplaced", "phrase": "x", "question": "   "}, InvalidOpenItems),
        ({"kind": "unplaced", "phrase": "x"}, InvalidOpenItems),
        ({"kind": "unplaced", "question": "?", "quantity": 2**40}, InvalidOpenItems),
        ({"kind": "unplaced", "question": "?", "phrase": "x" * 501}, InvalidOpenItems),
        (
            {"kind": "ambiguous", "question": "?", "candidates": list(range(1, 30))},
            InvalidOpenItems,
        ),
        ({"kind": "ambiguous", "question": "Which?", "candidates": [999]}, UnknownProduct),
        ("not an item", InvalidOpenItems),
    ],
)
def test_bad_open_items_are_refused_and_change_nothing(
    session: Session, item: object, error: type[OrderError]
) -> None:
    draft_id = drafted(session, open_items=[WIDGETS])
    before = store_state(session)
    with pytest.raises(error) as caught:
        create_draft(session=session, customer_id="ALFKI", open_items=[item])  # type: ignore[list-item]
    assert str(caught.value)
    session.rollback()
    with pytest.raises(error):
        set_open_items(session=session, draft_id=draft_id, items=[item])  # type: ignore[list-item]
    session.rollback()
    assert store_state(session) == before
    assert [i.phrase for i in get_draft(session=session, draft_id=draft_id).open_items] == [
        "3 blue widgets"
    ]


def test_too_many_open_items_are_refused(session: Session) -> None:
    many = [WIDGETS | {"phrase": f"widget {n}"} for n in range(51)]
    with pytest.raises(InvalidOpenItems, match="at most 50"):
        create_draft(session=session, customer_id="ALFKI", open_items=many)


def test_discarding_a_draft_takes_its_open_items(session: Session) -> None:
    draft_id = drafted(session, open_items=[MOZZARELLA, WIDGETS])
    discarded = discard_draft(session=session, draft_id=draft_id)
    session.commit()
    assert discarded.status == "discarded" and discarded.open_items == []
    assert item_rows(session, draft_id) == 0
    with pytest.raises(DraftClosed):
        set_open_items(session=session, draft_id=draft_id, items=[WIDGETS])


def test_deleting_a_draft_row_cascades_to_its_open_items(session: Session) -> None:
    draft_id = drafted(session, open_items=[MOZZARELLA, WIDGETS])
    # A plain DELETE, not the ORM's cascade: the database's ON DELETE CASCADE does it.
    session.execute(delete(Draft.__table__).where(Draft.__table__.c.draft_id == draft_id))
    session.commit()
    assert item_rows(session, draft_id) == 0


def test_confirm_refuses_a_draft_with_open_items_and_changes_nothing(session: Session) -> None:
    draft_id = drafted(session, open_items=[MOZZARELLA, WIDGETS])
    before = store_state(session)
    with pytest.raises(DraftNeedsAttention) as caught:
        confirm_draft(session=session, draft_id=draft_id, idempotency_key="k-open")
    assert MOZZARELLA["question"] in str(caught.value)
    assert WIDGETS["question"] in str(caught.value)
    assert caught.value.questions == [MOZZARELLA["question"], WIDGETS["question"]]
    assert store_state(session) == before
    assert session.get(Draft, draft_id).status is DraftStatus.OPEN  # answer, then confirm

    set_open_items(session=session, draft_id=draft_id, items=[])
    session.commit()
    order = confirm_draft(session=session, draft_id=draft_id, idempotency_key="k-open")
    assert [(line.product_id, line.quantity) for line in order.lines] == [(11, 2)]


def test_open_item_model_defaults() -> None:
    item = OpenItem(kind="question", question="  Deliver on Friday?  ")
    assert (item.phrase, item.quantity, item.candidates, item.question) == (
        "",
        None,
        [],
        "Deliver on Friday?",
    )


def test_init_schema_adds_the_table_to_a_store_made_before_it(engine: Engine) -> None:
    # A store from before the table, and so from before migrations: no alembic_version.
    DraftOpenItem.__table__.drop(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert "draft_open_items" not in inspect(engine).get_table_names()
    with Session(engine) as session:
        session.add(Draft(thread_id="old", customer_id=None))
        session.commit()

    init_schema(engine)

    assert "draft_open_items" in inspect(engine).get_table_names()
    with Session(engine) as session:
        draft_id = session.scalar(select(Draft.draft_id).where(Draft.thread_id == "old"))
        assert get_draft(session=session, draft_id=draft_id).open_items == []
        set_open_items(session=session, draft_id=draft_id, items=[TOFU_QTY])
        session.commit()
        assert get_draft(session=session, draft_id=draft_id).needs_attention
