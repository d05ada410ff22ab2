"""The ways forward for a line that cannot be sold as asked: ship what is available.

A short line can be cut to what this draft may have now (stock less the other drafts'
live holds: the line's `available`); a line with nothing available comes off the draft,
so nothing is promised that cannot ship. The other way, an in-stock alternative in its
place, is `orders.drafts.swap_line`. Like the draft functions these do not commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from orders.drafts import get_draft, remove_line, set_line
from orders.errors import InvalidLines
from orders.schemas import DraftView, LineStatus


@dataclass(frozen=True)
class Shipped:
    """What shipping what is available did to one line."""

    product_id: int
    product_name: str
    asked: int  # the line's quantity before
    quantity: int  # what it is now: the units available (0: the line was removed)

    @property
    def removed(self) -> bool:
        return self.quantity == 0


def ship_available(
    *, session: Session, draft_id: int, product_ids: list[int] | None = None
) -> tuple[DraftView, list[Shipped]]:
    """Cut each short line of `product_ids` (None: every short line) to its available
    units, removing one with none available. A product named that is not on the draft is
    refused (InvalidLines) and, the caller rolling back, changes nothing; a named line
    that is not short is left as it is."""
    draft = get_draft(session=session, draft_id=draft_id)
    on_draft = {line.product_id: line for line in draft.lines}
    missing = [pid for pid in product_ids or [] if pid not in on_draft]
    if missing:
        raise InvalidLines(f"Product {missing[0]} is not on draft {draft_id}.")
    wanted = on_draft if product_ids is None else {pid: on_draft[pid] for pid in product_ids}
    done: list[Shipped] = []
    for product_id, line in wanted.items():
        if line.status is not LineStatus.SHORT_STOCK:
            continue
        if line.available > 0:
            draft = set_line(
                session=session, draft_id=draft_id, product_id=product_id, quantity=line.available
            )
        else:
            draft = remove_line(session=session, draft_id=draft_id, product_id=product_id)
        done.append(Shipped(product_id, line.product_name, line.quantity, line.available))
    return draft, done
