"""The order lines of a UBL order -> the event's OrderLines, with the BIS line rules checked.

``line_total`` follows the event contract: quantity x net unit price (``PriceAmount /
BaseQuantity``, 4 places) rounded half-up to the penny. UBL's own ``LineExtensionAmount``
also folds in line-level allowances and charges, which the event does not carry; it is
still used to check R014 on the document as sent.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only for the Element type; parsing is in ubl.py
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from adapters.ocds.cpv import normalise_cpv
from adapters.peppol.ubl import NS, DocumentError, attr, decimal_at, text

PENNY = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")

# UNCL7143 item classification list ids the hub knows (codelist_UNCL7143.xml); any other list
# id is kept as a LOCAL code prefixed with it, so "MP:12345678" never collides with a CPV.
CLASSIFICATION_SCHEMES = {"STI": "CPV", "TST": "UNSPSC", "SUA": "ECLASS"}
_SCHEME_PREFERENCE = ("CPV", "UNSPSC", "ECLASS", "LOCAL")
UNCLASSIFIED_CODE = "UNCLASSIFIED"

LINE_DELETED = "2"  # UNCL1229 LineStatusCode "Deleted" on an OrderChange line


@dataclass(frozen=True)
class Line:
    """One order line, in the event's terms."""

    line_id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    line_total: Decimal
    scheme: str
    code: str
    item_id: str | None


def read_lines(root: ET.Element, kind: str, label: str) -> tuple[Line, ...]:
    """Every order line (deleted ones dropped), with R003 and R014 checked on the document."""
    lines: list[Line] = []
    seen: set[str] = set()
    document_sum = Decimal("0")
    for position, item in enumerate(root.findall("cac:OrderLine/cac:LineItem", NS), start=1):
        line_id = text(item, "cbc:ID")
        where = f"cac:OrderLine[{position}]" if line_id is None else f"cac:OrderLine[ID={line_id}]"
        if line_id is None:
            raise DocumentError(where, f"{label}: order line {position} has no ID (BII2-T01-R003)")
        if line_id in seen:
            raise DocumentError(where, f"{label}: line ID {line_id!r} appears more than once (BII2-T01-R003)")
        seen.add(line_id)
        if kind == "OrderChange" and text(item, "cbc:LineStatusCode") == LINE_DELETED:
            continue  # a deleted line leaves the order; it adds nothing to the expected total
        line, amount = _read_line(item, line_id, where, label)
        lines.append(line)
        document_sum += amount
    if not lines:
        raise DocumentError("cac:OrderLine", f"{label}: no order lines (an order needs at least one)")
    header = decimal_at(
        root, "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount", "cac:AnticipatedMonetaryTotal"
    )
    if header is None:
        raise DocumentError(
            "cac:AnticipatedMonetaryTotal",
            f"{label}: AnticipatedMonetaryTotal/LineExtensionAmount is missing",
        )
    if header != document_sum:
        raise DocumentError(
            "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount",
            f"{label}: header LineExtensionAmount {header} is not the sum of the line amounts "
            f"{document_sum} (BII2-T01-R014)",
        )
    return tuple(lines)


def _read_line(item: ET.Element, line_id: str, where: str, label: str) -> tuple[Line, Decimal]:
    """One line, and its document LineExtensionAmount (for R014)."""
    named = f"{label}, line {line_id}"
    quantity = decimal_at(item, "cbc:Quantity", where)
    if quantity is None:
        raise DocumentError(where, f"{named}: no Quantity (the hub needs one)")
    if quantity < 0:
        raise DocumentError(where, f"{named}: quantity {quantity} is negative (BII2-T01-R010)")
    if quantity == 0:
        raise DocumentError(where, f"{named}: quantity is 0; the hub needs a quantity above 0")
    if quantity != quantity.quantize(FOUR_PLACES):
        raise DocumentError(where, f"{named}: quantity {quantity} has more than 4 decimal places")
    unit = attr(item, "cbc:Quantity", "unitCode")
    if unit is None:
        raise DocumentError(where, f"{named}: Quantity has no unitCode (BII2-T01-R030)")
    amount = decimal_at(item, "cbc:LineExtensionAmount", where)
    if amount is None:
        raise DocumentError(where, f"{named}: no LineExtensionAmount")
    unit_price = _unit_price(item, quantity, amount, unit, where, named)
    description = text(item, "cac:Item/cbc:Name") or text(item, "cac:Item/cbc:Description") or _item_id(item)
    if description is None:
        raise DocumentError(where, f"{named}: the item has neither a name nor an identifier (BII2-T01-R031)")
    scheme, code = _classification(item, where, named)
    line = Line(
        line_id=line_id,
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        line_total=(quantity * unit_price).quantize(PENNY, rounding=ROUND_HALF_UP),
        scheme=scheme,
        code=code,
        item_id=_item_id(item),
    )
    return line, amount


def _unit_price(
    item: ET.Element, quantity: Decimal, amount: Decimal, unit: str, where: str, named: str
) -> Decimal:
    """Net price per one ``unit``: PriceAmount / BaseQuantity (line amount / quantity without a Price)."""
    price = decimal_at(item, "cac:Price/cbc:PriceAmount", where)
    if price is None:
        # Price is optional in BIS; the line amount is then the only statement of what one unit costs.
        return (amount / quantity).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
    if price < 0:
        raise DocumentError(where, f"{named}: net price {price} is negative (BII2-T01-R011)")
    base = decimal_at(item, "cac:Price/cbc:BaseQuantity", where)
    if base is None:
        return price.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
    if base <= 0:
        raise DocumentError(where, f"{named}: price BaseQuantity {base} must be above 0")
    base_unit = attr(item, "cac:Price/cbc:BaseQuantity", "unitCode")
    if base_unit is not None and base_unit != unit:
        raise DocumentError(
            where,
            f"{named}: price is per {base} {base_unit} but the quantity is in {unit}; "
            "the adapter does not convert units",
        )
    return (price / base).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _item_id(item: ET.Element) -> str | None:
    """GTIN first, then the buyer's (the partner's own) item code, then the seller's."""
    return (
        text(item, "cac:Item/cac:StandardItemIdentification/cbc:ID")
        or text(item, "cac:Item/cac:BuyersItemIdentification/cbc:ID")
        or text(item, "cac:Item/cac:SellersItemIdentification/cbc:ID")
    )


def _classification(item: ET.Element, where: str, named: str) -> tuple[str, str]:
    """The line's best classification: CPV, then UNSPSC, then eClass, then any other list (LOCAL)."""
    candidates: list[tuple[str, str]] = []
    for el in item.findall("cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode", NS):
        code = (el.text or "").strip()
        if not code:
            continue
        list_id = (el.get("listID") or "").strip()
        scheme = CLASSIFICATION_SCHEMES.get(list_id, "LOCAL")
        if scheme == "CPV":
            try:
                code = normalise_cpv(code)
            except ValueError as exc:
                raise DocumentError(where, f"{named}: classification listID STI: {exc}") from None
        elif scheme == "LOCAL" and list_id:
            code = f"{list_id}:{code}"
        candidates.append((scheme, code))
    if not candidates:
        # Classification is optional in BIS; the hub files such a line under "unclassified".
        return "LOCAL", UNCLASSIFIED_CODE
    return min(candidates, key=lambda c: _SCHEME_PREFERENCE.index(c[0]))
