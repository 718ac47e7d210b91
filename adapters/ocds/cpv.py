"""CPV codes in the one form the hub keys on: the 8-digit code, check digit dropped.

CPV codes are "8 digit code plus a check digit" and publishers send them either way
("45233162-2", "45233162"). The hub's category map and price benchmark key on the 8
digits, so both adapters emit that form, and a code from Peppol and one from Contracts
Finder for the same goods land in the same bucket.
"""

from __future__ import annotations

import re

_CPV = re.compile(r"^(\d{8})(?:-\d)?$")
# A spreadsheet turned the code into a float: "45233130.0"; "3000000.0" lost its leading zero.
_CPV_FLOAT = re.compile(r"^(\d{7,8})\.0+$")


def normalise_cpv(raw: str) -> str:
    """The 8-digit CPV code of ``raw``, or ValueError saying what a CPV code looks like.

    Accepts the code with or without its check digit, and the spreadsheet float artefact
    ("45233130.0", or "3000000.0" for 03000000): every CPV code has exactly 8 digits, so a
    7-digit float can only be one whose leading zero was lost.
    """
    text = raw.strip()
    match = _CPV.match(text)
    if match:
        return match.group(1)
    floated = _CPV_FLOAT.match(text)
    if floated:
        return floated.group(1).zfill(8)
    raise ValueError(
        f"{raw!r} is not a CPV code: expected 8 digits with an optional check digit (e.g. 45233162-2)"
    )
