"""The Chat page in AppTest: conversations that survive, the first page, one draft view.

Real store underneath (a seeded SQLite file), the real embedding model, the offline
model, the checkpointer in the same database; each AppTest is a fresh browser session.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.models import Order, OrderEvent
from tests.ui.test_pages import APP, click, say, table

ORDER = "Alfreds Futterkiste wants 12 Queso Cabrales and 5 tofu"


def browser(**query: str) -> AppTest:
    """A new browser session (a reload, a bookmark) opening the page with `query`."""
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def url_of(at: AppTest) -> dict[str, str]:
    return {name: str(value) for name, value in at.query_params.items()}


def assistant_texts(at: AppTest) -> list[str]:
    return [
        " ".join(m.value for m in message.markdown)
        for message in at.chat_message
        if message.name == "assistant"
    ]


def test_the_conversation_is_in_the_url_and_survives_a_reload(seeded: str) -> None:
    first = say(browser(), ORDER)
    url = url_of(first)
    assert url["c"] == first.session_state["claimed"] and len(url["k"]) == 32
    say(first, "make the tofu 7")

    again = browser(**url)  # the same link in a new session: a reload
    assert again.session_state["claimed"] == url["c"]
    users = [m for m in again.chat_message if m.name == "user"]
    assert [" ".join(x.value for x in m.markdown) for m in users] == [ORDER, "make the tofu 7"]
    assert assistant_texts(again) == assistant_texts(first)
    assert table(again) == {11: 12, 14: 7}


def test_someone_elses_conversation_is_not_opened(seeded: str) -> None:
    mine = say(browser(), ORDER)
    stranger = browser(c=url_of(mine)["c"])  # the thread id, without its owner's key
    assert stranger.session_state["claimed"] != url_of(mine)["c"]
    assert any("not one of yours" in info.value for info in stranger.info)
    assert not stranger.dataframe and not [m for m in stranger.chat_message if m.name == "user"]
    forged = browser(c="../../etc/passwd", k=url_of(mine)["k"])
    assert forged.session_state["claimed"].startswith("ui-")
    assert any("not one of yours" in info.value for info in forged.info)


def test_the_sidebar_lists_conversations_and_discards_a_draft(seeded: str) -> None:
    at = say(browser(), ORDER)
    key = url_of(at)["k"]
    first = url_of(at)["c"]
    click(at, "➕ New conversation")
    assert url_of(at)["c"] != first and not at.dataframe
    say(at, "Ernst Handel: 4 ikura")
    labels = [b.label for b in at.sidebar.button]
    assert ORDER in labels and "▶ Ernst Handel: 4 ikura" in labels

    next(b for b in at.sidebar.button if b.label == ORDER).click().run()
    assert url_of(at) == {"c": first, "k": key}
    assert table(at) == {11: 12, 14: 5}
    discard = next(b for b in at.sidebar.button if b.key == f"discard-{first}")
    discard.click().run()
    assert not at.exception, at.exception
    assert not at.dataframe  # this conversation's draft is gone
    assert not any(b.key == f"discard-{first}" for b in at.sidebar.button)


def test_an_empty_conversation_offers_examples_and_open_drafts(seeded: str) -> None:
    at = say(browser(), ORDER)
    click(at, "➕ New conversation")
    pills = at.get("button_group")
    assert pills, "no example pills"
    options = pills[0].options
    assert len(options) == 3
    drafts = [b for b in at.button if b.key and b.key.startswith("resume-")]
    assert len(drafts) == 1 and "Alfreds Futterkiste" in drafts[0].label
    assert any("No orders yet today" in c.value for c in at.caption)

    pills[0].set_value(options[0]).run()  # an example is sent as if typed
    assert not at.exception, at.exception
    users = [m for m in at.chat_message if m.name == "user"]
    assert [" ".join(x.value for x in m.markdown) for m in users] == [options[0]]
    assert at.dataframe, "the example drafted nothing"


def test_the_reply_summarises_and_the_steps_are_plain_words(seeded: str) -> None:
    at = say(browser(), ORDER)
    reply = assistant_texts(at)[-1]
    assert "Draft for Alfreds Futterkiste (ALFKI): 2 lines (Queso Cabrales, Tofu)" in reply
    assert "total $368.25" in reply
    assert "Queso Cabrales @" not in reply  # the table is the draft; the reply does not repeat it
    steps = [status for status in at.get("status") if "step" in status.label]
    assert steps, "no steps box"
    words = " ".join(m.value for m in steps[-1].markdown)
    assert "Looked up “Queso Cabrales” → Queso Cabrales" in words
    assert "product_id" not in words and "{" not in words


def test_confirm_shows_the_order_and_it_survives_a_reload(seeded: str) -> None:
    at = say(browser(), ORDER)
    click(at, "Confirm")
    assert at.success and "Order **11078** confirmed for Alfreds Futterkiste" in at.success[0].value
    again = browser(**url_of(at))
    assert again.success and "11078" in again.success[0].value
    assert not again.dataframe


def test_the_browser_session_confirms_by_its_keys_digest_never_the_key(
    seeded: str, store_engine: Engine
) -> None:
    at = say(browser(), ORDER)
    key = url_of(at)["k"]
    say(at, "make the tofu 7")
    click(at, "Confirm")
    with Session(store_engine) as session:
        order = session.scalars(select(Order).order_by(Order.order_id.desc())).first()
        actors = set(
            session.scalars(
                select(OrderEvent.actor).where(
                    (OrderEvent.draft_id == order.draft_id)
                    | (OrderEvent.order_id == order.order_id)
                )
            )
        )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    assert order.created_by == f"browser session {digest}"
    assert actors == {f"browser session {digest}"}  # drafted, changed and confirmed by it
    assert all(key not in (actor or "") for actor in actors)
