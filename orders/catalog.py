"""Catalog reads: the products and customers the rest of the product works from.

Prices and stock always come from here (the database), never from what a user typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Customer, Order, Product


def list_products(*, session: Session, include_discontinued: bool = True) -> Sequence[Product]:
    """Every product, ordered by id; optionally without discontinued ones."""
    query = select(Product).order_by(Product.product_id)
    if not include_discontinued:
        query = query.where(Product.discontinued.is_(False))
    return session.scalars(query).all()


def get_product(*, session: Session, product_id: int) -> Product | None:
    return session.get(Product, product_id)


def list_customers(*, session: Session) -> Sequence[Customer]:
    """Every customer, ordered by company name."""
    return session.scalars(select(Customer).order_by(Customer.company_name)).all()


def store_counts(*, session: Session) -> dict[str, int]:
    """How many customers, products (and how many are orderable) and orders the store holds."""
    return {
        "customers": session.scalar(select(func.count()).select_from(Customer)) or 0,
        "products": session.scalar(select(func.count()).select_from(Product)) or 0,
        "orderable": session.scalar(
            select(func.count()).where(Product.discontinued.is_(False), Product.units_in_stock > 0)
        )
        or 0,
        "orders": session.scalar(select(func.count()).select_from(Order)) or 0,
    }
