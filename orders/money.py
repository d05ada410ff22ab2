"""The one money format outside the pages too (documents, e-mail bodies): $1,255.72.

The same format as `ui.format.money`, computed on `Decimal` so a document never shows a
float's rounding: amounts are rounded half up to the cent, thousands grouped, and a
negative amount reads -$5.00.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | float | int) -> str:
    """`value` as dollars and cents: $1,255.72 (floats through their shortest repr)."""
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"
