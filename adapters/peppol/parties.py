"""The seller party of a UBL order -> the event's SupplierRef.

Peppol identifies parties by EAS/ICD scheme codes (codelist_eas.xml): the ones the hub has a
field for are UK VAT (9932) and DUNS (0060). No code exists for a Companies House number,
so a legal CompanyID with schemeID GB-COH (org-id.guide's code) is taken as one, plus any
scheme a member lists in config. Every identifier is normalised with schemas.identity; one
that is malformed after normalising is refused, naming the element and the value.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only for the Element type; parsing is in ubl.py
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from adapters.peppol.ubl import NS, DocumentError, attr, text
from schemas.identity import normalise_companies_house, normalise_duns, normalise_vat

# Peppol EAS/ICD codes (codelist_eas.xml) that carry an identifier the supplier record has.
EAS_UK_VAT = "9932"
ICD_DUNS = "0060"
# No EAS/ICD code exists for a Companies House number; org-id.guide's GB-COH is accepted on
# the legal CompanyID, plus any scheme a member lists in config["companies_house_schemes"].
DEFAULT_CH_SCHEMES = ("GB-COH",)


@dataclass(frozen=True)
class Seller:
    """The seller party as the event's SupplierRef."""

    member_supplier_id: str
    name: str
    companies_house_number: str | None = None
    vat_number: str | None = None
    duns: str | None = None


def read_seller(root: ET.Element, label: str, config: dict[str, Any]) -> Seller:
    """The SellerSupplierParty as a SupplierRef, identifiers sorted into their fields by scheme."""
    where = "cac:SellerSupplierParty/cac:Party"
    party = root.find(where, NS)
    if party is None:
        raise DocumentError(
            "cac:SellerSupplierParty", f"{label}: no SellerSupplierParty (mandatory in Peppol BIS)"
        )
    ids = list(_party_ids(party))
    name = text(party, "cac:PartyLegalEntity/cbc:RegistrationName") or text(party, "cac:PartyName/cbc:Name")
    endpoint = _scheme_value(party, "cbc:EndpointID")
    first_id = next(((scheme, value) for scheme, value, path in ids if path != "cbc:EndpointID"), None)
    own_id = endpoint or first_id
    if own_id is None and name is None:
        raise DocumentError(
            where, f"{label}: the seller has neither a name nor an identifier (BII2-T01-R022)"
        )
    # The seller's own Peppol id as "scheme:value" (whitespace dropped, so "GB 123 4567 89" and
    # "GB123456789" are one supplier); the name only when the seller has no identifier at all.
    member_supplier_id = str(name)
    if own_id is not None:
        compact = "".join(own_id[1].split())
        member_supplier_id = f"{own_id[0]}:{compact}" if own_id[0] else compact
    ch_schemes = set(config.get("companies_house_schemes") or DEFAULT_CH_SCHEMES)
    found: dict[str, tuple[str, str]] = {}  # field -> (value, where it came from)
    for scheme, value, path in ids:
        field, normalise = _identifier_field(scheme, value, path, ch_schemes)
        if field is None or normalise is None:
            continue
        try:
            normalised = normalise(value)
        except ValueError as exc:
            raise DocumentError(
                f"{where}/{path}", f"{label}: seller {field} {value!r} rejected: {exc}"
            ) from None
        earlier = found.get(field)
        if earlier is not None and earlier[0] != normalised:
            raise DocumentError(
                f"{where}/{path}",
                f"{label}: the seller has two different {field}s, "
                f"{earlier[0]} ({earlier[1]}) and {normalised}",
            )
        found[field] = (normalised, path)
    return Seller(
        member_supplier_id=member_supplier_id,
        name=name or member_supplier_id,
        companies_house_number=found.get("companies_house_number", (None,))[0],
        vat_number=found.get("vat_number", (None,))[0],
        duns=found.get("duns", (None,))[0],
    )


def _party_ids(party: ET.Element) -> Iterable[tuple[str | None, str, str]]:
    """(scheme, value, element path) for every identifier a party carries."""
    for path in ("cbc:EndpointID", "cac:PartyIdentification/cbc:ID", "cac:PartyLegalEntity/cbc:CompanyID"):
        for el in party.findall(path, NS):
            if el.text and el.text.strip():
                yield el.get("schemeID"), el.text.strip(), path
    for tax in party.findall("cac:PartyTaxScheme", NS):
        value = text(tax, "cbc:CompanyID")
        if value and text(tax, "cac:TaxScheme/cbc:ID") == "VAT":
            # A VAT registration is typed by its tax scheme, not a schemeID; only a GB one is UK VAT.
            yield (
                (EAS_UK_VAT if value.upper().startswith("GB") else None),
                value,
                "cac:PartyTaxScheme/cbc:CompanyID",
            )


def _identifier_field(
    scheme: str | None, value: str, path: str, ch_schemes: set[str]
) -> tuple[str | None, Callable[[str], str] | None]:
    if scheme == EAS_UK_VAT:
        return "vat_number", normalise_vat
    if scheme == ICD_DUNS:
        return "duns", normalise_duns
    if scheme in ch_schemes and path == "cac:PartyLegalEntity/cbc:CompanyID":
        return "companies_house_number", normalise_companies_house
    return None, None


def _scheme_value(party: ET.Element, path: str) -> tuple[str | None, str] | None:
    value = text(party, path)
    if value is None:
        return None
    return attr(party, path, "schemeID"), value
