"""The turn's today: the day relative dates are read from and requested dates are checked on.

"By Friday" and "deliver on the 20th" mean a date only once today is known, and a date in
the past is refused against the same day, so the offline model (reading) and the tools
(checking) ask `today()` here. It is the UTC date, as `orders.header` checks, unless a
caller pinned another with `pinned(day)` - the evaluations do, per case, so that a case
written for a Monday reads the same on any day. The pin is a context variable: it holds
in the code the caller runs (LangGraph hands the context on to the threads it runs nodes
in) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

_PINNED: ContextVar[date | None] = ContextVar("orderdesk_today", default=None)


def today() -> date:
    """The pinned day, else today's date in UTC."""
    return _PINNED.get() or datetime.now(UTC).date()


def is_pinned() -> bool:
    return _PINNED.get() is not None


@contextmanager
def pinned(day: date | str | None) -> Iterator[None]:
    """Run the body as if today were `day` (an ISO string or a date; None pins nothing)."""
    if day is None:
        yield
        return
    token = _PINNED.set(day if isinstance(day, date) else date.fromisoformat(day))
    try:
        yield
    finally:
        _PINNED.reset(token)
