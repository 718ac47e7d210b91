"""JSON from outside, read with the contract's structural bounds before parsing gets expensive.

Python's ``json`` accepts what the hub must not: duplicate keys (the last one silently wins),
numbers of any length (a 5,000-digit integer costs quadratic time, then fails with a plain
``ValueError``), ``NaN`` and ``Infinity``, nesting deep enough to exhaust the stack, and lone
surrogates. :func:`parse_json` refuses each with a :class:`JsonRefused` saying what and where;
the webhook answers it with 400, ``bluelight publish`` reports the line (kind ``decode``).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from schemas.limits import MAX_DEPTH, MAX_NUMBER_DIGITS

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE_ESCAPE = re.compile(r"(\\+)u[dD]([89a-fA-F])[0-9a-fA-F]{2}")


class JsonRefused(ValueError):
    """A JSON document the hub will not read, with the reason (and where, for a syntax error)."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def parse_json(data: bytes | str, *, max_depth: int = MAX_DEPTH, decimals: bool = False) -> Any:
    """The value of ``data`` (UTF-8 bytes or text), or :class:`JsonRefused` saying why not.

    ``decimals``: numbers with a fraction or exponent as ``Decimal`` (exact amounts), else float.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonRefused(f"not UTF-8 text: byte {exc.start} ({exc.reason})") from None
    else:
        text = data
    check_depth(text, max_depth)
    check_surrogates(text)
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_decimal if decimals else _float,
            parse_constant=_constant,
        )
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRefused(exc.msg, exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:  # belt and braces: the bounds above should catch these
        raise JsonRefused(f"not readable JSON: {type(exc).__name__}") from None


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``max_depth``, counted without parsing (strings skipped)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonRefused(f"nested more than {max_depth} deep; an event is at most 4 deep")
        else:
            depth -= 1


def check_surrogates(text: str) -> None:
    r"""Refuse a ``\uD800``-``\uDFFF`` escape that is not half of a pair: it is not text."""
    pending_high = -1  # end of an unpaired high-surrogate escape
    for found in _SURROGATE_ESCAPE.finditer(text):
        if len(found.group(1)) % 2 == 0:
            continue  # an escaped backslash followed by "u": plain text
        high = found.group(2).lower() in "89ab"
        if pending_high >= 0 and not (not high and found.start() == pending_high):
            break
        if high:
            pending_high = found.end()
        elif pending_high >= 0:
            pending_high = -1
        else:
            raise JsonRefused(f"a lone surrogate escape at character {found.start()}: not Unicode text")
    else:
        if pending_high < 0:
            return
    raise JsonRefused(f"a lone surrogate escape before character {pending_high}: not Unicode text")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRefused(f"the key {key[:60]!r} appears twice in one object; send each field once")
            seen.add(key)
    return out


def _number_text(text: str) -> None:
    if len(text) > MAX_NUMBER_DIGITS:
        raise JsonRefused(
            f"a number of {len(text)} characters (at most {MAX_NUMBER_DIGITS}); "
            "no field of an event holds one that long"
        )


def _integer(text: str) -> int:
    _number_text(text)
    return int(text)


def _float(text: str) -> float:
    _number_text(text)
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text} is too large to be a value")
    return value


def _decimal(text: str) -> Decimal:
    _number_text(text)
    return Decimal(text)


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not JSON (no NaN or Infinity in an event)")
