"""Thread ownership: one API key's or browser session's conversation is never another's.

Thread ids come from clients (the API lets callers name their threads), so a thread id
alone must not be enough to read or continue someone else's conversation - its messages,
its draft, the customer memories recalled into it, or its pending confirmation. The first
use of a thread id claims it for its owner (`key:<digest>` for an API key, `ui:<token>`
for a browser session); every later use must come from the same owner.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Draft, DraftStatus, ThreadOwner
from orders.drafts import open_draft_for_thread
from orders.schemas import DraftView


def key_owner(key: bytes) -> str:
    """The owner id of an API key: a digest, so the key itself is never stored."""
    return "key:" + hashlib.sha256(key).hexdigest()[:32]


def claim_thread(engine: Engine, thread_id: str, owner: str) -> bool:
    """True if `owner` may use `thread_id`: it is theirs already, or was free and now is."""
    with Session(engine) as session:
        found = session.get(ThreadOwner, thread_id)
        if found is None:
            session.add(ThreadOwner(thread_id=thread_id, owner=owner))
            try:
                session.commit()
                return True
            except IntegrityError:  # claimed by a concurrent first use
                session.rollback()
                found = session.get(ThreadOwner, thread_id)
        return found is not None and hmac.compare_digest(found.owner, owner)


TITLE_CHARS = 60


@dataclass(frozen=True)
class Conversation:
    """One of an owner's threads, for the list of recent conversations."""

    thread_id: str
    title: str  # the first words of its first message, or its id when it has none
    last_active_at: datetime | None
    draft: DraftView | None  # its open draft, if it has one


def touch_thread(engine: Engine, thread_id: str, message: str | None = None) -> None:
    """Record a turn of `thread_id` now; its first message (if any) becomes its title."""
    title = " ".join((message or "").split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    values: dict[str, object] = {"last_active_at": datetime.now(UTC)}
    if title:  # kept when it has one already: the first message names the conversation
        values["title"] = func.coalesce(ThreadOwner.title, title)
    with Session(engine) as session, session.begin():
        session.execute(
            update(ThreadOwner).where(ThreadOwner.thread_id == thread_id).values(**values)
        )


def conversations(engine: Engine, owner: str, *, limit: int = 20) -> list[Conversation]:
    """`owner`'s most recently active threads, newest first, each with its open draft."""
    with Session(engine) as session:
        rows = session.execute(
            select(ThreadOwner.thread_id, ThreadOwner.title, ThreadOwner.last_active_at)
            .where(ThreadOwner.owner == owner)
            .order_by(ThreadOwner.last_active_at.desc().nulls_last(), ThreadOwner.thread_id)
            .limit(limit)
        ).all()
        open_ids = set(
            session.scalars(
                select(Draft.thread_id).where(
                    Draft.thread_id.in_([row.thread_id for row in rows]),
                    Draft.status == DraftStatus.OPEN,
                )
            )
        )
        return [
            Conversation(
                thread_id=row.thread_id,
                title=row.title or row.thread_id,
                last_active_at=row.last_active_at,
                draft=open_draft_for_thread(session=session, thread_id=row.thread_id)
                if row.thread_id in open_ids
                else None,
            )
            for row in rows
        ]
