"""SQLAlchemy 2.0 typed models: customers, products, orders, drafts and their lines.

Keys are Northwind's own: a customer is its 5-letter code (ALFKI), a product its integer
id. Money is `Numeric` (Decimal in Python), never float. The database itself refuses
negative stock and non-positive quantities, as a last line of defence under the domain
code's checks. A draft's open items (what it could not place) live in a table of their
own, so stores made before they existed gain it from `create_all`.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(12, 2)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every Order Desk table."""


class OrderStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class DraftStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


def _str_enum(kind: type[enum.StrEnum]) -> Enum:
    # Stored as VARCHAR + CHECK (no native PostgreSQL enum type to migrate).
    return Enum(
        kind,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(5), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(100), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(60))
    country: Mapped[str | None] = mapped_column(String(60))

    orders: Mapped[list[Order]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"Customer({self.customer_id!r}, {self.company_name!r})"


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("units_in_stock >= 0", name="ck_products_stock_not_negative"),
        CheckConstraint("unit_price >= 0", name="ck_products_price_not_negative"),
    )

    product_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(60))
    quantity_per_unit: Mapped[str | None] = mapped_column(String(60))
    # What the product is, in plain English ("Japanese dried kelp seaweed" for Konbu):
    # staff describe products far more often than they spell their catalog names.
    description: Mapped[str | None] = mapped_column(String(300))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    units_in_stock: Mapped[int] = mapped_column(default=0)
    discontinued: Mapped[bool] = mapped_column(default=False)
    # Superstore's stock-keeping unit; Northwind products have none.
    sku: Mapped[str | None] = mapped_column(String(40), unique=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    def __repr__(self) -> str:
        return f"Product({self.product_id}, {self.name!r})"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="ck_orders_total_not_negative"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
    )

    order_id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    status: Mapped[OrderStatus] = mapped_column(
        _str_enum(OrderStatus), default=OrderStatus.CONFIRMED
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # A retried or double-clicked confirmation carries the same key and commits once.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    thread_id: Mapped[str | None] = mapped_column(String(100))
    # The draft this order was confirmed from (none for Northwind's history).
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.draft_id"), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The order header, as the customer gave it (all optional): their purchase-order
    # number, the delivery date they want, where to ship (default: their address on
    # file) and a note for the warehouse ("use the back door, dock 3").
    customer_po: Mapped[str | None] = mapped_column(String(50))
    requested_date: Mapped[date | None] = mapped_column(Date)
    ship_to: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(String(1000))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.product_id"
    )

    def __repr__(self) -> str:
        return f"Order({self.order_id}, {self.customer_id!r}, {self.status.value})"


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        CheckConstraint("discount >= 0 AND discount < 1", name="ck_order_lines_discount"),
    )

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.product_id"), primary_key=True)
    quantity: Mapped[int]
    # The catalog price when the order was placed; later price changes never touch it.
    unit_price: Mapped[Decimal] = mapped_column(Money)
    # Only Northwind's historical lines carry discounts; Order Desk never applies one.
    discount: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0"))

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity * (1 - self.discount)).quantize(Decimal("0.01"))


class Draft(Base):
    """An order being put together in one conversation; prices are never stored here.

    A draft's prices, stock and line statuses are read from `products` every time it is
    shown, so the only place a price can come from is the catalog.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_thread_status", "thread_id", "status"),
        # At most one open draft per conversation, whatever number of processes race to
        # start one: the database refuses the second (a partial unique index).
        Index(
            "uq_drafts_one_open_per_thread",
            "thread_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    draft_id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    status: Mapped[DraftStatus] = mapped_column(_str_enum(DraftStatus), default=DraftStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # The order header, as the customer gave it (all optional): their purchase-order
    # number, the delivery date they want, where to ship (default: their address on
    # file) and a note for the warehouse ("use the back door, dock 3").
    customer_po: Mapped[str | None] = mapped_column(String(50))
    requested_date: Mapped[date | None] = mapped_column(Date)
    ship_to: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(String(1000))
    # Until when this draft's lines hold their `held` units of stock (orders.stock):
    # set to now + HOLD_MINUTES by every change of an open draft; None: holds nothing.
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[DraftLine]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="DraftLine.position"
    )
    open_items: Mapped[list[DraftOpenItem]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="DraftOpenItem.position"
    )
    order: Mapped[Order | None] = relationship(viewonly=True)

    @property
    def order_id(self) -> int | None:
        return self.order.order_id if self.order is not None else None


class ThreadOwner(Base):
    """Who may use a conversation thread: the API key or browser session that began it.

    A thread (its messages, its draft, its pending approval) is readable and writable
    only by its owner; the first use of a thread id claims it.
    """

    __tablename__ = "thread_owners"
    __table_args__ = (Index("ix_thread_owners_owner_active", "owner", "last_active_at"),)

    thread_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # For the owner's list of recent conversations: the first words of the first
    # message, and when the last turn ran.
    title: Mapped[str | None] = mapped_column(String(120))
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)


class DraftLine(Base):
    __tablename__ = "draft_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_draft_lines_quantity_positive"),
        CheckConstraint("held >= 0", name="ck_draft_lines_held_nonnegative"),
        # Summing the live holds on a product (orders.stock) starts from its lines.
        Index("ix_draft_lines_product", "product_id"),
    )

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.draft_id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.product_id"), primary_key=True)
    quantity: Mapped[int]
    # Lines are shown in the order they were first added.
    position: Mapped[int] = mapped_column(default=0)
    # The units of `quantity` this line holds for its draft (at most what was free when
    # it was last taken); they count as taken for other drafts while the hold is live.
    held: Mapped[int] = mapped_column(default=0, server_default="0")

    draft: Mapped[Draft] = relationship(back_populates="lines")


class OpenItemKind(enum.StrEnum):
    """Why part of a message is not on the draft as a line."""

    UNPLACED = "unplaced"  # no catalog product fits the phrase
    AMBIGUOUS = "ambiguous"  # several products fit; the candidates are listed
    UNKNOWN_CUSTOMER = "unknown_customer"  # the customer named is not one of ours
    BAD_QUANTITY = "bad_quantity"  # missing, zero, negative, fractional or absurd
    QUESTION = "question"  # anything else the desk must ask before confirming


class DraftOpenItem(Base):
    """Something a draft's conversation asked for that is not resolved yet.

    While a draft has any, it cannot be confirmed. A table of its own (not columns on
    `drafts`), so `create_all` adds it to stores made before it existed.
    """

    __tablename__ = "draft_open_items"

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.draft_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OpenItemKind] = mapped_column(_str_enum(OpenItemKind))
    phrase: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[int | None]
    question: Mapped[str] = mapped_column(String(1000))
    # Product ids that might be meant, as a JSON list ("[72, 31]"): suggestions only.
    candidates: Mapped[str] = mapped_column(Text, default="[]")

    draft: Mapped[Draft] = relationship(back_populates="open_items")


class OutboxEvent(enum.StrEnum):
    """What happened to an order that customer memory must learn."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class MemoryOutbox(Base):
    """An order event customer memory has yet to learn (a transactional outbox).

    Written in the same transaction as the confirmation or cancellation, so an event is
    never lost when Chroma is down; delivered to the memory store afterwards, with
    retries and backoff, by whichever process claims it first.
    """

    __tablename__ = "memory_outbox"
    __table_args__ = (Index("ix_memory_outbox_pending", "delivered_at", "next_attempt_at"),)

    outbox_id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    event: Mapped[OutboxEvent] = mapped_column(_str_enum(OutboxEvent))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))


class OrderEvent(Base):
    """The audit trail: one row per change of a draft or event of an order, with who and
    when. A draft's events carry its `draft_id`; an order confirmed from it has the same
    `draft_id`, so an order's trail is its draft's events and its own (`order_id`)."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_draft", "draft_id", "event_id"),
        Index("ix_order_events_order", "order_id", "event_id"),
    )

    event_id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.draft_id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    # drafted, line_added, line_changed, line_removed, customer_changed, header_changed,
    # discarded, confirmed, cancelled
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # what changed, before/after
    actor: Mapped[str | None] = mapped_column(String(200))  # user, API key owner, session
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
