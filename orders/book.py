"""The order book: what the pages and the API read about orders, customers and products.

`OrderBook(engine)` opens a short session of its own for every call and hands back views
(`OrderView`) or small frozen dataclasses, never ORM objects, so a Streamlit page or an
API route reads the store without importing `db` or SQLAlchemy. It only reads: writes
(drafts, confirmation, cancellation) go through the desk. `OrderStatus` is re-exported
for callers that filter by status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from db.models import Customer, Order, OrderStatus, Product
from orders.audit import EventView, order_events
from orders.history import count_orders, list_orders, order_status
from orders.schemas import OrderView
from orders.stats import MonthCount, ProductSales, orders_per_month, top_products
from orders.stock import availability

__all__ = [
    "ORDER_STATUSES",
    "CustomerRef",
    "MonthCount",
    "OrderBook",
    "OrderPage",
    "OrderStatus",
    "ProductRow",
    "ProductSales",
]

ORDER_STATUSES: tuple[str, ...] = tuple(status.value for status in OrderStatus)


@dataclass(frozen=True)
class OrderPage:
    """One page of a filtered order list, and how many orders the filters match in all."""

    orders: list[OrderView]
    total: int
    limit: int
    offset: int

    @property
    def first(self) -> int:
        """The 1-based position of this page's first order (0 on an empty page)."""
        return self.offset + 1 if self.orders else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.orders)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit > 0 else 1

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts; None on the last page."""
        following = self.offset + self.limit
        return following if following < self.total else None


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str
    name: str


@dataclass(frozen=True)
class ProductRow:
    """One catalog product as the catalog page lists it; price and stock from the store."""

    product_id: int
    name: str
    description: str | None
    category: str
    quantity_per_unit: str | None
    unit_price: Decimal
    units_in_stock: int
    discontinued: bool
    held: int = 0  # units open drafts hold (orders.stock): not free for a new draft

    @property
    def available(self) -> int:
        """Units a new draft may have: in stock less what open drafts hold."""
        return max(self.units_in_stock - self.held, 0)

    @property
    def orderable(self) -> bool:
        return self.available > 0 and not self.discontinued


class OrderBook:
    """Read-only queries over one engine, each in a session of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    # --- orders -------------------------------------------------------------------------

    def orders(
        self,
        *,
        customer_id: str | None = None,
        status: OrderStatus | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        po: str | None = None,
        delivery_from: date | None = None,
        delivery_until: date | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> OrderPage:
        """Orders newest first, created in [since, until), with this customer PO number (any
        case) and a requested delivery date in [delivery_from, delivery_until]: a page of
        them and the count."""
        filters = {
            "customer_id": customer_id,
            "status": OrderStatus(status) if status else None,
            "since": since,
            "until": until,
            "po": po,
            "delivery_from": delivery_from,
            "delivery_until": delivery_until,
        }
        limit, offset = max(0, limit), max(0, offset)
        with self._session() as session:
            total = count_orders(session=session, **filters)
            views = list_orders(session=session, limit=limit, offset=offset, **filters)
        return OrderPage(orders=views, total=total, limit=limit, offset=offset)

    def order(self, order_id: int) -> OrderView:
        """One order with its lines. Raises OrderNotFound."""
        with self._session() as session:
            return order_status(session=session, order_id=order_id)

    def events(self, order_id: int) -> list[EventView]:
        """The order's audit trail, oldest first: its draft's changes, then its own events.
        Raises OrderNotFound."""
        with self._session() as session:
            return order_events(session, order_id)

    def todays_orders(self, now: datetime | None = None, *, limit: int = 50) -> list[OrderView]:
        """Orders created on `now`'s calendar day (in `now`'s time zone; default: UTC
        today), newest first."""
        now = now or datetime.now(UTC)
        zone = now.tzinfo or UTC
        start = datetime.combine(now.date(), time.min, zone)
        return self.orders(since=start, until=start + timedelta(days=1), limit=limit).orders

    def order_span(self) -> tuple[date, date] | None:
        """The first and last day (UTC) with an order of any status; None with no orders."""
        with self._session() as session:
            first, last = session.execute(
                select(func.min(Order.created_at), func.max(Order.created_at))
            ).one()
        if first is None or last is None:
            return None
        return _utc(first).date(), _utc(last).date()

    def orders_per_month(self) -> list[MonthCount]:
        """Confirmed orders per month over the data's own range (empty months as 0)."""
        with self._session() as session:
            return orders_per_month(session=session)

    def top_products(self, n: int = 10) -> list[ProductSales]:
        """The `n` products selling the most units in confirmed orders, most first."""
        with self._session() as session:
            return top_products(session=session, n=n)

    # --- customers and products -----------------------------------------------------

    def customers(self) -> list[CustomerRef]:
        """Every customer, by company name."""
        with self._session() as session:
            rows = session.execute(
                select(Customer.customer_id, Customer.company_name).order_by(
                    Customer.company_name, Customer.customer_id
                )
            )
            return [CustomerRef(customer_id, name) for customer_id, name in rows]

    def customer_name(self, customer_id: str) -> str | None:
        with self._session() as session:
            return session.scalar(
                select(Customer.company_name).where(Customer.customer_id == customer_id)
            )

    def products(
        self, *, category: str | None = None, in_stock_only: bool = False
    ) -> list[ProductRow]:
        """Products by id, with what open drafts hold of each; of one category, and only
        orderable ones (available and not discontinued) when asked."""
        query = select(Product).order_by(Product.product_id)
        if category is not None:
            query = query.where(Product.category == category)
        if in_stock_only:
            query = query.where(Product.units_in_stock > 0, Product.discontinued.is_(False))
        with self._session() as session:
            held = {p: stock.held_by_others for p, stock in availability(session).items()}
            rows = [
                ProductRow(
                    product_id=p.product_id,
                    name=p.name,
                    description=p.description,
                    category=p.category,
                    quantity_per_unit=p.quantity_per_unit,
                    unit_price=p.unit_price,
                    units_in_stock=p.units_in_stock,
                    discontinued=p.discontinued,
                    held=held.get(p.product_id, 0),
                )
                for p in session.scalars(query)
            ]
        return [row for row in rows if row.orderable] if in_stock_only else rows

    def categories(self) -> list[str]:
        with self._session() as session:
            query = select(Product.category).distinct().order_by(Product.category)
            return list(session.scalars(query))

    # --- health -----------------------------------------------------------------------

    def ping(self) -> tuple[bool, str]:
        """(True, "database up"), or (False, "database down: <the driver's reason>")."""
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            return False, f"database down: {(reason[0] if reason else type(error).__name__)[:120]}"
        return True, "database up"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive UTC, PostgreSQL an aware time in the session's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
