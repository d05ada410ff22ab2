"""The Streamlit app in AppTest: the chat flow to a confirmed order, and every page.

Real store underneath: a SQLite file seeded with Northwind, Chroma on disk in the test's
tmp dir, the real embedding model and the offline order model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from config import PROJECT_ROOT, get_settings
from db.models import Order
from orders.drafts import create_draft, open_draft_for_thread, set_open_items
from tests.ui.conftest import fresh_clients

APP = str(PROJECT_ROOT / "app.py")
PAGES = ["ui/chat.py", "ui/orders.py", "ui/catalog.py", "ui/memory.py", "ui/prompt_lab.py"]


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def say(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest) -> dict[int, int]:
    frame = at.dataframe[0].value
    return {int(p): int(q) for p, q in zip(frame["product_id"], frame["quantity"], strict=True)}


def orders_placed(url: str) -> int:
    engine = create_engine(url)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).where(Order.order_id > 11077))
    engine.dispose()
    return count or 0


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_chat_to_confirmed_order(seeded: str) -> None:
    at = say(app(), "Alfreds Futterkiste wants 12 Queso Cabrales and 5 tofu")
    assert table(at) == {11: 12, 14: 5}
    assert any("Total: $368.25" in m.value for m in at.markdown)
    assert any("Alfreds Futterkiste" in m.value for m in at.sidebar.markdown)
    click(at, "Confirm")
    assert at.success and "Order **11078** confirmed" in at.success[0].value
    assert orders_placed(seeded) == 1


def test_an_edit_in_chat_updates_the_table(seeded: str) -> None:
    at = say(app(), "Ernst Handel: 20 tofu, 3 ikura")
    assert table(at) == {14: 20, 10: 3}
    say(at, "make the tofu 30")
    assert table(at) == {14: 30, 10: 3}
    say(at, "drop the ikura")
    assert table(at) == {14: 30}


def test_cancel_leaves_no_order(seeded: str) -> None:
    at = say(app(), "Bon app: 4 ikura")
    click(at, "Cancel")
    assert not at.dataframe
    assert orders_placed(seeded) == 0


def test_two_sessions_do_not_share_a_conversation(seeded: str) -> None:
    first = say(app(), "Alfreds Futterkiste: 3 tofu")
    second = app()
    assert not second.dataframe and not second.chat_message
    say(second, "Bon app: 2 ikura")
    assert table(second) == {10: 2} and table(first) == {14: 3}
    assert first.session_state["claimed"] != second.session_state["claimed"]


WIDGETS_QUESTION = "We have no blue widgets: what did you mean by '3 blue widgets'?"


def button(at: AppTest, label: str) -> Any:
    return next(button for button in at.button if button.label == label)


def test_confirm_is_disabled_with_the_reason_while_the_draft_needs_attention(
    seeded: str, store_engine: Engine
) -> None:
    at = app()
    thread_id = at.session_state["claimed"]
    with Session(store_engine) as session:  # the state the desk leaves for an unplaced phrase
        create_draft(
            session=session,
            customer_id="ALFKI",
            lines=[{"product_id": 11, "quantity": 12}],
            thread_id=thread_id,
            open_items=[
                {"kind": "unplaced", "phrase": "3 blue widgets", "question": WIDGETS_QUESTION}
            ],
        )
        session.commit()
    at.run()

    assert table(at) == {11: 12}
    confirm = button(at, "Confirm")
    assert confirm.disabled and WIDGETS_QUESTION in (confirm.help or "")
    assert at.warning and WIDGETS_QUESTION in at.warning[0].value
    assert f"Cannot confirm yet: the draft needs attention first: {WIDGETS_QUESTION}" in (
        at.warning[1].value
    )
    assert "3 blue widgets" in at.warning[0].value
    assert not button(at, "Cancel").disabled

    with Session(store_engine) as session:  # the question answered
        draft = open_draft_for_thread(session=session, thread_id=thread_id)
        assert draft is not None
        set_open_items(session=session, draft_id=draft.draft_id, items=[])
        session.commit()
    at.run()
    assert not button(at, "Confirm").disabled and not at.warning
    click(at, "Confirm")
    assert at.success and "confirmed" in at.success[0].value
    assert orders_placed(seeded) == 1


def test_a_draft_with_only_open_items_is_shown_with_its_questions(
    seeded: str, store_engine: Engine
) -> None:
    at = app()
    with Session(store_engine) as session:
        create_draft(
            session=session,
            customer_id=None,
            thread_id=at.session_state["claimed"],
            open_items=[{"kind": "unknown_customer", "phrase": "Zyx", "question": "Who is Zyx?"}],
        )
        session.commit()
    at.run()
    assert not at.exception, at.exception
    assert not at.dataframe  # no lines, no table
    assert at.warning and "Who is Zyx?" in at.warning[0].value
    assert button(at, "Confirm").disabled


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_a_seeded_store(seeded: str, page: str) -> None:
    at = app()
    at.switch_page(page).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(store: str, page: str) -> None:
    at = app()
    at.switch_page(page).run()
    assert not at.exception, at.exception


def test_orders_page_shows_the_history(seeded: str) -> None:
    at = app()
    at.switch_page("ui/orders.py").run()
    assert len(at.dataframe[0].value) == 50  # first page of 830
    assert any("Orders per month" in h.value for h in at.subheader)


def test_catalog_search_shows_scores(seeded: str) -> None:
    at = app()
    at.switch_page("ui/catalog.py").run()
    at.text_input[0].set_value("mozarella").run()
    next(t for t in at.toggle if t.label == "Details").set_value(True).run()  # scores on
    results = at.dataframe[0].value
    assert results["product"].iloc[0] == "Mozzarella di Giovanni"
    assert 0 < results["score"].iloc[0] <= 1


def test_bad_configuration_is_shown_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/shop")
    get_settings.cache_clear()
    at = app()
    assert not at.exception
    assert "DATABASE_URL: unknown scheme 'mysql'" in at.error[0].value


def test_unreachable_database_is_shown_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
    get_settings.cache_clear()
    fresh_clients()
    at = app()
    assert not at.exception
    assert "cannot start" in at.error[0].value
    # It says which database (password masked) and what to do about it.
    assert "127.0.0.1:1/nowhere" in at.error[0].value and "DATABASE_URL" in at.error[0].value
    fresh_clients()


def test_memory_page_adds_and_deletes(seeded: str) -> None:
    at = app()
    at.switch_page("ui/memory.py").run()
    at.text_area[0].set_value("Always wants the 1 kg packs")
    next(b for b in at.button if b.label == "Add memory").click().run()
    assert not at.exception, at.exception
    assert any("Always wants the 1 kg packs" in m.value for m in at.markdown)
    deletes = [b for b in at.button if b.label == "Delete"]
    assert deletes
    deletes[0].click().run()
    next(b for b in at.button if b.label == "Yes, delete it").click().run()  # the dialog
    assert not any("Always wants the 1 kg packs" in m.value for m in at.markdown)


def test_sidebar_shows_what_memory_recalls(seeded: str) -> None:
    at = say(app(), "remember that Alfreds Futterkiste always wants the 1 kg packs")
    say(at, "Alfreds Futterkiste wants 3 tofu")
    recalled = [m.value for m in at.sidebar.caption]
    assert any("1 kg packs" in text for text in recalled), recalled
