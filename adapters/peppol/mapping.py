"""Peppol BIS 3 ordering documents -> the purchase-order event's full state.

Pure functions: one parsed UBL document in, a typed :class:`UblDocument` out (header here,
the seller in parties.py, the lines in lines.py; the BIS rules the hub relies on checked,
each failure naming the document and the line), then the event body built from it.
Versions and the previous state of an order are the reader's business (reader.py), because
they need the adapter-side order store. Document-level allowances, charges and tax are not
carried: the event's ``total_net`` is the sum of its lines.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only for the Element type; parsing is in ubl.py
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.peppol.lines import FOUR_PLACES, PENNY, Line, read_lines
from adapters.peppol.parties import Seller, read_seller
from adapters.peppol.ubl import DocumentError, text


@dataclass(frozen=True)
class UblDocument:
    """What the adapter needs from an Order, OrderChange or OrderCancellation."""

    kind: str
    document_id: str
    order_id: str
    issued_at: datetime
    issue_date: date
    sequence: int | None
    currency: str | None
    seller: Seller | None
    contract_ref: str | None
    referenced_order_date: date | None
    lines: tuple[Line, ...]

    @property
    def label(self) -> str:
        """How messages name the document, e.g. ``OrderChange Change-1``."""
        return f"{self.kind} {self.document_id}"


def read_document(kind: str, root: ET.Element, config: dict[str, Any]) -> UblDocument:
    """Check and extract one document; DocumentError names what is wrong and where."""
    document_id = _required(root, "cbc:ID", "document ID (BII2-T01-R006)")
    label = f"{kind} {document_id}"
    issue_date = _date(
        _required(root, "cbc:IssueDate", f"{label}: IssueDate (BII2-T01-R004)"), "cbc:IssueDate"
    )
    issued_at = _moment(issue_date, text(root, "cbc:IssueTime"))
    if kind == "Order":
        order_id = document_id
    else:
        order_id = _required(root, "cac:OrderReference/cbc:ID", f"{label}: the order it refers to")
    referenced = text(root, "cac:OrderReference/cbc:IssueDate")
    sequence = _sequence(root, kind, label)
    if kind == "OrderCancellation":
        return UblDocument(
            kind, document_id, order_id, issued_at, issue_date, sequence, None, None, None, None, ()
        )
    currency = _required(root, "cbc:DocumentCurrencyCode", f"{label}: DocumentCurrencyCode")
    _check_single_currency(root, currency, label)
    seller = read_seller(root, label, config)
    lines = read_lines(root, kind, label)
    return UblDocument(
        kind=kind,
        document_id=document_id,
        order_id=order_id,
        issued_at=issued_at,
        issue_date=issue_date,
        sequence=sequence,
        currency=currency,
        seller=seller,
        contract_ref=text(root, "cac:Contract/cbc:ID"),
        referenced_order_date=_date(referenced, "cac:OrderReference/cbc:IssueDate") if referenced else None,
        lines=lines,
    )


def order_body(doc: UblDocument, status: str, order_date: date, contract_ref: str | None) -> dict[str, Any]:
    """The purchase-order fields (no envelope) for an Order or OrderChange."""
    assert doc.seller is not None and doc.currency is not None  # set for every non-cancellation
    seller = doc.seller
    return {
        "status": status,
        "order_date": order_date.isoformat(),
        "currency": doc.currency,
        "supplier": {
            "member_supplier_id": seller.member_supplier_id,
            "name": seller.name,
            "companies_house_number": seller.companies_house_number,
            "vat_number": seller.vat_number,
            "duns": seller.duns,
            "ppon": None,
        },
        "contract_ref": contract_ref,
        "lines": [
            {
                "line_id": line.line_id,
                "description": line.description,
                "quantity": _four(line.quantity),
                "unit": line.unit,
                "unit_price": _four(line.unit_price),
                "line_total": _money(line.line_total),
                "classification": {"scheme": line.scheme, "code": line.code},
                "item_id": line.item_id,
            }
            for line in doc.lines
        ],
        "total_net": _money(sum((line.line_total for line in doc.lines), Decimal("0"))),
    }


# --- header helpers --------------------------------------------------------------------


def _required(root: ET.Element, path: str, what: str) -> str:
    value = text(root, path)
    if value is None:
        raise DocumentError(path, f"missing {what}")
    return value


def _date(raw: str, where: str) -> date:
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise DocumentError(where, f"{where} is {raw!r}, not a date (YYYY-MM-DD)") from None


def _moment(day: date, raw_time: str | None) -> datetime:
    """IssueDate + IssueTime as UTC; a time without an offset is taken as UTC."""
    if raw_time is None:
        return datetime.combine(day, time(0), tzinfo=UTC)
    try:
        clock = time.fromisoformat(raw_time)
    except ValueError:
        raise DocumentError("cbc:IssueTime", f"IssueTime {raw_time!r} is not a time (hh:mm:ss)") from None
    moment = datetime.combine(day, clock)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _sequence(root: ET.Element, kind: str, label: str) -> int | None:
    raw = text(root, "cbc:SequenceNumberID")
    if raw is None:
        if kind == "OrderChange":
            raise DocumentError(
                "cbc:SequenceNumberID", f"{label}: no SequenceNumberID (mandatory in an order change)"
            )
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise DocumentError(
            "cbc:SequenceNumberID", f"{label}: SequenceNumberID {raw!r} is not a positive whole number"
        )
    return int(raw)


def _check_single_currency(root: ET.Element, currency: str, label: str) -> None:
    for el in root.iter():
        other = el.get("currencyID")
        if other is not None and other.strip() != currency:
            tag = el.tag.rsplit("}", 1)[-1]
            raise DocumentError(
                f"cbc:{tag}",
                f"{label}: {tag} is in {other.strip()} but the document currency is {currency} "
                "(BII2-T01-R009)",
            )


def _money(value: Decimal) -> str:
    return format(value.quantize(PENNY, rounding=ROUND_HALF_UP), "f")


def _four(value: Decimal) -> str:
    return format(value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP), "f")
