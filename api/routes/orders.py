"""GET /api/orders, /orders/{id}; POST /orders/{id}/cancel: committed orders for other systems.

Routes call the order domain's functions in a session of their own and render; domain
refusals (not found, not yours, already cancelled) map to statuses in `api.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from api.deps import DeskDep
from api.errors import ORDER_ERRORS
from api.render import order_out
from api.schemas import CancelIn, OrderFilters, OrderOut, OrderPage
from db.models import OrderStatus
from orders.history import list_orders, order_status

MAX_ORDER_ID = 2**31 - 1  # orders.order_id is a 32-bit integer on PostgreSQL

OrderId = Annotated[int, Path(ge=1, le=MAX_ORDER_ID, description="Order number")]

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=OrderPage)
def get_orders(desk: DeskDep, filters: Annotated[OrderFilters, Query()]) -> OrderPage:
    """Orders newest first, filtered by customer, status and creation time [since, until)."""
    with Session(desk.engine) as session:
        views = list_orders(
            session=session,
            customer_id=filters.customer_id,
            status=OrderStatus(filters.status) if filters.status else None,
            since=filters.since,
            until=filters.until,
            limit=filters.limit,
            offset=filters.offset,
        )
    limit, offset = filters.limit, filters.offset
    return OrderPage(
        orders=[order_out(view) for view in views],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(views) == limit else None,
    )


@router.get("/{order_id}", response_model=OrderOut, responses=ORDER_ERRORS)
def get_order(desk: DeskDep, order_id: OrderId) -> OrderOut:
    """One order with its lines."""
    with Session(desk.engine) as session:
        return order_out(order_status(session=session, order_id=order_id))


@router.post("/{order_id}/cancel", response_model=OrderOut, responses=ORDER_ERRORS)
def cancel(desk: DeskDep, order_id: OrderId, body: CancelIn | None = None) -> OrderOut:
    """Cancel a confirmed order and put its stock back, exactly once.

    Without `customer_id` any order may be cancelled (the key holder is trusted); with it,
    an order of another customer is refused with 403. A second cancel is a 409.
    """
    customer_id = body.customer_id if body else None
    return order_out(desk.cancel_order(order_id, customer_id=customer_id))
