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

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import ThreadOwner


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
