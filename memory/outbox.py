"""Customer memory learns every order event through a transactional outbox.

Confirming an order (orders.confirm) and cancelling one (orders.history.cancel_order) each
write a `memory_outbox` row in the transaction that changes the order, so the event
commits or rolls back with it; nothing here can lose it while Chroma is down. An
`OutboxRelay` then delivers due rows to the memory store, from any of the many API and
Streamlit processes that share the database, each row by whichever process claims it:

- claiming sets a lease (`next_attempt_at` = now + `lease_s`), so a process that dies
  mid-delivery only delays the row until the lease runs out. On PostgreSQL the due rows
  are picked with `SELECT … FOR UPDATE SKIP LOCKED` (claimers never wait on each other);
  on SQLite one conditional `UPDATE … RETURNING` (SQLite has one writer at a time) whose
  returned rows are the ones this claimer won.
- delivery writes the summary of the order *as it stands now* under the order's memory id
  (`order-11080`, an upsert): a redelivery or a backfill overwrites, never duplicates, and
  a `confirmed` row delivered after the cancellation still writes "(cancelled …)". The
  order is read again after the write; if it changed meanwhile (a cancellation racing the
  delivery of its confirmation), the summary is written again, so the last write wins
  with the truth.
- a failure counts an attempt, keeps the error and backs off exponentially (1 s doubling,
  capped at 5 min, jittered so many processes do not retry in step). Nothing raises into
  the caller: a relay that cannot reach Chroma or the database logs and tries later.

`deliver_due()` runs one pass synchronously (the desk calls it right after a confirmation,
so the summary is there for the next turn); `start()` runs passes on a daemon thread
every `interval_s` and soon after `kick()`; `stop()` ends it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from db.models import MemoryOutbox, Order, OrderLine, utcnow
from memory.habits import summary_memory
from memory.store import MemoryRefused, MemoryStore
from orders.history import order_view
from orders.schemas import OrderView

log = logging.getLogger(__name__)

outbox = MemoryOutbox.__table__
LEASE_S = 60.0  # longer than a delivery can take (CHROMA_TIMEOUT_S per write, a few writes)
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
INTERVAL_S = 1.5
BATCH = 100  # rows claimed per pass: one embedding batch
REWRITES = 3  # how often a summary is rewritten when its order keeps changing under it
StoreSource = MemoryStore | Callable[[], MemoryStore | None]


@dataclass(frozen=True)
class Claim:
    """An outbox row this process holds the lease of, until `lease` or until it is done."""

    outbox_id: int
    order_id: int
    thread_id: str | None
    attempts: int
    lease: datetime


def backoff_s(
    attempts: int,
    *,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `attempts`-th failure: base doubling up to the cap, then
    scaled by a random 0.5-1.0 so processes that failed together do not retry together."""
    delay = min(cap_s, base_s * 2 ** max(0, attempts - 1))
    return delay * (rng or random).uniform(0.5, 1.0)


def pending_count(engine: Engine) -> int:
    """How many order events customer memory has yet to learn (delivering or backing off)."""
    with engine.connect() as connection:
        return (
            connection.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
            )
            or 0
        )


def claim_due(
    engine: Engine, *, limit: int = BATCH, lease_s: float = LEASE_S, order_id: int | None = None
) -> list[Claim]:
    """Lease up to `limit` due rows (of one order, if given), oldest first; rows another
    process holds are skipped."""
    now = utcnow()
    lease = now + timedelta(seconds=lease_s)
    pending = (outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= now)
    if order_id is not None:
        pending += (outbox.c.order_id == order_id,)
    due = (
        select(outbox.c.outbox_id)
        .where(*pending)
        .order_by(outbox.c.next_attempt_at, outbox.c.outbox_id)
        .limit(max(1, limit))
    )
    claim = update(outbox).values(next_attempt_at=lease)
    claim = claim.returning(
        outbox.c.outbox_id, outbox.c.order_id, outbox.c.thread_id, outbox.c.attempts
    )
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            ids = connection.scalars(due.with_for_update(skip_locked=True)).all()
            if not ids:
                return []
            rows = connection.execute(claim.where(outbox.c.outbox_id.in_(ids))).all()
        else:
            # The UPDATE is the transaction's first statement, so SQLite takes the write
            # lock before reading: a concurrent claimer's rows already carry its lease.
            rows = connection.execute(claim.where(outbox.c.outbox_id.in_(due), *pending)).all()
    return [Claim(row[0], row[1], row[2], row[3], lease) for row in rows]


class OutboxRelay:
    """Delivers due outbox rows to the memory store; safe to run in every process."""

    def __init__(
        self,
        engine: Engine,
        store: StoreSource,
        *,
        batch: int = BATCH,
        interval_s: float = INTERVAL_S,
        lease_s: float = LEASE_S,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
    ) -> None:
        """`store` is the memory store, or a function returning it (None or an error while
        Chroma is unreachable: the relay asks again on its next pass)."""
        self.engine = engine
        self._store = store
        self.batch, self.interval_s, self.lease_s = batch, interval_s, lease_s
        self.backoff_base_s, self.backoff_cap_s = backoff_base_s, backoff_cap_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    # --- one pass -------------------------------------------------------------------------

    def deliver_due(self, limit: int | None = None, *, order_id: int | None = None) -> int:
        """Claim up to `limit` due rows and deliver them; returns how many were delivered.

        With `order_id`, only that order's rows: what a turn that just confirmed or
        cancelled it needs remembered before the next turn, however long the backlog
        behind it. Never raises: a failure is recorded on the rows (attempts, last_error,
        backoff).
        """
        return self._pass(limit or self.batch, order_id)[1]

    def _pass(self, limit: int, order_id: int | None = None) -> tuple[int, int]:
        """(rows claimed, rows delivered) of one pass."""
        try:
            store = self._store() if callable(self._store) else self._store
        except Exception as error:  # noqa: BLE001 - no store yet: nothing claimed, try later
            log.warning("memory outbox: no memory store (%s); will retry", error)
            return 0, 0
        if store is None:
            return 0, 0
        try:
            claims = claim_due(self.engine, limit=limit, lease_s=self.lease_s, order_id=order_id)
        except Exception as error:  # noqa: BLE001 - the database is down; rows wait there
            log.warning("memory outbox: could not claim rows: %s", error)
            return 0, 0
        if not claims:
            return 0, 0
        try:
            refused = self._deliver(store, claims)
        except Exception as error:  # noqa: BLE001 - recorded on the rows, retried later
            log.warning("memory outbox: %d event(s) not delivered: %s", len(claims), error)
            self._failed(claims, error)
            return len(claims), 0
        for claim, error in refused:
            log.warning("memory outbox: order %s not remembered: %s", claim.order_id, error)
            self._failed([claim], error)
        return len(claims), len(claims) - len(refused)

    def _deliver(
        self, store: MemoryStore, claims: Sequence[Claim]
    ) -> list[tuple[Claim, MemoryRefused]]:
        """Write each claimed order's current summary, rewriting any whose order changed
        while it was written, and mark the rows delivered; returns the claims whose
        summary the store refused (left undelivered)."""
        threads = {claim.order_id: claim.thread_id for claim in claims}
        refusals: dict[int, MemoryRefused] = {}
        todo = sorted(threads)
        for _ in range(REWRITES):
            memories, written = [], {}
            for order_id, view in self._read(todo).items():
                try:
                    memories.append(summary_memory(view, thread_id=threads[order_id]))
                except MemoryRefused as error:
                    refusals[order_id] = error
                    continue
                written[order_id] = _standing(view)
            store.add_many(memories, skip_existing=False)
            now = {order_id: _standing(view) for order_id, view in self._read(todo).items()}
            todo = [order_id for order_id, state in written.items() if now.get(order_id) != state]
            if not todo:
                break
        else:
            raise RuntimeError(f"orders {todo} kept changing while being remembered")
        refused = [
            (claim, refusals[claim.order_id]) for claim in claims if claim.order_id in refusals
        ]
        self._delivered([claim for claim in claims if claim.order_id not in refusals])
        return refused

    def _read(self, order_ids: Sequence[int]) -> dict[int, OrderView]:
        """The orders as they stand (an order deleted since has nothing left to remember)."""
        with Session(self.engine) as session:
            orders = session.scalars(
                select(Order)
                .where(Order.order_id.in_(order_ids))
                .options(
                    joinedload(Order.customer),
                    selectinload(Order.lines).joinedload(OrderLine.product),
                )
            )
            return {order.order_id: order_view(order) for order in orders}

    def _delivered(self, claims: Sequence[Claim]) -> None:
        if not claims:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(
                    outbox.c.outbox_id.in_([claim.outbox_id for claim in claims]),
                    outbox.c.delivered_at.is_(None),
                )
                .values(delivered_at=utcnow(), last_error=None)
            )

    def _failed(self, claims: Sequence[Claim], error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"[:1000]
        try:
            with self.engine.begin() as connection:
                for claim in claims:
                    attempts = claim.attempts + 1
                    retry_at = utcnow() + timedelta(
                        seconds=backoff_s(
                            attempts, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s
                        )
                    )
                    # Only while the lease is ours: past it, another claimer owns the row.
                    connection.execute(
                        update(outbox)
                        .where(
                            outbox.c.outbox_id == claim.outbox_id,
                            outbox.c.delivered_at.is_(None),
                            outbox.c.next_attempt_at == claim.lease,
                        )
                        .values(attempts=attempts, last_error=message, next_attempt_at=retry_at)
                    )
        except Exception as failure:  # noqa: BLE001 - the lease runs out; retried then
            log.warning("memory outbox: could not record the failure: %s", failure)

    # --- in the background ----------------------------------------------------------------

    def start(self) -> OutboxRelay:
        """Deliver due rows on a daemon thread every `interval_s` (and soon after `kick()`)."""
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._run, name="memory-outbox-relay", daemon=True
                )
                self._thread.start()
        return self

    def kick(self) -> None:
        """Ask the background thread for a pass now (after a confirmation or cancellation)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """End the background thread (after its current pass)."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def __enter__(self) -> OutboxRelay:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            # A full batch means more may be due: keep going until a pass comes up short.
            while not self._stopping.is_set():
                claimed, _ = self._pass(self.batch)
                if claimed < self.batch:
                    break


def _standing(view: OrderView) -> tuple[str, datetime | None]:
    return view.status, view.cancelled_at
