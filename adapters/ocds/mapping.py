"""A compiled OCDS release -> contract and supplier event bodies (pure; no envelope ids, no I/O).

One contract event per award (keyed by the ocid-qualified award id), filled from the award's
contract object when there is exactly one, so the entity keeps its id when a later release
adds the contract to an award published earlier; an award with several contract objects
gives one event per contract. An award with several suppliers gives one event per supplier
(see :data:`MULTI_SUPPLIER_MODES`). One supplier event per supplier party. What each field
comes from, and each fallback, is in docs/adapters-peppol-ocds.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from adapters.ocds.contracts import PENNY, contract_fields, money
from adapters.ocds.suppliers import (
    Problem,
    SupplierInfo,
    Unmappable,
    reference_name,
    supplier_info,
    supplier_party_ids,
    text_of,
)

MultiSupplier = Literal["split", "first"]
# "split": one event per supplier, the value shared (the per-supplier x_awardValue when the
# publisher gives one for every supplier, else evenly, odd pennies to the first suppliers) so
# totals stay true. "first": only the first supplier, with the whole value.
MULTI_SUPPLIER_MODES: tuple[MultiSupplier, ...] = ("split", "first")


@dataclass(frozen=True)
class Body:
    """One mapped event body (family fields plus entity id/version and occurred_at)."""

    family: Literal["contract", "supplier"]
    event: dict[str, Any]


@dataclass(frozen=True)
class Process:
    """A compiled release plus what every event of it shares."""

    release: dict[str, Any]
    version: int
    occurred_at: str
    multi_supplier: MultiSupplier = "split"

    @property
    def ocid(self) -> str:
        """The process id."""
        return str(self.release["ocid"])


def map_process(process: Process) -> Iterator[Body | Problem]:
    """Supplier events first (the master data), then contract events, then any problems in place."""
    release = process.release
    parties = {str(p.get("id")): p for p in release.get("parties") or [] if isinstance(p, dict)}
    suppliers: dict[str, SupplierInfo | Problem] = {}
    for party_id in supplier_party_ids(release, parties):
        try:
            suppliers[party_id] = supplier_info(
                party_id, parties.get(party_id), reference_name(release, party_id)
            )
        except Unmappable as exc:
            suppliers[party_id] = exc.problem
    for party_id, info in suppliers.items():
        if isinstance(info, Problem):
            yield Problem(info.field, f"supplier event for party {party_id!r} not mapped: {info.reason}")
        else:
            yield _supplier_event(info, process)
    for award in release.get("awards") or []:
        if isinstance(award, dict):
            yield from _award_events(award, process, suppliers)


def _supplier_event(info: SupplierInfo, process: Process) -> Body:
    return Body(
        "supplier",
        {
            "entity_id": info.entity_id,
            "entity_version": process.version,
            "occurred_at": process.occurred_at,
            "status": "ACTIVE",
            "legal_name": info.name,
            "companies_house_number": info.companies_house_number,
            "vat_number": info.vat_number,
            "duns": None,
            "ppon": info.ppon,
            "postcode": info.postcode,
            "sme": info.sme,
            "vcse": info.vcse,
        },
    )


def _award_events(
    award: dict[str, Any], process: Process, suppliers: dict[str, SupplierInfo | Problem]
) -> Iterator[Body | Problem]:
    award_id = text_of(award.get("id"))
    if award_id is None:
        yield Problem("awards[].id", f"{process.ocid}: an award has no id")
        return
    base_id = _qualified(process.ocid, award_id)
    contracts = [
        c
        for c in process.release.get("contracts") or []
        if isinstance(c, dict) and text_of(c.get("awardID")) == award_id
    ]
    targets: list[tuple[str, dict[str, Any] | None]]
    if len(contracts) > 1:
        targets = [(f"{base_id}/{text_of(c.get('id'))}", c) for c in contracts]
    else:
        targets = [(base_id, contracts[0] if contracts else None)]
    refs = [r for r in award.get("suppliers") or [] if isinstance(r, dict) and r.get("id") is not None]
    if not refs:
        yield Problem(
            f"awards[id={award_id}].suppliers", f"award {base_id} names no supplier, so no contract event"
        )
        return
    if process.multi_supplier == "first":
        refs = refs[:1]
    for entity_id, contract in targets:
        try:
            common = contract_fields(award, contract, process.release)
        except Unmappable as exc:
            yield Problem(exc.problem.field, f"contract {entity_id}: {exc.problem.reason}")
            continue
        shares = _shares(common["value"], [suppliers.get(str(r["id"])) for r in refs], process.release)
        for ref, share in zip(refs, shares, strict=True):
            info = suppliers.get(str(ref["id"]))
            suffix = f"/{ref['id']}" if len(refs) > 1 else ""
            if not isinstance(info, SupplierInfo):
                reason = info.reason if isinstance(info, Problem) else f"supplier {ref['id']!r} is unknown"
                field = info.field if isinstance(info, Problem) else f"awards[id={award_id}].suppliers"
                yield Problem(field, f"contract {entity_id}{suffix} not mapped: {reason}")
                continue
            event = dict(common, value=money(share), supplier=info.ref())
            yield Body(
                "contract",
                {
                    "entity_id": entity_id + suffix,
                    "entity_version": process.version,
                    "occurred_at": process.occurred_at,
                    **event,
                },
            )


def _qualified(ocid: str, local_id: str) -> str:
    """An award id made unique across processes: "<ocid>/<id>", unless it already starts with the ocid."""
    return local_id if local_id.startswith(ocid) else f"{ocid}/{local_id}"


def _shares(
    total: Decimal, infos: list[SupplierInfo | Problem | None], release: dict[str, Any]
) -> list[Decimal]:
    """Each supplier's part of ``total``: their own x_awardValue if all have one, else even shares."""
    if len(infos) == 1:
        return [total]
    parties = {str(p.get("id")): p for p in release.get("parties") or [] if isinstance(p, dict)}
    own: list[Decimal] = []
    for info in infos:
        party = parties.get(info.party_id) if isinstance(info, SupplierInfo) else None
        value = (party or {}).get("x_awardValue")
        if isinstance(value, dict) and isinstance(value.get("amount"), int | Decimal):
            own.append(Decimal(value["amount"]).quantize(PENNY, rounding=ROUND_HALF_UP))
    if len(own) == len(infos):
        return own
    each = (total / len(infos)).quantize(PENNY, rounding=ROUND_DOWN)
    pennies = int((total - each * len(infos)) / PENNY)
    return [each + (PENNY if i < pennies else 0) for i in range(len(infos))]
