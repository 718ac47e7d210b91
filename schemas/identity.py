"""Who a supplier is, nationally: the identifier rules of the event contract.

Forty-odd partners name the same company in forty ways, so the hub keys suppliers on the
strongest identifier present: Companies House number, then UK VAT, then DUNS, then a
normalised name (events.md, "Identity rules"). The normalisers here are also what the models
apply to incoming identifiers, so a malformed number is rejected at the door with a message
that says what a good one looks like, never silently guessed into a key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemas.models import Supplier, SupplierRef

# Trailing words dropped from a name key: legal forms plus "uk", which partners append
# inconsistently ("Acme UK Ltd" and "Acme Limited" are one supplier).
LEGAL_FORMS: frozenset[str] = frozenset({"ltd", "limited", "plc", "llp", "lp", "cic", "uk"})

_CH_DIGITS = re.compile(r"^[0-9]{1,8}$")
_CH_PREFIXED = re.compile(r"^([A-Z]{2})([0-9]{1,6})$")
_SPREADSHEET_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+|[.,][0-9]*E[+-]?[0-9]+)$", re.IGNORECASE)
_VAT_SEPARATORS = re.compile(r"[\s.\-]")
_UK_VAT = re.compile(r"^(?:GB)?([0-9]{9})([0-9]{3})?$")
_FOREIGN_VAT = re.compile(r"^(?!GB)[A-Z]{2}[0-9A-Z+*]{2,13}$")
# Government departments (GD) and health authorities (HA) have UK VAT numbers without the
# nine digits; valid, but not a key (events.md keys on GB + 9 digits).
_UK_GOVERNMENT_VAT = re.compile(r"^GB(GD|HA)[0-9]{3}$")
_DUNS_SEPARATORS = re.compile(r"[\s\-]")


def normalise_companies_house(raw: str) -> str:
    """Return the 8-character Companies House number, or raise ValueError saying why not.

    Digits are zero-padded on the left ("1234567" -> "01234567"); a two-letter prefix such as
    SC, NI or OC is kept, upper-cased, and its digits padded to six ("sc12345" -> "SC012345").
    """
    text = "".join(raw.split()).upper()
    if _CH_DIGITS.match(text):
        if int(text) == 0:
            raise ValueError(f"{raw!r} is not a Companies House number: it is all zeros")
        return text.zfill(8)
    prefixed = _CH_PREFIXED.match(text)
    if prefixed:
        return prefixed.group(1) + prefixed.group(2).zfill(6)
    hint = ""
    if _SPREADSHEET_NUMBER.match(text):
        hint = " - it looks like a number a spreadsheet reformatted; send it as text"
    raise ValueError(
        f"{raw!r} is not a Companies House number: expected up to 8 digits (e.g. 01234567) "
        f"or two letters and up to 6 digits (e.g. SC123456){hint}"
    )


def compact_vat(raw: str) -> str:
    """A VAT number without spaces, dots or hyphens, upper-cased."""
    return _VAT_SEPARATORS.sub("", raw).upper()


def vat_key(raw: str) -> str | None:
    """The keyable UK VAT number ("GB" + 9 digits), or None for one that is valid but not keyed.

    Not keyed: another country's number (e.g. NO123456789MVA, from a Peppol invoice) and the
    UK government/health-authority forms GBGD123 and GBHA123. Raises ValueError for anything
    else that is not a UK VAT number.
    """
    compact = compact_vat(raw)
    if _FOREIGN_VAT.match(compact) or _UK_GOVERNMENT_VAT.match(compact):
        return None
    return normalise_vat(raw)


def clean_vat(raw: str) -> str:
    """A VAT number as the models store it: normalised when UK, otherwise compacted."""
    return vat_key(raw) or compact_vat(raw)


def normalise_vat(raw: str) -> str:
    """Return a UK VAT number as "GB" + 9 digits, or raise ValueError saying why not.

    Separators are dropped and the GB prefix added when missing ("GB 123 4567 89" and
    "123456789" both give "GB123456789"). A 12-digit branch-trader number keeps its
    9-digit registration: the branch suffix names a branch of the same legal entity.
    """
    match = _UK_VAT.match(compact_vat(raw))
    if match is None:
        raise ValueError(
            f"{raw!r} is not a UK VAT number: expected GB followed by 9 digits (e.g. GB123456789)"
        )
    return "GB" + match.group(1)


def normalise_duns(raw: str) -> str:
    """Return a DUNS number as 9 digits (separators dropped), or raise ValueError."""
    text = _DUNS_SEPARATORS.sub("", raw)
    if not (len(text) == 9 and text.isascii() and text.isdigit()):
        raise ValueError(f"{raw!r} is not a DUNS number: expected 9 digits (e.g. 150483782)")
    return text


@lru_cache(maxsize=65_536)  # pure, and the same few thousand supplier names come again and again
def normalise_name(raw: str) -> str:
    """A supplier name as a key: lower case, punctuation removed, trailing legal forms dropped.

    "ACME Ltd." -> "acme", "Acme (UK) Limited" -> "acme". A name that is nothing but legal
    forms keeps its last word, so "UK Ltd" is "uk" rather than empty.
    """
    cleaned = "".join(c for c in raw.lower() if c.isalnum() or c.isspace())
    words = cleaned.split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def supplier_key(
    *,
    name: str,
    companies_house_number: str | None = None,
    vat_number: str | None = None,
    duns: str | None = None,
) -> str:
    """The national supplier key from the strongest identifier present.

    Raises ValueError for a malformed Companies House, UK VAT or DUNS number (events.md: a
    validation error, not a silent guess); a VAT number that is valid but not keyed (see
    :func:`vat_key`) falls through to the next identifier.
    """
    if companies_house_number:
        return f"CH:{normalise_companies_house(companies_house_number)}"
    vat = vat_key(vat_number) if vat_number else None
    if vat:
        return f"VAT:{vat}"
    if duns:
        return f"DUNS:{normalise_duns(duns)}"
    key = normalise_name(name)
    if not key:
        raise ValueError(f"supplier name {name!r} has no letters or digits to key on")
    return f"NAME:{key}"


def national_supplier_key(ref: SupplierRef | Supplier) -> str:
    """The national supplier key of an order's or contract's supplier, or of a supplier event."""
    from schemas.models import SupplierRef

    name = ref.name if isinstance(ref, SupplierRef) else ref.legal_name
    return supplier_key(
        name=name,
        companies_house_number=ref.companies_house_number,
        vat_number=ref.vat_number,
        duns=ref.duns,
    )
