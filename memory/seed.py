"""Seed and backfill customer memory: one order summary for every confirmed or cancelled order.

`python -m memory.seed` (run by ./scripts/run after `python -m db.seed`) makes sure
customer memory knows every order in DATABASE_URL, through the same outbox the app
delivers from (memory.outbox). It queues an outbox row for each order memory has not
learnt: no row at all for the order's latest event (Northwind's history, orders from
before the outbox, a cancellation made before it), or a delivered one whose summary is
no longer in the store (memories deleted, a Chroma store replaced). Then it delivers what
is due, in embedding batches: "Order 10248 on 1996-07-04: 12 × Queso Cabrales, …; total
$440.00", or "(cancelled …)" for a cancelled order, under the order's own id
(`order-10248`), so a second run queues and embeds nothing. Rows still backing off after
an outage are left to the app's relay. Progress goes to a callback (tqdm in the CLI).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, exists, insert, select
from sqlalchemy.orm import Session

from db.models import MemoryOutbox, Order, OrderStatus
from memory.habits import order_memory_id
from memory.outbox import OutboxRelay, pending_count
from memory.store import MemoryStore, Progress
from orders.history import list_orders
from orders.schemas import OrderView

PAGE = 1_000  # orders read per query
DELIVER_BATCH = 512  # outbox rows delivered (embedded together) per pass


@dataclass(frozen=True)
class SeedReport:
    """What one seeding run did: orders queued and summaries written."""

    added: int  # summaries written (outbox rows delivered)
    skipped: int  # orders memory already knew
    seconds: float
    queued: int = 0  # outbox rows this run added
    pending: int = 0  # outbox rows still undelivered afterwards (Chroma failing, backoff)

    @property
    def rate(self) -> float:
        """Memories written per second."""
        return self.added / self.seconds if self.seconds > 0 else 0.0


def confirmed_orders(*, engine: Engine) -> Iterator[OrderView]:
    """Every confirmed order with its lines, newest first, read page by page."""
    offset = 0
    with Session(engine) as session:
        while True:
            page = list_orders(
                session=session, status=OrderStatus.CONFIRMED, limit=PAGE, offset=offset
            )
            yield from page
            if len(page) < PAGE:
                return
            offset += PAGE


def queue_unremembered(*, engine: Engine, store: MemoryStore) -> tuple[int, int]:
    """Queue an outbox row (its latest event) for every order memory has not learnt;
    returns (orders queued, orders looked at)."""
    # An order's latest event is its status: both enums spell confirmed/cancelled alike.
    row_for = MemoryOutbox.order_id == Order.order_id
    latest_row = exists().where(row_for, MemoryOutbox.event == Order.status)
    delivered = exists().where(
        row_for, MemoryOutbox.event == Order.status, MemoryOutbox.delivered_at.is_not(None)
    )
    waiting = exists().where(row_for, MemoryOutbox.delivered_at.is_(None))
    with Session(engine) as session:
        orders = {
            order_id: (status, thread_id)
            for order_id, status, thread_id in session.execute(
                select(Order.order_id, Order.status, Order.thread_id)
            )
        }
        never = set(session.scalars(select(Order.order_id).where(~latest_row)))
        learnt = session.scalars(select(Order.order_id).where(delivered, ~waiting)).all()
        stored = store._existing_ids([order_memory_id(order_id) for order_id in learnt])
        lost = {order_id for order_id in learnt if order_memory_id(order_id) not in stored}
        queue = sorted(never | lost)
        for start in range(0, len(queue), PAGE):
            session.execute(
                insert(MemoryOutbox),
                [
                    {
                        "order_id": order_id,
                        "event": orders[order_id][0].value,
                        "thread_id": orders[order_id][1],
                    }
                    for order_id in queue[start : start + PAGE]
                ],
            )
        session.commit()
    return len(queue), len(orders)


def seed_memories(
    *, engine: Engine, store: MemoryStore, progress: Progress | None = None
) -> SeedReport:
    """Queue every order memory has not learnt, then deliver every due outbox row."""
    started = time.perf_counter()
    queued, orders = queue_unremembered(engine=engine, store=store)
    relay = OutboxRelay(engine, store, batch=DELIVER_BATCH)
    total = pending_count(engine)
    added = 0
    if progress:
        progress(0, total)
    while delivered := relay.deliver_due(DELIVER_BATCH):
        added += delivered
        if progress:
            progress(added, total)
    return SeedReport(
        added=added,
        skipped=orders - queued,
        seconds=time.perf_counter() - started,
        queued=queued,
        pending=pending_count(engine),
    )


def main(argv: list[str] | None = None) -> int:

    from config import ConfigError, configure_logging, get_settings

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        configure_logging(get_settings())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from db.engine import create_db_engine
    from memory.store import open_memory_store
    from rag.chroma import chroma_location, create_chroma_client
    from rag.embeddings import create_embedder
    from rag.index import tqdm_progress

    settings = get_settings()
    embedder = create_embedder(settings)
    try:
        store = open_memory_store(create_chroma_client(settings), embedder=embedder)
    except Exception as error:  # noqa: BLE001 - a CLI reports, it does not trace back
        print(f"Chroma unavailable at {chroma_location(settings)}: {error}", file=sys.stderr)
        return 1
    engine = create_db_engine(settings)
    try:
        with tqdm_progress(unit="memory", desc="order summaries") as progress:
            report = seed_memories(engine=engine, store=store, progress=progress)
    finally:
        engine.dispose()
    print(
        f"Customer memory: {report.queued} orders queued, {report.added} order summaries "
        f"written, {report.skipped} orders already remembered, {report.pending} still "
        f"pending ({report.seconds:.1f} s, {report.rate:,.0f}/s)"
    )
    return 0 if report.added >= report.queued else 1


if __name__ == "__main__":
    sys.exit(main())
