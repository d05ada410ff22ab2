"""GET /api/orders/{id}/events: an order's audit trail, for other systems.

Read through the order book (the key rules and statuses of the other order routes: 401
without a key, 404 for an unknown order): every change of the draft the order was
confirmed from, then the order's own events, oldest first, each with who and when.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from api.errors import ORDER_ERRORS
from api.routes.orders import BookDep, OrderId
from orders.audit import EventKind, EventView

router = APIRouter(prefix="/orders", tags=["orders"])


class EventOut(BaseModel):
    event_id: int
    kind: EventKind
    detail: dict[str, Any] = Field(
        description="What changed: before/after for a change (a line's quantity, the "
        "customer, a header field), product_id, product and quantity for a line, the "
        "lines of a new draft, the total of a confirmed order"
    )
    actor: str | None = Field(
        description="Who: a signed-in user's e-mail, a browser session (ui:…), an API "
        "key's owner id (key:…) or cli; null when nobody was named"
    )
    created_at: datetime
    draft_id: int | None
    order_id: int | None = Field(description="Set on the order's own events")

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class OrderEventsOut(BaseModel):
    order_id: int
    events: list[EventOut]


def event_out(view: EventView) -> EventOut:
    return EventOut.model_validate(view.model_dump())


@router.get("/{order_id}/events", response_model=OrderEventsOut, responses=ORDER_ERRORS)
def get_order_events(book: BookDep, order_id: OrderId) -> OrderEventsOut:
    """The order's audit trail, oldest first: drafted, lines added, changed and removed,
    customer and header changes, confirmed, cancelled - each with who and when."""
    return OrderEventsOut(
        order_id=order_id, events=[event_out(view) for view in book.events(order_id)]
    )
