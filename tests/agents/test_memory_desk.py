"""Customer memory through OrderDesk with the offline model, on SQLite and PostgreSQL.

Real parts: the seeded database, the real embedding model, real Chroma (a PersistentClient
in tmp_path where a memory must outlive its desk), the checkpointer. Each test checks what
the memory store holds afterwards, and what each turn showed the model (`turn.memories`,
and replies the offline model writes from the system prompt's `<memories>` block).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from agents.desk import OrderDesk
from bootstrap import build_services
from config import get_settings, load_settings
from memory.habits import usual_products
from memory.outbox import OutboxRelay, pending_count
from memory.store import MemoryStore, open_memory_store
from rag.catalog_index import get_catalog_collection
from rag.chroma import create_chroma_client
from rag.embeddings import MiniLMEmbeddingFunction
from tests.agents.conftest import new_orders, open_desk

Thread = Callable[[], str]


def lines(turn: object) -> dict[int, int]:
    draft = turn.draft  # type: ignore[attr-defined]
    return {line.product_id: line.quantity for line in draft.lines} if draft else {}


def persistent_desk(engine: Engine, path: Path, embedder: MiniLMEmbeddingFunction) -> OrderDesk:
    """A desk whose catalog and memories live in a Chroma directory, as in production."""
    client = create_chroma_client(load_settings(chroma_path=path))
    return build_services(
        get_settings(),
        engine=engine,
        embedder=embedder,
        catalog_collection=get_catalog_collection(client, embedder=embedder),
        memory=open_memory_store(client, embedder=embedder),
        provider="offline",
    ).desk


def refused_store(embedder: MiniLMEmbeddingFunction) -> tuple[Any, MemoryStore]:
    """A memory store whose collection is gone: every read and write on it fails in Chroma."""
    client = create_chroma_client(load_settings(), ephemeral=True)
    name = f"gone_{uuid.uuid4().hex[:8]}"
    store = open_memory_store(client, embedder=embedder, name=name)
    client.delete_collection(name)
    return client, store


@pytest.fixture
def memory(desk: OrderDesk) -> MemoryStore:
    assert desk.memory is not None
    return desk.memory


@pytest.fixture
def chroma_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "chroma"


def test_a_preference_is_recalled_in_a_new_thread_of_a_new_desk(
    seeded_engine: Engine, chroma_path: Path, embedder: MiniLMEmbeddingFunction
) -> None:
    first = persistent_desk(seeded_engine, chroma_path, embedder)
    try:
        noted = first.chat("t-one", "remember that Alfreds always wants the 1 kg packs")
        assert "Noted for Alfreds Futterkiste (ALFKI)" in noted.reply
    finally:
        first.close()
    del first
    second = persistent_desk(seeded_engine, chroma_path, embedder)
    try:
        turn = second.chat(f"t-{uuid.uuid4().hex}", "what does Alfreds usually order?")
        assert turn.customer_id == "ALFKI"
        assert [(m.kind, m.text, m.thread_id) for m in turn.memories] == [
            ("preference", "Alfreds always wants the 1 kg packs", "t-one")
        ]
        # The offline model read it from the system prompt's <memories> block.
        assert "Noted: “Alfreds always wants the 1 kg packs”" in turn.reply
        assert "6 orders on record" in turn.reply
        order_turn = second.chat(f"t-{uuid.uuid4().hex}", "Alfreds wants 3 tofu")
        assert [m.text for m in order_turn.memories] == ["Alfreds always wants the 1 kg packs"]
    finally:
        second.close()


def test_remember_writes_exactly_one_memory_for_the_right_customer(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    memory.add("ALFKI", "Alfreds pays by card", "note")
    t = thread()
    turn = desk.chat(t, "note: Ernst Handel pays on delivery")
    assert memory.count() == 2
    [noted] = memory.list("ERNSH")
    assert (noted.kind, noted.text, noted.thread_id) == ("note", "Ernst Handel pays on delivery", t)
    assert [m.text for m in memory.list("ALFKI")] == ["Alfreds pays by card"]
    assert turn.customer_id == "ERNSH" and [m.id for m in turn.memories] == [noted.id]
    assert [step.name for step in turn.steps] == ["remember"]


def test_remember_uses_the_drafts_customer_or_asks(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    lost = desk.chat(thread(), "remember they like deliveries before 9")
    assert "Which customer" in lost.reply and memory.count() == 0
    t = thread()
    desk.chat(t, "Ernst Handel: 20 tofu")
    turn = desk.chat(t, "please note they always want deliveries before 9")
    [noted] = memory.list("ERNSH")
    assert (noted.kind, noted.text) == ("preference", "They always want deliveries before 9")
    assert memory.count() == 1 and lines(turn) == {14: 20}  # the draft is untouched


def test_same_as_last_time_drafts_the_last_confirmed_order_exactly(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    t = thread()
    desk.chat(t, "Alfreds Futterkiste: 3 tofu, 2 konbu and 7 ikura")
    confirmed = desk.chat(t, "yes")
    assert confirmed.order_id is not None
    summary = memory.get(f"order-{confirmed.order_id}")
    assert summary is not None and (summary.customer_id, summary.thread_id) == ("ALFKI", t)
    assert summary.text.startswith(f"Order {confirmed.order_id} on ")
    assert "3 × Konbu" not in summary.text and "2 × Konbu" in summary.text

    again = desk.chat(thread(), "same as last time for Alfreds")
    assert lines(again) == {14: 3, 13: 2, 10: 7}
    assert str(confirmed.order_id) in again.reply
    assert summary.id in {m.id for m in again.memories}


def test_approve_button_remembers_the_order_too(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    t = thread()
    desk.chat(t, "Wartian Herkku wants 4 tofu")
    turn = desk.approve(t)
    assert turn.order_id is not None and [o.order_id for o in new_orders(desk.engine)] == [
        turn.order_id
    ]
    assert [m.id for m in memory.list("WARTH")] == [f"order-{turn.order_id}"]
    assert turn.customer_id == "WARTH" and f"order-{turn.order_id}" in {m.id for m in turn.memories}


def test_the_usual_is_their_most_frequent_products(desk: OrderDesk, thread: Thread) -> None:
    turn = desk.chat(thread(), "the usual for Ernst Handel")
    with Session(desk.engine) as session:
        habits = usual_products(session=session, customer_id="ERNSH", top=5)
    expected = {u.product_id: u.quantity for u in habits.usual if not u.discontinued}
    assert expected and lines(turn) == expected
    assert "based on their most frequent products" in turn.reply
    assert "Guaraná Fantástica" in turn.reply  # discontinued: left out, and said so
    assert turn.draft is not None and turn.draft.customer_id == "ERNSH"


def test_one_customers_memories_never_reach_another_customers_turn(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    for cid, name in [("ALFKI", "Alfreds"), ("ANATR", "Ana Trujillo"), ("ERNSH", "Ernst Handel")]:
        memory.add(cid, f"{name} always wants the 1 kg packs", "preference")
        memory.add(cid, f"{name} pays on delivery", "note")
        memory.add(cid, f"Order for {name}: 12 × Tofu, 5 × Konbu", "order_summary")
    t = thread()
    alfreds = desk.chat(t, "Alfreds wants 12 tofu and 5 konbu")
    assert {m.customer_id for m in alfreds.memories} == {"ALFKI"} and len(alfreds.memories) == 3
    # Same thread, Alfreds' draft open, but the message is about Ernst Handel.
    ernst = desk.chat(t, "what does Ernst Handel usually order?")
    assert ernst.customer_id == "ERNSH"
    assert {m.customer_id for m in ernst.memories} == {"ERNSH"}
    assert "Ernst Handel always wants" in ernst.reply
    assert "Alfreds" not in ernst.reply and "Ana Trujillo" not in ernst.reply
    # Back to the draft's customer when the message names nobody.
    edit = desk.chat(t, "make the tofu 20")
    assert edit.customer_id == "ALFKI" and {m.customer_id for m in edit.memories} == {"ALFKI"}
    nobody = desk.chat(thread(), "do we have any blue cheese?")
    assert nobody.customer_id is None and nobody.memories == []


def test_a_broken_memory_store_never_breaks_a_turn(
    seeded_engine: Engine, thread: Thread, embedder: MiniLMEmbeddingFunction
) -> None:
    _, broken = refused_store(embedder)
    desk = open_desk(seeded_engine, memory=broken, embedder=embedder)
    try:
        t = thread()
        turn = desk.chat(t, "Alfreds wants 12 tofu")
        assert lines(turn) == {14: 12} and turn.memories == [] and turn.error is None
        confirmed = desk.chat(t, "yes")
        assert confirmed.order_id is not None and confirmed.error is None
        noted = desk.chat(thread(), "remember that Alfreds always wants the 1 kg packs")
        assert "couldn't note that" in noted.reply and noted.error is None
    finally:
        desk.close()


def test_a_desk_on_a_private_catalog_gets_a_private_memory(
    seeded_engine: Engine, thread: Thread, embedder: MiniLMEmbeddingFunction
) -> None:
    client = create_chroma_client(load_settings(), ephemeral=True)
    catalog = get_catalog_collection(
        client, embedder=embedder, name=f"catalog_{uuid.uuid4().hex[:8]}"
    )
    services = build_services(
        get_settings(),
        engine=seeded_engine,
        embedder=embedder,
        catalog_collection=catalog,
        provider="offline",
    )
    desk = services.desk
    try:
        assert desk.memory is not None and desk.memory.collection.name != "memories"
        desk.chat(thread(), "remember that Alfreds always wants the 1 kg packs")
        assert [m.text for m in desk.memory.list("ALFKI")] == [
            "Alfreds always wants the 1 kg packs"
        ]
    finally:
        desk.close()


def test_a_cancelled_orders_summary_says_so_before_the_next_turn(
    desk: OrderDesk, memory: MemoryStore, thread: Thread
) -> None:
    t = thread()
    desk.chat(t, "Wartian Herkku wants 4 tofu")
    order_id = desk.approve(t).order_id
    assert order_id is not None and "cancelled" not in memory.list("WARTH")[0].text
    cancelled = desk.chat(t, f"cancel order {order_id}")
    assert "cancel" in cancelled.reply.lower() and cancelled.error is None
    [summary] = memory.list("WARTH")
    assert summary.id == f"order-{order_id}" and "cancelled" in summary.text
    assert pending_count(desk.engine) == 0


def test_a_summary_chroma_refused_stays_in_the_outbox_until_it_is_back(
    seeded_engine: Engine, thread: Thread, embedder: MiniLMEmbeddingFunction
) -> None:
    client, away = refused_store(embedder)
    desk = open_desk(seeded_engine, memory=away, embedder=embedder)
    try:
        t = thread()
        desk.chat(t, "Alfreds wants 12 tofu")
        assert desk.approve(t).order_id is not None
        assert pending_count(seeded_engine) == 1  # not lost: queued for a retry
    finally:
        desk.close()
    back = open_memory_store(client, embedder=embedder, name=f"back_{uuid.uuid4().hex[:8]}")
    relay, deadline, delivered = OutboxRelay(seeded_engine, back), time.monotonic() + 10, 0
    while not delivered and time.monotonic() < deadline:  # the retry is due after a backoff
        delivered = relay.deliver_due()
        time.sleep(0.2)
    assert delivered == 1 and pending_count(seeded_engine) == 0
    assert len(back.list("ALFKI")) == 1
