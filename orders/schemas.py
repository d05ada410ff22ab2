"""What crosses the order domain's boundary: requested lines in, drafts and orders out.

Views are Pydantic models built from the database; the agent, the API and the UI render
them. A requested line carries only a product and a quantity: any price or discount a
caller adds is dropped here, so it can never reach an order. An `OpenItem` is a part of
the conversation the desk could not place on the draft (an unknown product, several
that fit, an unclear quantity, an unknown customer) with the question that resolves it;
a draft with open items `needs_attention` and cannot be confirmed. Drafts and orders
carry the order header (`HeaderFields`): what the user set, stored as given (None when
nothing was set), and `ship_to_effective`, the ship-to or else the customer's address on
file, which is where the order goes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class LineStatus(StrEnum):
    OK = "ok"
    SHORT_STOCK = "short_stock"
    DISCONTINUED = "discontinued"


class LineRequest(BaseModel):
    """A product and a quantity asked for. Extra fields (a typed price, a discount) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    product_id: int
    quantity: object = Field(description="validated by orders.drafts.check_quantity")


OpenItemKind = Literal["unplaced", "ambiguous", "unknown_customer", "bad_quantity", "question"]
MAX_CANDIDATES = 20
PG_INT = 2**31 - 1  # quantities are stored in 32-bit integer columns


class OpenItem(BaseModel):
    """Part of a message not placed on the draft, and the question that would place it."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    kind: OpenItemKind
    phrase: str = Field(default="", max_length=500, description="What the user wrote")
    quantity: int | None = Field(
        default=None, ge=-PG_INT, le=PG_INT, description="The quantity asked, if one was read"
    )
    question: str = Field(min_length=1, max_length=1000, description="What to ask the user")
    candidates: list[int] = Field(
        default_factory=list,
        max_length=MAX_CANDIDATES,
        description="Product ids that might be meant (suggestions, never lines)",
    )


class DraftLine(BaseModel):
    product_id: int
    product_name: str
    quantity_per_unit: str | None = None
    quantity: int
    unit_price: Decimal
    status: LineStatus
    available: int = Field(
        description="units this draft may have now: in stock less other drafts' live holds"
    )
    in_stock: int = Field(default=0, description="units in the warehouse now")
    held: int = Field(default=0, description="units this draft holds while its hold is live")
    held_by_others: int = Field(default=0, description="units other open drafts hold")
    held_until: datetime | None = Field(
        default=None, description="when the last of the other drafts' holds runs out"
    )
    line_total: Decimal


class HeaderFields(BaseModel):
    """The order header of a draft or an order (see orders.header), and where it ships."""

    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: str | None = Field(default=None, description="As the user set it; None: not set")
    notes: str | None = None
    ship_to_default: str | None = Field(
        default=None, description="The customer's address on file (city, country)"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ship_to_effective(self) -> str | None:
        """Where the order ships: the ship-to set, else the customer's address on file."""
        return self.ship_to or self.ship_to_default


class DraftView(HeaderFields):
    draft_id: int
    thread_id: str | None
    customer_id: str | None
    customer_name: str | None
    status: str
    lines: list[DraftLine]
    total: Decimal
    order_id: int | None = None
    open_items: list[OpenItem] = Field(default_factory=list)
    hold_until: datetime | None = Field(
        default=None, description="until when the lines' stock is held for this draft"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def needs_attention(self) -> bool:
        """True while something asked for is unresolved: then it cannot be confirmed."""
        return bool(self.open_items)

    @property
    def confirmable(self) -> bool:
        """True when confirming would succeed as things stand: a customer, only ok lines and
        nothing needing attention."""
        return (
            self.status == "open"
            and self.customer_id is not None
            and bool(self.lines)
            and not self.needs_attention
            and all(line.status is LineStatus.OK for line in self.lines)
        )

    @property
    def questions(self) -> list[str]:
        """The open items' questions, in order: what to answer before confirming."""
        return [item.question for item in self.open_items]

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


class OrderView(HeaderFields):
    order_id: int
    customer_id: str
    customer_name: str
    status: str
    created_at: datetime
    total: Decimal
    lines: list[OrderLineView]
    created_by: str | None = None
    cancelled_at: datetime | None = None
