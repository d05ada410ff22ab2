"""The order header: the customer's PO number, the delivery date they want, ship-to, notes.

Every field is optional. `parse_header(...)` checks values the way a sales desk needs:
a PO number is trimmed, 1 to 50 characters, with no control characters; a requested
date is neither in the past nor more than MAX_DELIVERY_DAYS_AHEAD days ahead (relative
to `today`, UTC by default); ship-to and notes fit their columns. A refusal is an
`InvalidHeader` whose message names the field and why. A blank text value means "no
value" (None), so clearing a form field clears it. `UNSET` marks a field a caller
leaves as it is, as opposed to None, which clears it.

Ship-to defaults to the customer's address on file: `default_ship_to(city, country)`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from config import get_settings
from orders.errors import InvalidHeader

PO_MAX = 50
SHIP_TO_MAX = 300
NOTES_MAX = 1000
FIELDS: Final = ("customer_po", "requested_date", "ship_to", "notes")
LABELS: Final = {
    "customer_po": "PO number",
    "requested_date": "requested delivery date",
    "ship_to": "ship-to",
    "notes": "notes",
}
# Any control character (a PO is one line); free text may keep tabs and line breaks.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]


def utc_today() -> date:
    return datetime.now(UTC).date()


def format_day(day: date) -> str:
    """`20 Dec 2026`: unambiguous in every locale the desk serves."""
    return f"{day.day} {day:%b %Y}"


def default_ship_to(city: str | None, country: str | None) -> str | None:
    """The customer's address on file as a ship-to ("Lyon, France"), None if there is none."""
    parts = [part.strip() for part in (city, country) if part and part.strip()]
    return ", ".join(parts) or None


class OrderHeader(BaseModel):
    """A checked order header; None is "not given". Build it with `parse_header` to get
    `InvalidHeader` instead of pydantic's ValidationError, and to pass `today`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: str | None = None
    notes: str | None = None

    @field_validator("customer_po", "ship_to", "notes", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("customer_po")
    @classmethod
    def _po(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _ANY_CONTROL.search(value):
            raise ValueError("may not contain control characters such as tabs or line breaks")
        if len(value) > PO_MAX:
            raise ValueError(f"is {len(value)} characters long; at most {PO_MAX} fit")
        return value

    @field_validator("ship_to", "notes")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if _TEXT_CONTROL.search(value):
            raise ValueError("may not contain control characters")
        limit = SHIP_TO_MAX if info.field_name == "ship_to" else NOTES_MAX
        if len(value) > limit:
            raise ValueError(f"is {len(value):,} characters long; at most {limit:,} fit")
        return value

    @field_validator("requested_date", mode="before")
    @classmethod
    def _day_only(cls, value: object) -> object:
        # A datetime would be truncated silently, a number read as a Unix time: refuse both.
        if (
            isinstance(value, datetime)
            or isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            raise ValueError("must be a calendar date such as 2026-12-20")
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("must be a calendar date such as 2026-12-20") from None
        return value

    @field_validator("requested_date")
    @classmethod
    def _in_range(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return None
        today = (info.context or {}).get("today") or utc_today()
        ahead = get_settings().max_delivery_days_ahead
        if value < today:
            raise ValueError(f"{format_day(value)} is in the past (today is {format_day(today)})")
        latest = today + timedelta(days=ahead)
        if value > latest:
            raise ValueError(
                f"{format_day(value)} is more than {ahead} days ahead (the latest is "
                f"{format_day(latest)}; MAX_DELIVERY_DAYS_AHEAD sets the limit)"
            )
        return value

    def given(self) -> dict[str, Any]:
        """The fields that have a value."""
        return self.model_dump(exclude_none=True)


def check_field_names(names: Iterable[str]) -> None:
    """InvalidHeader unless every name is a header field."""
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise InvalidHeader(
            f"{', '.join(map(repr, unknown))} is not a header field ({', '.join(FIELDS)} are)."
        )


def parse_header(*, today: date | None = None, **fields: object) -> OrderHeader:
    """Check header fields (`customer_po`, `requested_date`, `ship_to`, `notes`; UNSET ones
    are left out) into an OrderHeader; InvalidHeader names every field at fault."""
    values = {name: value for name, value in fields.items() if value is not UNSET}
    try:
        return OrderHeader.model_validate(values, context={"today": today or utc_today()})
    except ValidationError as error:
        raise InvalidHeader(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else ""
        label = LABELS.get(name, name)
        if item["type"] == "extra_forbidden":
            problems.append(f"{name!r} is not a header field ({', '.join(FIELDS)} are)")
        elif item["type"] == "value_error":
            problems.append(f"The {label} {item['msg'].removeprefix('Value error, ')}")
        else:
            problems.append(f"The {label} {item['msg'][:1].lower()}{item['msg'][1:]}")
    return " ".join(f"{problem}." for problem in problems)
