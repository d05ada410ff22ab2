"""The one money format of every page, table caption and step: $1,255.72; and the time of
day a stock hold runs out, in the server's local time: 17:45."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

# The same format in tables: st.column_config.NumberColumn(format=MONEY_COLUMN).
MONEY_COLUMN = "dollar"


def money(value: Decimal | float | int) -> str:
    return f"${float(value):,.2f}"


def clock(moment: datetime) -> str:
    return f"{moment.astimezone():%H:%M}"
