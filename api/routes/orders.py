"""GET /api/orders, /orders/{id}; POST /orders/{id}/cancel: committed orders for other systems.

Routes read through the order book (`orders.book.OrderBook`, the one the services built)
and cancel through the desk, then render; domain refusals (not found, not yours, already
cancelled) map to statuses in `api.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import DeskDep, Owner, ServicesDep
from api.errors import ORDER_ERRORS
from api.render import order_out
from api.schemas import CancelIn, OrderFilters, OrderOut, OrderPage
from orders.book import OrderBook

MAX_ORDER_ID = 2**31 - 1  # orders.order_id is a 32-bit integer on PostgreSQL

OrderId = Annotated[int, Path(ge=1, le=MAX_ORDER_ID, description="Order number")]


def order_book(desk: DeskDep, services: ServicesDep) -> OrderBook:
    """The services' order book; one over the desk's engine beside an injected desk."""
    return services.orders if services is not None else OrderBook(desk.engine)


BookDep = Annotated[OrderBook, Depends(order_book)]

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=OrderPage)
def get_orders(book: BookDep, filters: Annotated[OrderFilters, Query()]) -> OrderPage:
    """Orders newest first, filtered by customer, status, creation time [since, until),
    customer PO number (exact, any case) and requested delivery date (inclusive), with how
    many match in all."""
    page = book.orders(
        customer_id=filters.customer_id,
        status=filters.status,
        since=filters.since,
        until=filters.until,
        po=filters.po,
        delivery_from=filters.delivery_from,
        delivery_until=filters.delivery_until,
        limit=filters.limit,
        offset=filters.offset,
    )
    return OrderPage(
        orders=[order_out(view) for view in page.orders],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.get("/{order_id}", response_model=OrderOut, responses=ORDER_ERRORS)
def get_order(book: BookDep, order_id: OrderId) -> OrderOut:
    """One order with its lines."""
    return order_out(book.order(order_id))


@router.post("/{order_id}/cancel", response_model=OrderOut, responses=ORDER_ERRORS)
def cancel(
    desk: DeskDep, owner: Owner, order_id: OrderId, body: CancelIn | None = None
) -> OrderOut:
    """Cancel a confirmed order and put its stock back, exactly once.

    Without `customer_id` any order may be cancelled (the key holder is trusted); with it,
    an order of another customer is refused with 403. A second cancel is a 409. The
    order's trail records the cancellation as the key's.
    """
    customer_id = body.customer_id if body else None
    return order_out(desk.cancel_order(order_id, customer_id=customer_id, user=owner))
