"""What crosses the HTTP boundary: request bodies, responses and the field types they share.

Pydantic models only (no FastAPI routing, no domain calls), so the OpenAPI schema reads
straight from this file. Money is a decimal string, times carry an offset, ids are
validated where they enter.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from agents.desk import MAX_MESSAGE_CHARS
from orders.schemas import OpenItemKind

ThreadId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The caller's conversation id: letters, digits, . _ : - (at most 64)",
        examples=["erp-4711"],
    ),
]
CustomerId = Annotated[
    str,
    Field(pattern=r"^[A-Z0-9]{1,5}$", description="Customer code, e.g. ALFKI", examples=["ALFKI"]),
]
Money = Annotated[Decimal, Field(description="Amount in dollars, as a decimal string")]


def _as_utc(value: datetime) -> datetime:
    """Naive means UTC; an offset is converted (clamped at the ends of the calendar)."""
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past datetime.max in UTC
        return (datetime.max if value.year > 1 else datetime.min).replace(tzinfo=UTC)


def _not_a_number(value: object) -> object:
    """Refuse Unix timestamps, which pydantic would take: the schema says ISO 8601."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("expected an ISO 8601 date-time such as 2024-05-01T00:00:00Z")
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_as_utc)]


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic would also take Unix times and date-times as a date."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 date such as 2026-12-20")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_day)]


# --- errors ---------------------------------------------------------------------------


class FieldErrorOut(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorOut(BaseModel):
    """Every 4xx/5xx body: one message for people, plus the fields at fault on a 422."""

    detail: str
    errors: list[FieldErrorOut] | None = None


# --- catalog --------------------------------------------------------------------------


class CandidateOut(BaseModel):
    product_id: int
    name: str
    category: str
    quantity_per_unit: str | None
    unit_price: Money
    units_in_stock: int
    available: int = Field(description="Units in stock less what open drafts hold")
    discontinued: bool
    score: float = Field(description="Fused score 0..1, higher is better")
    lexical: float = Field(description="Spelling part of the score, 0..1")
    semantic: float | None = Field(description="Cosine similarity of meaning; null if unmeasured")
    exact: bool = Field(description="The query is this product's whole name")


class SearchQuery(BaseModel):
    """GET /api/search's query; an unknown parameter is a 422, as in every body."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=200, description="What was typed")
    k: int = Field(default=5, ge=1, le=20, description="Candidates to return")


class SearchOut(BaseModel):
    query: str
    ambiguous: bool = Field(description="Several candidates fit equally: ask which one")
    no_match: bool = Field(description="Nothing fits well enough to use")
    degraded: bool = Field(description="Vector search was unavailable; spelling only")
    elapsed_ms: float
    candidates: list[CandidateOut]


# --- chat -----------------------------------------------------------------------------


class DraftLineOut(BaseModel):
    product_id: int
    product_name: str
    quantity_per_unit: str | None
    quantity: int
    unit_price: Money
    status: Literal["ok", "short_stock", "discontinued"]
    available: int = Field(
        description="Units this draft may have now: in stock less other drafts' live holds"
    )
    in_stock: int = Field(description="Units in the warehouse now")
    held: int = Field(description="Units this draft holds while its hold is live")
    held_by_others: int = Field(description="Units other open drafts hold")
    held_until: datetime | None = Field(
        description="When the last of the other drafts' holds runs out; null: none"
    )
    line_total: Money


class OpenItemOut(BaseModel):
    kind: OpenItemKind
    phrase: str = Field(description="What the user wrote")
    quantity: int | None = Field(description="The quantity asked, if one was read")
    question: str = Field(description="What must be answered before confirming")
    candidates: list[int] = Field(description="Product ids that might be meant")


class HeaderOut(BaseModel):
    """The order header of a draft or an order; every field is null until set."""

    customer_po: str | None = Field(description="The customer's purchase-order number")
    requested_date: date | None = Field(description="The delivery date the customer asked for")
    ship_to: str | None = Field(description="Where to ship, as set; null: not set")
    notes: str | None = Field(description="A note for the warehouse or the customer")
    ship_to_default: str | None = Field(description="The customer's address on file")
    ship_to_effective: str | None = Field(
        description="Where the order ships: ship_to, else the customer's address on file"
    )


class DraftOut(HeaderOut):
    draft_id: int
    customer_id: str | None
    customer_name: str | None
    status: str
    lines: list[DraftLineOut]
    total: Money
    order_id: int | None
    open_items: list[OpenItemOut] = Field(
        description="What was asked for but not placed as a line, with its question"
    )
    needs_attention: bool = Field(description="Open items remain: approve answers 409")
    confirmable: bool = Field(description="Confirming now would succeed")
    hold_until: datetime | None = Field(
        description="Until when this draft holds its lines' stock (HOLD_MINUTES after its "
        "last change); null: it holds none"
    )


class ToolCallOut(BaseModel):
    name: str
    args: dict[str, Any]
    result: Any = None


class TurnOut(BaseModel):
    thread_id: str
    reply: str = Field(description="What the user sees")
    draft: DraftOut | None = Field(description="The thread's draft after this turn")
    order_id: int | None = Field(description="Set when this turn confirmed an order")
    pending: bool = Field(description="A confirmation (approve / reject) is awaited")
    attention: list[str] = Field(
        description="Questions to answer before the order can be confirmed"
    )
    busy: bool = Field(
        default=False,
        description="Another request of this conversation held it: nothing was done (409)",
    )
    tool_calls: list[ToolCallOut]
    error: str | None = Field(description="Set when the model or a tool failed this turn")


class BusyOut(BaseModel):
    """A 409 for a conversation held by another request: retry; `turn` says nothing was done."""

    detail: str
    turn: TurnOut


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thread_id: ThreadId
    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        # Printable text: tabs and newlines are fine, other control characters are not.
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
        examples=["Alfreds Futterkiste wants 12 Queso Cabrales and 5 mozzarella"],
    )


# --- orders ---------------------------------------------------------------------------


class OrderFilters(BaseModel):
    """GET /api/orders's query: customer, status, creation time [since, until), customer
    PO number, requested delivery date [delivery_from, delivery_until], a page."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId | None = None
    status: Literal["confirmed", "cancelled"] | None = None
    since: UtcDateTime | None = Field(default=None, description="Created at or after")
    until: UtcDateTime | None = Field(default=None, description="Created before")
    po: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="The customer's PO number, exactly (in any case)",
        examples=["PO-7781"],
    )
    delivery_from: IsoDate | None = Field(
        default=None, description="Requested delivery on or after this date"
    )
    delivery_until: IsoDate | None = Field(
        default=None, description="Requested delivery on or before this date"
    )
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class OrderLineOut(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price: Money
    discount: Decimal = Field(description="Fraction 0..1, as a decimal string")
    line_total: Money


class OrderOut(HeaderOut):
    order_id: int
    customer_id: str
    customer_name: str
    status: Literal["confirmed", "cancelled"]
    created_at: datetime
    total: Money
    created_by: str | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]

    @field_validator("created_at", "cancelled_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # SQLite hands back naive UTC; answer with an offset on both backends.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


class OrderPage(BaseModel):
    orders: list[OrderOut]
    total: int = Field(description="How many orders match the filters, on every page")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId | None = Field(
        default=None, description="Refuse (403) unless the order belongs to this customer"
    )


# --- health ---------------------------------------------------------------------------


class DatabaseHealth(BaseModel):
    ok: bool
    backend: Literal["sqlite", "postgresql"]
    pool: str
    error: str | None = None


class ChromaHealth(BaseModel):
    ok: bool
    mode: str
    collections: dict[str, int]
    error: str | None = None


class EmbedderHealth(BaseModel):
    ok: bool
    model: str
    error: str | None = None


class ModelHealth(BaseModel):
    ok: bool
    provider: str
    model: str


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: all parts up. degraded: orders are taken, but Chroma or the embedder "
        "is down (search falls back to spelling matches). unavailable: the database is down."
    )
    failing: list[str] = Field(description="Names of the parts that are down")
    auth: Literal["keys", "disabled"]
    database: DatabaseHealth
    chroma: ChromaHealth
    embedder: EmbedderHealth
    model: ModelHealth
