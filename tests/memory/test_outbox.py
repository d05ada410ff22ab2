"""The memory outbox, on SQLite and PostgreSQL with the real embedder and Chroma: every
confirmed order's summary is delivered once, a cancellation rewrites it, claimers never
share a row, failures back off, and nothing is raised into the caller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chromadb.api import ClientAPI
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.orm import Session

from db.models import MemoryOutbox
from db.seed import seed
from memory.habits import order_memory_id, order_summary, usual_products
from memory.outbox import OutboxRelay, backoff_s, claim_due, pending_count
from memory.store import MemoryStore, NewMemory, Progress, open_memory_store
from orders.confirm import confirm_draft
from orders.drafts import create_draft
from orders.history import cancel_order, order_status
from rag.embeddings import MiniLMEmbeddingFunction

REPO = Path(__file__).resolve().parents[2]


class RecordingStore(MemoryStore):
    """A real store that also notes every memory id it was asked to write."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store.collection, embedder=store.embedder)
        self.written: list[str] = []
        self._guard = threading.Lock()

    def add_many(
        self,
        items: Sequence[NewMemory],
        *,
        skip_existing: bool = True,
        progress: Progress | None = None,
    ) -> int:
        with self._guard:
            self.written.extend(str(item.id) for item in items)
        return super().add_many(items, skip_existing=skip_existing, progress=progress)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine=engine)
    return engine


def confirm(engine: Engine, customer_id: str = "ALFKI", thread_id: str = "t-1", **qty: int) -> int:
    with Session(engine) as session:
        draft = create_draft(
            session=session,
            customer_id=customer_id,
            thread_id=thread_id,
            lines=[
                {"product_id": int(p[1:]), "quantity": q} for p, q in (qty or {"p11": 1}).items()
            ],
        )
        session.commit()
        key = f"draft-{draft.draft_id}"
        return confirm_draft(session=session, draft_id=draft.draft_id, idempotency_key=key).order_id


def cancel(engine: Engine, order_id: int) -> None:
    with Session(engine) as session:
        cancel_order(session=session, order_id=order_id)
        session.commit()


def summary(engine: Engine, order_id: int) -> str:
    with Session(engine) as session:
        return order_summary(order_status(session=session, order_id=order_id))


def rows(engine: Engine) -> list[MemoryOutbox]:
    with Session(engine) as session:
        return list(session.scalars(select(MemoryOutbox).order_by(MemoryOutbox.outbox_id)))


def aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; every one written is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_delivery_writes_the_summary_and_a_redelivery_overwrites_it(
    seeded: Engine, store: MemoryStore
) -> None:
    order_id = confirm(seeded, thread_id="t-42", p11=12, p14=3)
    assert pending_count(seeded) == 1 and store.count() == 0
    relay = OutboxRelay(seeded, store)

    assert relay.deliver_due() == 1
    memory = store.get(order_memory_id(order_id))
    assert memory is not None and memory.text == summary(seeded, order_id)
    assert memory.text.startswith(f"Order {order_id} on ") and "12 × Queso Cabrales" in memory.text
    assert (memory.customer_id, memory.kind, memory.thread_id) == ("ALFKI", "order_summary", "t-42")
    (row,) = rows(seeded)
    assert row.delivered_at is not None and row.attempts == 0 and pending_count(seeded) == 0
    assert relay.deliver_due() == 0  # nothing left: the store is not touched again

    with Session(seeded) as session:  # a lost acknowledgement: the row comes round again
        now = datetime.now(UTC)
        session.execute(update(MemoryOutbox).values(delivered_at=None, next_attempt_at=now))
        session.commit()
    assert relay.deliver_due() == 1
    assert store.count() == 1 and store.get(order_memory_id(order_id)) == memory


def test_one_orders_rows_are_delivered_ahead_of_a_backlog(
    seeded: Engine, store: MemoryStore
) -> None:
    """What a turn does right after confirming: its own order first, the backlog later."""
    backlog = [confirm(seeded, p75=1) for _ in range(3)]
    newest = confirm(seeded, p75=1)
    relay = OutboxRelay(seeded, store)
    assert relay.deliver_due(limit=1, order_id=newest) == 1
    assert store.get(order_memory_id(newest)) is not None and store.count() == 1
    assert relay.deliver_due(order_id=newest) == 0 and pending_count(seeded) == 3
    assert relay.deliver_due() == 3
    assert all(store.get(order_memory_id(o)) is not None for o in backlog)


def test_a_cancellation_rewrites_the_summary_and_habits_leave_it_out(
    seeded: Engine, store: MemoryStore
) -> None:
    with Session(seeded) as session:
        before = usual_products(session=session, customer_id="ALFKI", min_orders=1, top=100)
    kept, dropped = confirm(seeded, p11=5, p14=2), confirm(seeded, p11=7, p72=1)
    relay = OutboxRelay(seeded, store)
    assert relay.deliver_due() == 2
    cancel(seeded, dropped)
    assert pending_count(seeded) == 1
    assert relay.deliver_due() == 1

    text = store.get(order_memory_id(dropped)).text
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    assert text.startswith(f"Order {dropped} on {today} (cancelled {today}): 7 × Queso Cabrales")
    assert store.get(order_memory_id(kept)).text == summary(seeded, kept)
    assert "cancelled" not in summary(seeded, kept)
    assert store.count() == 2  # rewritten in place, not a second memory
    recalled = {m.id: m.text for m in store.recall("ALFKI", "queso cabrales", k=10)}
    assert "(cancelled" in recalled[order_memory_id(dropped)]

    with Session(seeded) as session:
        habits = usual_products(session=session, customer_id="ALFKI", min_orders=1, top=100)
    counts = {line.product_id: line.orders for line in habits.usual}
    earlier = {line.product_id: line.orders for line in before.usual}
    assert habits.orders == before.orders + 1  # the cancelled order does not count
    assert counts[11] == earlier.get(11, 0) + 1 and counts[14] == earlier.get(14, 0) + 1
    assert counts.get(72, 0) == earlier.get(72, 0)  # only the cancelled order had it


def test_events_delivered_out_of_order_still_end_on_the_cancellation(
    seeded: Engine, store: MemoryStore
) -> None:
    """A confirmation delivered after its cancellation writes the order as it stands."""
    order_id = confirm(seeded, p11=2)
    cancel(seeded, order_id)
    confirmed, cancelled = rows(seeded)
    with Session(seeded) as session:  # the confirmation is still backing off
        later = datetime.now(UTC) + timedelta(hours=1)
        session.execute(
            update(MemoryOutbox)
            .where(MemoryOutbox.outbox_id == confirmed.outbox_id)
            .values(next_attempt_at=later)
        )
        session.commit()
    relay = OutboxRelay(seeded, store)
    assert relay.deliver_due() == 1
    assert "(cancelled" in store.get(order_memory_id(order_id)).text
    with Session(seeded) as session:
        session.execute(update(MemoryOutbox).values(next_attempt_at=datetime.now(UTC)))
        session.commit()
    assert relay.deliver_due() == 1
    assert "(cancelled" in store.get(order_memory_id(order_id)).text
    assert pending_count(seeded) == 0 and store.count() == 1


def test_a_cancellation_racing_the_delivery_is_not_overwritten(
    seeded: Engine, store: MemoryStore
) -> None:
    """The order is cancelled while its confirmed summary is being written: the relay sees
    the change when it reads the order again and writes the cancellation over it."""
    order_id = confirm(seeded, p11=2)

    class CancelledMidWrite(RecordingStore):
        def add_many(self, items: Sequence[NewMemory], **options: object) -> int:
            if not self.written:
                cancel(seeded, order_id)  # committed by another user, mid-delivery
            return super().add_many(items, **options)  # type: ignore[arg-type]

    racing = CancelledMidWrite(store)
    assert OutboxRelay(seeded, racing).deliver_due() == 1
    assert racing.written == [order_memory_id(order_id)] * 2
    assert "(cancelled" in store.get(order_memory_id(order_id)).text
    assert pending_count(seeded) == 1  # the cancellation's own row: delivered next, same text
    assert OutboxRelay(seeded, store).deliver_due() == 1
    assert "(cancelled" in store.get(order_memory_id(order_id)).text and store.count() == 1


def test_claimers_in_threads_never_deliver_one_row_twice(
    seeded: Engine, store: MemoryStore
) -> None:
    orders = {confirm(seeded, thread_id=f"t-{n}", p75=1) for n in range(30)}
    recording = RecordingStore(store)
    start = threading.Barrier(4)
    delivered: list[int] = []

    def claimer() -> None:
        relay = OutboxRelay(seeded, recording)
        start.wait()
        while pending_count(seeded):
            delivered.append(relay.deliver_due(limit=2))

    workers = [threading.Thread(target=claimer) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert Counter(recording.written) == Counter({order_memory_id(o): 1 for o in orders})
    assert sum(delivered) == 30 and store.count() == 30
    assert all(row.delivered_at is not None and row.attempts == 0 for row in rows(seeded))


def test_two_processes_never_deliver_one_row_twice(pg_engine: Engine, pg_url: str) -> None:
    """Two real processes on one PostgreSQL database, each with its own Chroma."""
    seed(engine=pg_engine)
    orders = {confirm(pg_engine, thread_id=f"t-{n}", p75=1) for n in range(60)}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tests.memory.outbox_child", pg_url]
    children = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for child in children:  # both have loaded the embedder and Chroma
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=90)[0] for child in children]
    finally:
        for child in children:
            child.kill() if child.poll() is None else None
    written = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
    assert all(written), "each process delivered some rows"
    assert Counter(written[0] + written[1]) == Counter({order_memory_id(o): 1 for o in orders})
    assert pending_count(pg_engine) == 0


def test_a_failure_backs_off_and_the_next_try_delivers(
    seeded: Engine,
    store: MemoryStore,
    chroma_client: ClientAPI,
    embedder: MiniLMEmbeddingFunction,
) -> None:
    order_id = confirm(seeded, p11=3)
    # A real failure: the collection this store writes to is gone.
    name = f"gone_{order_id}_{time.monotonic_ns()}"
    broken = open_memory_store(chroma_client, embedder=embedder, name=name)
    chroma_client.delete_collection(name)
    failing = OutboxRelay(seeded, broken, backoff_base_s=0.4)

    started = datetime.now(UTC)
    assert failing.deliver_due() == 0  # no exception reaches the caller
    (row,) = rows(seeded)
    assert row.attempts == 1 and row.delivered_at is None and row.last_error
    assert name in row.last_error or "does not exist" in row.last_error.lower()
    wait = (aware(row.next_attempt_at) - started).total_seconds()
    assert 0.2 <= wait <= 0.4 + 0.5, wait
    assert failing.deliver_due() == 0 and rows(seeded)[0].attempts == 1  # not due yet

    time.sleep(0.45)
    started = datetime.now(UTC)
    assert failing.deliver_due() == 0
    (row,) = rows(seeded)
    wait = (aware(row.next_attempt_at) - started).total_seconds()
    assert row.attempts == 2 and 0.4 <= wait <= 0.8 + 0.5, wait  # doubled

    working = OutboxRelay(seeded, store)
    assert working.deliver_due() == 0  # still backing off
    time.sleep(0.85)
    assert working.deliver_due() == 1
    (row,) = rows(seeded)
    assert row.delivered_at is not None and row.last_error is None and row.attempts == 2
    assert store.get(order_memory_id(order_id)) is not None


def test_backoff_doubles_up_to_five_minutes_with_jitter() -> None:
    for attempts, low, high in [(1, 0.5, 1), (2, 1, 2), (4, 4, 8), (9, 128, 256), (30, 150, 300)]:
        waits = [backoff_s(attempts) for _ in range(50)]
        assert all(low <= wait <= high for wait in waits), (attempts, waits)
        assert len(set(waits)) > 1  # jittered


def test_nothing_is_raised_when_the_store_or_the_database_is_unreachable(
    seeded: Engine, store: MemoryStore, tmp_path: Path
) -> None:
    confirm(seeded, p11=1)

    def no_chroma() -> MemoryStore:
        raise ConnectionError("Chroma is down")

    assert OutboxRelay(seeded, no_chroma).deliver_due() == 0
    assert OutboxRelay(seeded, lambda: None).deliver_due() == 0
    (row,) = rows(seeded)
    assert row.attempts == 0 and row.delivered_at is None  # nothing was claimed
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    no_database = create_engine(f"sqlite:///{blocker / 'orders.db'}")
    assert OutboxRelay(no_database, store).deliver_due() == 0
    assert OutboxRelay(seeded, lambda: store).deliver_due() == 1


def test_a_claimer_that_dies_holds_its_rows_only_until_the_lease_ends(
    seeded: Engine, store: MemoryStore
) -> None:
    order_id = confirm(seeded, p11=1)
    (claim,) = claim_due(seeded, lease_s=0.5)  # ... and the process dies here
    assert claim.order_id == order_id
    relay = OutboxRelay(seeded, store)
    assert relay.deliver_due() == 0
    time.sleep(0.55)
    assert relay.deliver_due() == 1 and pending_count(seeded) == 0


def test_the_background_relay_delivers_soon_after_a_kick(
    seeded: Engine, store: MemoryStore
) -> None:
    with OutboxRelay(seeded, store, interval_s=60) as relay:
        time.sleep(0.1)  # its first wait has begun: only a kick ends it early
        order_id = confirm(seeded, p11=1)
        relay.kick()
        deadline = time.monotonic() + 5
        while pending_count(seeded) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pending_count(seeded) == 0
        assert store.get(order_memory_id(order_id)) is not None
    assert relay._thread is not None and not relay._thread.is_alive()


def test_the_background_relay_delivers_on_its_own(seeded: Engine, store: MemoryStore) -> None:
    relay = OutboxRelay(seeded, store, interval_s=0.2).start()
    try:
        orders = [confirm(seeded, p11=1) for _ in range(3)]
        deadline = time.monotonic() + 5
        while pending_count(seeded) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(store.get(order_memory_id(o)) is not None for o in orders)
    finally:
        relay.stop()
