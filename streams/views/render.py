"""How numbers, dates and times are written in view items, so every output agrees as text."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
TEN_THOUSANDTH = Decimal("0.0001")


def money(value: Decimal) -> str:
    """Money as a decimal string with two places ("1234.50")."""
    return format(value.quantize(PENNY, rounding=ROUND_HALF_UP), "f")


def price(value: Decimal) -> str:
    """A unit price with the four places of the event contract ("12.5000")."""
    return format(value.quantize(TEN_THOUSANDTH, rounding=ROUND_HALF_UP), "f")


def timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, milliseconds only when present (events carry millis)."""
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, the day clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))
