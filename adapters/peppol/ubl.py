"""Reading UBL 2.1 documents safely: parse, find the document kind, and pull values out.

The stdlib expat parser behind ElementTree never fetches external entities, but it does
expand entities a document declares itself. No Peppol document needs a DTD, so one that
declares a DOCTYPE (the only way to declare entities) is refused before it is parsed,
which shuts out entity-expansion bombs as well.
"""

from __future__ import annotations

import codecs
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are refused before parsing (see below)
from decimal import Decimal, InvalidOperation

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}

# Root element -> the document kind the adapter maps.
_UBL = "urn:oasis:names:specification:ubl:schema:xsd"
KINDS = {
    f"{{{_UBL}:Order-2}}Order": "Order",
    f"{{{_UBL}:OrderChange-2}}OrderChange": "OrderChange",
    f"{{{_UBL}:OrderCancellation-2}}OrderCancellation": "OrderCancellation",
}


class DocumentError(Exception):
    """A document the adapter cannot map: ``where`` names the element, ``reason`` says why."""

    def __init__(self, where: str | None, reason: str) -> None:
        super().__init__(reason)
        self.where = where
        self.reason = reason


def parse(data: bytes) -> tuple[str, ET.Element]:
    """The document kind and root element of one UBL document, or DocumentError."""
    if _declares_dtd(data):
        raise DocumentError(
            None, "document declares a DOCTYPE; Peppol documents never need one, so it is refused"
        )
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE refused above; expat fetches no external entities
    except ET.ParseError as exc:
        raise DocumentError(None, f"not well-formed XML: {exc}") from exc
    kind = KINDS.get(root.tag)
    if kind is None:
        known = ", ".join(sorted(KINDS.values()))
        raise DocumentError(
            None, f"root element {root.tag} is not a UBL document this adapter maps ({known})"
        )
    return kind, root


def _declares_dtd(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "<!DOCTYPE" in data.decode("utf-16", errors="replace")
    return b"<!DOCTYPE" in data


def text(el: ET.Element, path: str) -> str | None:
    """Stripped text at ``path`` (``cbc:``/``cac:`` prefixes), or None when absent or blank."""
    found = el.find(path, NS)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def attr(el: ET.Element, path: str, name: str) -> str | None:
    """An attribute of the element at ``path``, stripped, or None."""
    found = el.find(path, NS)
    if found is None:
        return None
    value = found.get(name)
    return value.strip() if value and value.strip() else None


def decimal_at(el: ET.Element, path: str, where: str) -> Decimal | None:
    """The decimal at ``path``, None when absent; DocumentError naming ``where`` when not a number."""
    raw = text(el, path)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise DocumentError(where, f"{path} is {raw!r}, not a number") from None
    if not value.is_finite():
        raise DocumentError(where, f"{path} is {raw!r}, not a finite number")
    return value
