"""What crosses the order domain's boundary: requested lines in, drafts and orders out.

Views are Pydantic models built from the database; the agent, the API and the UI render
them. A requested line carries only a product and a quantity: any price or discount a
caller adds is dropped here, so it can never reach an order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class LineStatus(StrEnum):
    OK = "ok"
    SHORT_STOCK = "short_stock"
    DISCONTINUED = "discontinued"


class LineRequest(BaseModel):
    """A product and a quantity asked for. Extra fields (a typed price, a discount) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    product_id: int
    quantity: object = Field(description="validated by orders.drafts.check_quantity")


class DraftLine(BaseModel):
    product_id: int
    product_name: str
    quantity_per_unit: str | None = None
    quantity: int
    unit_price: Decimal
    status: LineStatus
    available: int = Field(description="units in stock now")
    line_total: Decimal


class DraftView(BaseModel):
    draft_id: int
    thread_id: str | None
    customer_id: str | None
    customer_name: str | None
    status: str
    lines: list[DraftLine]
    total: Decimal
    order_id: int | None = None

    @property
    def confirmable(self) -> bool:
        """True when confirming would succeed as things stand: a customer and only ok lines."""
        return (
            self.status == "open"
            and self.customer_id is not None
            and bool(self.lines)
            and all(line.status is LineStatus.OK for line in self.lines)
        )

    @property
    def problems(self) -> list[DraftLine]:
        return [line for line in self.lines if line.status is not LineStatus.OK]


class OrderLineView(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


class OrderView(BaseModel):
    order_id: int
    customer_id: str
    customer_name: str
    status: str
    created_at: datetime
    total: Decimal
    lines: list[OrderLineView]
    created_by: str | None = None
    cancelled_at: datetime | None = None
