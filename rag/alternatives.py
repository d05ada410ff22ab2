"""Alternatives: in-stock products to offer instead of one that cannot be sold as asked.

A line whose product is discontinued, out of stock or short needs a way forward. The
alternatives are products of the same category that are not discontinued and have units
available (stock less other drafts' live holds, `orders.stock.availability`), nearest by
meaning to the product: its own vector in the Chroma catalog collection is the query, with
a category filter. Those with enough units for the line come first. When Chroma is
unavailable, the spelling of the product's name and description ranks them instead, and
the result says it is `degraded`. This module holds the result and the ranking; the
search itself is `CatalogSearch.alternatives`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

MAX_ALTERNATIVES = 3


@dataclass(frozen=True)
class Alternative:
    """One product to offer instead; price and availability read from SQL just now."""

    product_id: int
    name: str
    quantity_per_unit: str | None
    unit_price: Decimal
    available: int  # units in stock less other drafts' live holds
    similarity: float  # cosine similarity of meaning (or, degraded, of spelling), 0..1
    enough: bool  # available covers the line's quantity

    def as_json(self) -> dict[str, object]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "quantity_per_unit": self.quantity_per_unit,
            "unit_price": str(self.unit_price),
            "available": self.available,
        }


@dataclass(frozen=True)
class Alternatives:
    """The alternatives to one product, best first (at most MAX_ALTERNATIVES)."""

    product_id: int
    options: list[Alternative] = field(default_factory=list)
    degraded: bool = False  # Chroma was unavailable: ranked by spelling only


@dataclass(frozen=True)
class Stocked:
    """A same-category product that could be offered: its facts from SQL."""

    product_id: int
    name: str
    quantity_per_unit: str | None
    unit_price: Decimal
    available: int


def rank(
    stocked: Sequence[Stocked],
    similarity: Mapping[int, float],
    *,
    quantity: int,
    limit: int = MAX_ALTERNATIVES,
) -> list[Alternative]:
    """The `limit` best of `stocked`: those whose units cover `quantity` first, each group
    nearest first (ties by product id, so the same catalog always gives the same list)."""
    options = [
        Alternative(
            product_id=item.product_id,
            name=item.name,
            quantity_per_unit=item.quantity_per_unit,
            unit_price=item.unit_price,
            available=item.available,
            similarity=round(similarity.get(item.product_id, 0.0), 4),
            enough=item.available >= quantity,
        )
        for item in stocked
        if item.available > 0
    ]
    options.sort(key=lambda o: (not o.enough, -o.similarity, o.product_id))
    return options[: max(limit, 0)]
