"""Stock held while drafting: what a draft may promise, whatever other drafts are open.

An open draft holds its lines' stock for HOLD_MINUTES after its last change
(`drafts.hold_until`). Each line records the units it holds (`draft_lines.held`): as many
of its quantity as were free when the hold was taken, so a draft asking for stock
another draft holds gets what is left and is flagged short, and never takes the first
draft's units. For any draft, a product's *available* units are its stock less the live
holds of the other open drafts; a hold is live while its draft is open and `hold_until`
is ahead. Discarding or confirming a draft, or the hold running out, releases it:
nothing has to run for that, as every reader asks for live holds only.

Holds are taken under one advisory lock and the products' row locks (`lock_products`),
and confirmation takes the same locks before it counts the others' holds, so however
many processes draft and confirm at once, the live holds on a product never add up to more
than its stock and no confirmation sells units another draft holds. On SQLite the
database's single writer gives the same order: a hold is taken after the draft's own
row was written, so it runs with the write lock held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select, text
from sqlalchemy.orm import Session

from config import get_settings
from db.models import Draft, DraftLine, DraftStatus, Product, utcnow

drafts, draft_lines, products = Draft.__table__, DraftLine.__table__, Product.__table__
# The advisory lock of stock holds (a signed 64-bit key of its own, beside db.locks' keys
# for conversation threads).
HOLDS_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"orderdesk.stock-holds").digest()[:8], "big", signed=True
)


@dataclass(frozen=True)
class Availability:
    """A product's stock as one draft sees it: in stock, less what other drafts hold."""

    product_id: int
    in_stock: int
    held_by_others: int  # units the other open drafts' live holds take
    held_until: datetime | None  # when the last of those holds runs out (None: no hold)
    discontinued: bool

    @property
    def available(self) -> int:
        """The units this draft may still promise or sell."""
        return max(self.in_stock - self.held_by_others, 0)


def aware(moment: datetime | None) -> datetime | None:
    """`moment` in UTC with its zone: SQLite hands stored times back without one."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def live(now: datetime | None = None) -> ColumnElement[bool]:
    """The condition on `drafts` for a hold that still counts: open and not run out."""
    return and_(drafts.c.status == DraftStatus.OPEN.value, drafts.c.hold_until > (now or utcnow()))


def live_holds(
    *, excluding_draft_id: int | None = None, now: datetime | None = None
) -> Select[tuple[int, int, datetime]]:
    """Per product: the units live holds take and when the last of them runs out, over
    every open draft but `excluding_draft_id` (the draft asking)."""
    query = (
        select(
            draft_lines.c.product_id,
            func.sum(draft_lines.c.held).label("held"),
            func.max(drafts.c.hold_until).label("held_until"),
        )
        .join(drafts, drafts.c.draft_id == draft_lines.c.draft_id)
        .where(live(now), draft_lines.c.held > 0)
        .group_by(draft_lines.c.product_id)
    )
    if excluding_draft_id is not None:
        query = query.where(drafts.c.draft_id != excluding_draft_id)
    return query


def availability(
    session: Session,
    product_ids: Iterable[int] | None = None,
    *,
    excluding_draft_id: int | None = None,
    now: datetime | None = None,
) -> dict[int, Availability]:
    """Each product's availability for the draft `excluding_draft_id` (None: for someone
    with no draft yet), for `product_ids` or, when None, the whole catalog."""
    holds = live_holds(excluding_draft_id=excluding_draft_id, now=now).subquery()
    query = select(
        products.c.product_id,
        products.c.units_in_stock,
        products.c.discontinued,
        func.coalesce(holds.c.held, 0),
        holds.c.held_until,
    ).outerjoin(holds, holds.c.product_id == products.c.product_id)
    if product_ids is not None:
        wanted = sorted(set(product_ids))
        if not wanted:
            return {}
        query = query.where(products.c.product_id.in_(wanted))
    return {
        product_id: Availability(
            product_id=product_id,
            in_stock=int(in_stock),
            held_by_others=int(held),
            held_until=aware(until) if held else None,
            discontinued=bool(discontinued),
        )
        for product_id, in_stock, discontinued, held, until in session.execute(query)
    }


def lock_products(session: Session, product_ids: Iterable[int]) -> None:
    """Take the right to count and take holds on the products until the transaction ends.

    PostgreSQL: first one advisory lock that every taker of holds and every confirmation
    takes, then the products' row locks in product order. The advisory lock is what
    keeps takers from deadlocking: a transaction that takes holds twice (two lines added
    in one edit) would otherwise lock a lower product after a higher one. On SQLite the
    caller already holds the database's write lock."""
    wanted = sorted(set(product_ids))
    if wanted and session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HOLDS_LOCK_KEY})
        session.execute(
            select(products.c.product_id)
            .where(products.c.product_id.in_(wanted))
            .order_by(products.c.product_id)
            # FOR NO KEY UPDATE: the lock an update of the stock takes, which does not wait
            # for the key-share locks that inserting a draft line (its foreign key) takes.
            .with_for_update(key_share=True)
        )


def take_holds(
    session: Session, draft: Draft, *, minutes: int | None = None, now: datetime | None = None
) -> datetime | None:
    """(Re)take the open draft's holds for `minutes` (HOLD_MINUTES) from now: each line
    holds as much of its quantity as the other drafts leave free; a discontinued product
    holds nothing. Returns when the hold runs out (None when holds are off). Called by
    every change of a draft, in its unit of work; the caller commits."""
    now = now or utcnow()
    minutes = get_settings().hold_minutes if minutes is None else minutes
    until = now + timedelta(minutes=minutes) if minutes > 0 else None
    # The draft's own row first: on SQLite this write takes the database's write lock
    # before anything is counted; on PostgreSQL the product locks below order the takers.
    draft.hold_until = until
    session.flush()
    if until is None or not draft.lines:
        for line in draft.lines:
            line.held = 0
        session.flush()
        return until
    lock_products(session, (line.product_id for line in draft.lines))
    seen = availability(
        session,
        (line.product_id for line in draft.lines),
        excluding_draft_id=draft.draft_id,
        now=now,
    )
    for line in draft.lines:
        stock = seen[line.product_id]
        line.held = 0 if stock.discontinued else min(line.quantity, stock.available)
    session.flush()
    return until
