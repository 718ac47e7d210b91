"""The bounds every entry point applies: plausible dates, text that displays as what it is, sizes.

These are contract rules (docs/schemas.md, "Bounds"), shared by the models (so the webhook,
``bluelight publish``, the file adapters and ingest of raw Avro records refuse the same
things with the same kinds) and by the JSON reader (schemas.jsonin), which applies the
structural ones before parsing gets expensive.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# A purchase order, contract or supplier record dated outside this window is a data error
# (a spreadsheet's 1900 epoch, a 9999 "no end" sentinel, a number read as a date), not spend.
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
EARLIEST_INSTANT = datetime(EARLIEST.year, EARLIEST.month, EARLIEST.day, tzinfo=UTC)
LATEST_INSTANT = datetime(LATEST.year, LATEST.month, LATEST.day, 23, 59, 59, 999000, tzinfo=UTC)

# The largest integer every JSON client holds exactly (2**53 - 1). Far below Avro's long, so
# an epoch-millisecond or -microsecond version fits, and one absurd version cannot push an
# entity past what any later, honest version could supersede.
MAX_ENTITY_VERSION = 2**53 - 1

# Characters per field kind (Python str length, i.e. code points).
MAX_ID = 200  # entity_id, line_id, item_id, member_supplier_id, references, classification codes
MAX_SOURCE_SYSTEM = 100
MAX_CODE = 64  # identifiers (Companies House, VAT, DUNS, PPON)
MAX_POSTCODE = 16
MAX_NAME = 500  # supplier names, legal names, contract titles
MAX_DESCRIPTION = 4_000  # an order line's description
MAX_NUMBER_TEXT = 64  # a decimal given as text ("1234.50")
MAX_LINES = 5_000  # lines in one purchase order

# Structure of any JSON document read at an entry point (schemas.jsonin).
MAX_DEPTH = 16  # an event is 4 deep (order > lines > line > classification); a batch adds 1
MAX_NUMBER_DIGITS = 40  # characters of one JSON number literal

# Refused in names and ids: C0 and C1 controls (NUL included), DEL, the bidirectional
# embeddings, overrides and isolates (text that displays other than it reads), and lone
# surrogates (not Unicode text: no UTF-8 encoder accepts them).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_NAME_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
# Free text (descriptions, titles) may keep tabs and line breaks; nothing else of the above.
_TEXT_BAD = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")


def bad_character(value: str, *, free_text: bool = False) -> str | None:
    """Why ``value`` may not be stored, naming the first bad character, or None when it is fine."""
    found = (_TEXT_BAD if free_text else _NAME_BAD).search(value)
    if found is None:
        return None
    char = found.group()
    return f"has a {_character_kind(char)} (U+{ord(char):04X}) at position {found.start()}"


def _character_kind(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "lone surrogate, which is not text"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "bidirectional override character"
    return "control character"


def has_surrogate(value: str) -> bool:
    """Whether ``value`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return re.search(f"[{_SURROGATES}]", value) is not None


def date_outside(value: date) -> str | None:
    """Why ``value`` is not a plausible date of an event, or None."""
    if EARLIEST <= value <= LATEST:
        return None
    return (
        f"{value.isoformat()} is outside the plausible window {EARLIEST.isoformat()} to {LATEST.isoformat()}"
    )


def instant_outside(value: datetime) -> str | None:
    """Why an aware ``value`` is not a plausible instant of an event, or None."""
    if EARLIEST_INSTANT <= value <= LATEST_INSTANT:
        return None
    return (
        f"{value.isoformat()} is outside the plausible window {EARLIEST.isoformat()} to "
        f"{LATEST.isoformat()} (UTC)"
    )


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for reasons that quote what was sent."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value) if not isinstance(value, str) else repr(value[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."
