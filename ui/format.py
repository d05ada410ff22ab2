"""The one money format of every page, table caption and step: $1,255.72."""

from __future__ import annotations

from decimal import Decimal

# The same format in tables: st.column_config.NumberColumn(format=MONEY_COLUMN).
MONEY_COLUMN = "dollar"


def money(value: Decimal | float | int) -> str:
    return f"${float(value):,.2f}"
