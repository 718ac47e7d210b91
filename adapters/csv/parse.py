"""Reading the values spend CSVs actually contain: drifting headers, pound signs, UK dates.

Each parser returns the value or raises ``ValueError`` whose message is the reason a
person reads in the rejects file, so it says what was found and what was expected.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from schemas.limits import MAX_NUMBER_TEXT

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


def header_key(text: str) -> str:
    """A header as compared: case, spaces, punctuation, currency signs and BOMs ignored.

    So ``Amount``, ``Amount ()``, ``AMOUNT()`` and ``Amount £`` all read as ``amount``.
    """
    return _NON_ALNUM.sub("", text.casefold())


# What clean_text would change besides the ends: whitespace other than a space, two in a row, a BOM.
# Most cells have none, and one search is cheaper than the two replaces and the substitution.
_UNCLEAN = re.compile(r"[^\S ]|\s\s|\ufeff")


def clean_text(text: str) -> str:
    """A cell's text with non-breaking spaces and runs of whitespace made single spaces."""
    if _UNCLEAN.search(text) is None:
        return text.strip()
    return _SPACES.sub(" ", text.replace("\u00a0", " ").replace("\ufeff", "")).strip()


_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")


def parse_amount(text: str) -> Decimal:
    """A money amount as spend files write it.

    Accepts ``£1,234.56``, ``1234.5``, ``-12.00``, ``(12.00)`` and SAP's ``12.00-`` (both
    negative), a trailing ``CR`` (credit, negative) and a ``GBP`` prefix. Refuses anything
    else, including European ``1.234,56``, rather than guess.
    """
    raw = clean_text(text)
    s = raw.replace(" ", "")
    if not s:
        raise ValueError("amount is empty")
    if len(s) > MAX_NUMBER_TEXT:  # no amount the contract holds (18 digits) is written that long
        raise ValueError(f"amount of {len(s)} characters is not a number the hub can hold")
    # Every way of writing a credit marks it negative; none of them cancels another.
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    if s.upper().endswith("CR"):
        negative, s = True, s[:-2]
    if s.endswith("-"):
        negative, s = True, s[:-1]
    for _ in range(2):  # sign and currency in either order: "-£12", "£-12"
        if s[:1] in ("-", "+"):
            negative, s = negative or s[0] == "-", s[1:]
        for sign in ("£", "GBP", "gbp"):
            s = s.removeprefix(sign)
    if not s or not _NUMBER.match(s) or s == ".":
        raise ValueError(f"amount {raw!r} is not a number (expected e.g. 1234.56, £1,234.56 or (12.00))")
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise ValueError(f"amount {raw!r} is not a number") from exc
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError(f"amount {raw!r} has more than 4 decimal places")
    return -value if negative else value


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_NAMED = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})[ ,-]*(\d{2}|\d{4})$")


def parse_date(text: str, order: str = "dmy") -> date:
    """A date as spend files write it.

    ISO, ``dd/mm/yyyy`` (``mm/dd`` if configured), ``dd-mm-yy``, ``03-Jul-2019`` or
    ``3 July 2019``. Two-digit years are 20yy.
    """
    s = clean_text(text)
    if not s:
        raise ValueError("date is empty")
    try:
        if m := _ISO.match(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC.match(s):
            a, b, y = int(m[1]), int(m[2]), _year(m[3])
            day, month = (a, b) if order == "dmy" else (b, a)
            return date(y, month, day)
        if m := _NAMED.match(s):
            month_no = _MONTHS.get(m[2][:3].casefold())
            if month_no is not None:
                return date(_year(m[3]), month_no, int(m[1]))
    except ValueError as exc:
        raise ValueError(f"date {s!r} is not a real date ({exc})") from exc
    expected = "dd/mm/yyyy" if order == "dmy" else "mm/dd/yyyy"
    raise ValueError(f"date {s!r} is not a date (expected {expected}, yyyy-mm-dd or 03-Jul-2019)")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)
