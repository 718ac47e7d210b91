"""The JSON values events carry: money, four-place decimals, timestamps, order lines, GTINs.

Money rounds half-up to the penny, as the hub's line-total rule does; timestamps are UTC
with a Z, to the millisecond (the JSON form of an Avro timestamp-millis).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from demo.synthetic.items import ITEMS, Item

Json = dict[str, Any]

PENNY = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


def order_line(line_id: str, item: Item, quantity: Decimal, price: Decimal, classification: Json) -> Json:
    """An order line, its total the quantity x unit price rounded half-up to the penny."""
    return {
        "line_id": line_id,
        "description": item.description,
        "quantity": _four(quantity),
        "unit": item.unit,
        "unit_price": _four(price),
        "line_total": money((quantity * price).quantize(PENNY, rounding=ROUND_HALF_UP)),
        "classification": classification,
        "item_id": _gtin(item.key) if item.goods else None,
    }


def item_of(line: Json) -> Item:
    """The item an order line is for (its description names it)."""
    return next(item for item in ITEMS if item.description == line["description"])


def lines_total(lines: Sequence[Json]) -> str:
    """An order's total_net: the sum of its line totals."""
    return money(sum((Decimal(line["line_total"]) for line in lines), Decimal("0.00")))


def random_decimal(rng: random.Random, bounds: tuple[str, str], places: int) -> Decimal:
    """A decimal between ``bounds`` (inclusive) with ``places`` decimal places."""
    scale = 10**places
    lo, hi = (int(Decimal(b) * scale) for b in bounds)
    return Decimal(rng.randint(lo, hi)) / scale


def money(value: Decimal) -> str:
    """An amount as text, rounded half-up to the penny."""
    return format(value.quantize(PENNY, rounding=ROUND_HALF_UP), "f")


def _four(value: Decimal) -> str:
    return format(value.quantize(FOUR_PLACES), "f")


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the millisecond: the JSON form of a timestamp-millis."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """The datetime of a :func:`timestamp` text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def digits(text: str, count: int) -> str:
    """A stable string of digits from ``text`` (the same supplier gets the same numbers)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return str(number % 10**count).zfill(count)


def _gtin(key: str) -> str:
    """A GTIN-13 with a valid check digit (fictional: from the item key)."""
    body = "50" + digits(key + "/gtin", 10)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def add_months(day: date, months: int) -> date:
    """Calendar months later (or earlier), the day clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
