"""OCDS supplier parties -> the identifiers, names and flags the events carry.

Used by both event kinds: a supplier event per party, and the SupplierRef of each contract.
Identifiers are normalised with schemas.identity, and one that is malformed after
normalising (a Companies House number a spreadsheet turned into "11111111.0") makes the
events naming that supplier unmappable, with the field path and the value - never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from adapters.ocds.clean import clean_text, uk_postcode
from schemas.identity import normalise_companies_house, normalise_name, normalise_vat

# OCDS partyScale codelist -> is it an SME?
SCALE_IS_SME = {
    "micro": True,
    "sme": True,
    "small": True,
    "medium": True,
    "selfEmployed": True,
    "large": False,
}
_GLOBAL_PARTY_ID = re.compile(r"^[A-Z]{2}-[A-Za-z]+-\S+$")  # org-id style: GB-COH-01628868, GB-CFS-307549


@dataclass(frozen=True)
class Problem:
    """Why one event could not be mapped: ``field`` is the OCDS path, ``reason`` names the value."""

    field: str | None
    reason: str


class Unmappable(Exception):
    """An event that cannot be mapped; carries the Problem that says why."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.problem = Problem(field, reason)


@dataclass(frozen=True)
class SupplierInfo:
    """A supplier party, resolved to the identifiers the events carry."""

    party_id: str
    entity_id: str
    name: str
    companies_house_number: str | None
    vat_number: str | None
    ppon: str | None
    postcode: str | None
    sme: bool | None
    vcse: bool | None

    def ref(self) -> dict[str, Any]:
        """The contract's SupplierRef."""
        return {
            "member_supplier_id": self.entity_id,
            "name": self.name,
            "companies_house_number": self.companies_house_number,
            "vat_number": self.vat_number,
            "duns": None,
            "ppon": self.ppon,
        }


def supplier_party_ids(release: dict[str, Any], parties: dict[str, Any]) -> list[str]:
    """Parties named as an award's supplier, then any other party with the supplier role."""
    ids: list[str] = []
    for award in release.get("awards") or []:
        for ref in (award or {}).get("suppliers") or []:
            if isinstance(ref, dict) and ref.get("id") is not None and str(ref["id"]) not in ids:
                ids.append(str(ref["id"]))
    for party_id, party in parties.items():
        if "supplier" in (party.get("roles") or []) and party_id not in ids:
            ids.append(party_id)
    return ids


def reference_name(release: dict[str, Any], party_id: str) -> str | None:
    """The name an award gives the supplier ``party_id`` (used when its party entry has none)."""
    for award in release.get("awards") or []:
        for ref in (award or {}).get("suppliers") or []:
            if isinstance(ref, dict) and str(ref.get("id")) == party_id and ref.get("name"):
                return str(ref["name"])
    return None


def supplier_info(party_id: str, party: dict[str, Any] | None, ref_name: str | None) -> SupplierInfo:
    """A supplier party's identifiers, normalised; Unmappable for one that is malformed."""
    party = party or {}
    where = f"parties[id={party_id}]"
    identifier = obj(party.get("identifier"))
    legal = text_of(identifier.get("legalName"))
    name = legal or text_of(party.get("name")) or text_of(ref_name)
    if not name:
        raise Unmappable(f"{where}.name", f"supplier party {party_id!r} has no name or legal name")
    ids = _identifiers(party, where)
    ch = _normalised(ids, "GB-COH", normalise_companies_house, "Companies House number", name)
    vat = _normalised(ids, "GB-VAT", normalise_vat, "UK VAT number", name)
    ppon = _normalised(ids, "GB-PPON", lambda raw: "".join(raw.split()).upper(), "PPON", name)
    if ch:
        entity_id = f"GB-COH-{ch}"
    elif ppon:
        entity_id = f"GB-PPON-{ppon}"
    elif vat:
        entity_id = f"GB-VAT-{vat}"
    elif ids:
        scheme, value, _ = ids[0]
        entity_id = f"{scheme}-{value}"
    elif _GLOBAL_PARTY_ID.match(party_id):
        entity_id = party_id
    else:
        # A process-local party id ("1", "2") means nothing outside the process: key on the name.
        entity_id = f"NAME:{normalise_name(name)}"
    address = obj(party.get("address"))
    return SupplierInfo(
        party_id=party_id,
        entity_id=entity_id,
        name=name,
        companies_house_number=ch,
        vat_number=vat,
        ppon=ppon,
        postcode=_postcode(address),
        sme=_sme(party),
        vcse=_vcse(party),
    )


def _identifiers(party: dict[str, Any], where: str) -> list[tuple[str, str, str]]:
    """(scheme, id, path) of the primary and additional identifiers that have both."""
    found: list[tuple[str, str, str]] = []
    candidates = [(party.get("identifier"), f"{where}.identifier")]
    for i, extra in enumerate(party.get("additionalIdentifiers") or []):
        candidates.append((extra, f"{where}.additionalIdentifiers[{i}]"))
    for ident, path in candidates:
        if not isinstance(ident, dict):
            continue
        scheme, value = text_of(ident.get("scheme")), text_of(ident.get("id"))
        if scheme and value:
            found.append((scheme, value, path))
    return found


def _normalised(
    ids: list[tuple[str, str, str]], scheme: str, normalise: Any, what: str, name: str
) -> str | None:
    values: dict[str, str] = {}
    for found_scheme, raw, path in ids:
        if found_scheme != scheme:
            continue
        try:
            values[normalise(raw)] = path
        except ValueError as exc:
            raise Unmappable(f"{path}.id", f"supplier {name!r}: {what} {raw!r} rejected: {exc}") from None
    if len(values) > 1:
        raise Unmappable(
            next(iter(values.values())), f"supplier {name!r} has several {what}s: {', '.join(sorted(values))}"
        )
    return next(iter(values), None)


def _postcode(address: dict[str, Any]) -> str | None:
    given = text_of(address.get("postalCode"))
    if given:
        return uk_postcode(given.upper()) or given
    street = address.get("streetAddress")
    return uk_postcode(street) if isinstance(street, str) else None


def _sme(party: dict[str, Any]) -> bool | None:
    if isinstance(party.get("sme"), bool):  # Contracts Finder 2020: a flag on the party
        return bool(party["sme"])
    details = obj(party.get("details"))
    return SCALE_IS_SME.get(str(details.get("scale")))


def _vcse(party: dict[str, Any]) -> bool | None:
    if isinstance(party.get("vco"), bool):  # Contracts Finder 2020: voluntary/community organisation
        return bool(party["vco"])
    details = obj(party.get("details"))
    return details["vcse"] if isinstance(details.get("vcse"), bool) else None


def obj(raw: Any) -> dict[str, Any]:
    """``raw`` when it is a JSON object, else an empty one (absent or malformed parts read as empty)."""
    return raw if isinstance(raw, dict) else {}


def text_of(raw: Any) -> str | None:
    """Cleaned text of a scalar, or None when absent or blank."""
    if raw is None or isinstance(raw, dict | list):
        return None
    text = clean_text(str(raw))
    return text or None
