"""Seed customer memory from the order history: one order summary per confirmed order.

`python -m memory.seed` (run by ./scripts/run after `python -m db.seed`) writes a memory
"Order 10248 on 1996-07-04: 12 × Queso Cabrales, …; total $440.00" for every confirmed
order in DATABASE_URL into the `memories` collection (CHROMA_PATH / CHROMA_HOST), so
"what does Alfreds usually order?" has something to recall from the first run. Ids are
deterministic (`order-10248`) and existing ones are skipped, so a second run embeds
nothing. Texts are embedded in batches; progress goes to a callback (tqdm in the CLI).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.models import OrderStatus
from memory.habits import summary_memory
from memory.store import MemoryStore, Progress
from orders.history import list_orders
from orders.schemas import OrderView

PAGE = 1_000  # orders read per query


@dataclass(frozen=True)
class SeedReport:
    """What one seeding run did, in memories."""

    added: int
    skipped: int
    seconds: float

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


def seed_memories(
    *, engine: Engine, store: MemoryStore, progress: Progress | None = None
) -> SeedReport:
    """Write the summary of every confirmed order not yet remembered."""
    started = time.perf_counter()
    items = [summary_memory(order) for order in confirmed_orders(engine=engine)]
    added = store.add_many(items, skip_existing=True, progress=progress)
    return SeedReport(
        added=added, skipped=len(items) - added, seconds=time.perf_counter() - started
    )


def main(argv: list[str] | None = None) -> int:

    from config import ConfigError, configure_logging, get_settings

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        configure_logging(get_settings())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from db.engine import get_db_engine
    from memory.store import get_memory_store
    from rag.chroma import chroma_location
    from rag.index import tqdm_progress

    try:
        store = get_memory_store()
    except Exception as error:  # noqa: BLE001 - a CLI reports, it does not trace back
        print(f"Chroma unavailable at {chroma_location(get_settings())}: {error}", file=sys.stderr)
        return 1
    with tqdm_progress(unit="memory", desc="order summaries") as progress:
        report = seed_memories(engine=get_db_engine(), store=store, progress=progress)
    print(
        f"Customer memory: {report.added} order summaries added, {report.skipped} already "
        f"there ({report.seconds:.1f} s, {report.rate:,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
