"""MemoryStore on real Chroma and the real embedding model: scoping, deletes, validation.

The scoping and delete tests fill the store with many customers whose memories read
almost alike, so a query or a delete that lost its customer filter would pick up
another customer's memory - and the tests check exact id sets, not just counts.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memory.store import MAX_TEXT_CHARS, Memory, MemoryRefused, MemoryStore, NewMemory

CUSTOMERS_CSV = Path(__file__).resolve().parents[2] / "db" / "data" / "northwind" / "customers.csv"
SIMILAR = [
    ("preference", "{name} always wants the 1 kg packs"),
    ("preference", "{name} prefers delivery on Monday mornings"),
    ("note", "{name} pays on delivery"),
    ("order_summary", "Order {n} on 1997-03-0{d}: 12 × Queso Cabrales, 5 × Mozzarella di Giovanni"),
    ("order_summary", "Order {m} on 1997-04-1{d}: 20 × Tofu, 10 × Konbu; total $345.00"),
]
QUERIES = ["what pack size do they want", "payment terms", "cheese", "delivery day", "tofu"]


def northwind_customers(n: int) -> list[tuple[str, str]]:
    with CUSTOMERS_CSV.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))[:n]
    return [(row["customer_id"], row["company_name"]) for row in rows]


def fill(store: MemoryStore, customers: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Five look-alike memories per customer; returns each customer's memory ids."""
    items = [
        NewMemory(cid, text.format(name=name, n=10000 + i, m=11000 + i, d=i % 9), kind)
        for i, (cid, name) in enumerate(customers)
        for kind, text in SIMILAR
    ]
    store.add_many(items)
    return {cid: {m.id for m in store.list(cid)} for cid, _ in customers}


def test_add_get_list_and_search_one_customer(store: MemoryStore) -> None:
    pref = store.add("ALFKI", "Alfreds always wants the 1 kg packs", "preference", thread_id="t1")
    note = store.add("alfki", "  Alfreds pays\n by card  ", "note")
    assert pref.customer_id == note.customer_id == "ALFKI"  # codes are canonical
    assert note.text == "Alfreds pays by card"
    assert store.get(pref.id) == pref
    assert [m.id for m in store.list("ALFKI")] == [note.id, pref.id]  # newest first
    assert [m.id for m in store.list("ALFKI", kind="preference")] == [pref.id]
    found = store.search("ALFKI", "which pack size?", k=2)
    assert [m.id for m in found] == [pref.id, note.id]
    assert found[0].score is not None and found[0].score > found[1].score
    assert found[0].thread_id == "t1" and found[1].thread_id is None


def test_twenty_customers_with_similar_memories_never_see_each_other(store: MemoryStore) -> None:
    customers = northwind_customers(20)
    owned = fill(store, customers)
    assert store.count() == 100 and all(len(ids) == 5 for ids in owned.values())
    # The data are alike enough that an unscoped query mixes customers...
    unscoped = store.collection.query(query_texts=["always wants the 1 kg packs"], n_results=10)
    assert len({m["customer_id"] for m in unscoped["metadatas"][0]}) > 1
    # ...and every scoped query returns that customer's memories only, all of them.
    for cid, _ in customers:
        for query in QUERIES:
            found = store.search(cid, query, k=10)
            assert {m.id for m in found} == owned[cid], (cid, query)
            assert {m.customer_id for m in found} == {cid}
        for kind in ("preference", "note", "order_summary"):
            assert {m.customer_id for m in store.search(cid, "packs", k=10, kind=kind)} == {cid}
        assert {m.id for m in store.list(cid)} == owned[cid]


def test_delete_one_memory_leaves_everyone_else_intact(store: MemoryStore) -> None:
    customers = northwind_customers(6)
    owned = fill(store, customers)
    victim = sorted(owned["ALFKI"])[0]
    assert store.delete(victim) is True
    assert store.get(victim) is None
    assert {m.id for m in store.list("ALFKI")} == owned["ALFKI"] - {victim}
    for cid, _ in customers[1:]:
        assert {m.id for m in store.list(cid)} == owned[cid]
    assert store.delete(victim) is False  # already gone: nothing else is touched
    assert store.count() == 29


def test_delete_refuses_another_customers_memory(store: MemoryStore) -> None:
    owned = fill(store, northwind_customers(3))
    target = sorted(owned["ALFKI"])[0]
    with pytest.raises(MemoryRefused, match="another customer"):
        store.delete(target, customer_id="ANATR")
    assert store.get(target) is not None and store.count() == 15
    assert store.delete(target, customer_id="ALFKI") is True


def test_delete_all_for_one_customer_leaves_every_other_customer_intact(
    store: MemoryStore,
) -> None:
    customers = northwind_customers(8)
    owned = fill(store, customers)
    assert store.delete_all("ANTON") == 5
    assert store.list("ANTON") == [] and store.search("ANTON", "cheese", k=10) == []
    for cid, _ in customers:
        if cid != "ANTON":
            assert {m.id for m in store.list(cid)} == owned[cid], cid
    assert store.count() == 35
    assert store.delete_all("ANTON") == 0


@pytest.mark.parametrize("customer_id", ["", "   ", None, "AL FKI", "ALFKI'; --", "A" * 21])
def test_delete_all_without_a_valid_customer_deletes_nothing(
    store: MemoryStore, customer_id: object
) -> None:
    fill(store, northwind_customers(3))
    with pytest.raises(MemoryRefused):
        store.delete_all(customer_id)  # type: ignore[arg-type]
    assert store.count() == 15


@pytest.mark.parametrize("memory_id", ["", "  ", None])
def test_delete_without_an_id_deletes_nothing(store: MemoryStore, memory_id: object) -> None:
    fill(store, northwind_customers(2))
    with pytest.raises(MemoryRefused):
        store.delete(memory_id)  # type: ignore[arg-type]
    assert store.count() == 10


def test_update_replaces_the_text_and_keeps_the_rest(store: MemoryStore) -> None:
    fill(store, northwind_customers(3))
    old = store.add("BERGS", "Berglunds wants invoices by post", "preference", thread_id="t9")
    new = store.update(old.id, "Berglunds wants invoices by e-mail, never by post")
    assert (new.id, new.customer_id, new.kind, new.created_at, new.thread_id) == (
        old.id,
        "BERGS",
        "preference",
        old.created_at,
        "t9",
    )
    assert store.get(old.id) == new and store.count() == 16
    assert store.search("BERGS", "e-mail invoices", k=1)[0].text == new.text
    with pytest.raises(MemoryRefused, match="no memory"):
        store.update("mem-missing", "anything")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ALFKI", "text", "gossip"), "unknown memory kind"),
        (("ALFKI", "", "note"), "empty"),
        (("ALFKI", " \n\t ", "note"), "empty"),
        (("ALFKI", "x" * (MAX_TEXT_CHARS + 1), "note"), "too long"),
        (("", "text", "note"), "customer id"),
        (("AL/FKI", "text", "note"), "not a customer id"),
    ],
)
def test_invalid_memories_are_refused(
    store: MemoryStore, args: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(MemoryRefused, match=message):
        store.add(*args)
    assert store.count() == 0


def test_text_up_to_the_limit_is_kept_and_control_characters_go(store: MemoryStore) -> None:
    longest = store.add("ALFKI", "y" * MAX_TEXT_CHARS, "note")
    assert len(store.get(longest.id).text) == MAX_TEXT_CHARS  # type: ignore[union-attr]
    odd = store.add("ALFKI", "pays\x00 on\x07 delivery", "note")
    assert odd.text == "pays on delivery"


def test_add_with_an_id_is_idempotent_and_add_many_skips_existing(store: MemoryStore) -> None:
    when = datetime(1996, 7, 4, tzinfo=UTC)
    first = store.add("VINET", "Order 10248", "order_summary", memory_id="order-10248")
    again = store.add("VINET", "Order 10248", "order_summary", memory_id="order-10248")
    assert first.id == again.id and store.count() == 1
    items = [
        NewMemory("VINET", "Order 10248 again", "order_summary", id="order-10248"),
        NewMemory("VINET", "Order 10249", "order_summary", id="order-10249", created_at=when),
    ]
    assert store.add_many(items) == 1
    assert store.get("order-10248").text == "Order 10248"  # type: ignore[union-attr]
    assert store.get("order-10249").created_at == when  # type: ignore[union-attr]


def test_recall_puts_stated_preferences_first_then_what_is_relevant(store: MemoryStore) -> None:
    summary = store.add("ALFKI", "Order 1 on 1997-01-01: 12 × Queso Cabrales", "order_summary")
    other = store.add("ALFKI", "Order 2 on 1997-02-01: 30 × Tofu", "order_summary")
    pref = store.add("ALFKI", "Alfreds always wants the 1 kg packs", "preference")
    store.add("ANATR", "Ana Trujillo wants cheese every week", "preference")
    recalled = store.recall("ALFKI", "the queso cabrales order", k=1)
    assert [m.id for m in recalled] == [pref.id, summary.id]
    assert other.id not in {m.id for m in recalled}
    assert all(isinstance(m, Memory) and m.customer_id == "ALFKI" for m in recalled)
