"""An award (and its contract object, if any) of a compiled release -> the contract event's fields.

Each field has a chain of places it may come from (contract, then award, then tender); the
first present wins. What cannot be filled raises Unmappable naming the OCDS path.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from adapters.ocds.cpv import normalise_cpv
from adapters.ocds.suppliers import Unmappable, obj, text_of

PENNY = Decimal("0.01")
MAX_AMOUNT = Decimal("1e16")  # decimal(18, 2)

CONTRACT_STATUS = {
    "pending": "PENDING",
    "active": "ACTIVE",
    "cancelled": "CANCELLED",
    "terminated": "TERMINATED",
}
# An award never becomes "expired" or "terminated" in OCDS; an unsuccessful one made no contract.
AWARD_STATUS = {
    "pending": "PENDING",
    "active": "ACTIVE",
    "cancelled": "CANCELLED",
    "unsuccessful": "CANCELLED",
}
UNCLASSIFIED_CODE = "UNCLASSIFIED"
# A Crown Commercial Service framework number, e.g. RM6194 (or RM6194.2 for a lot)
_CCS_FRAMEWORK = re.compile(r"\bRM\d{4}(?:\.\d{1,2})?\b")


def contract_fields(
    award: dict[str, Any], contract: dict[str, Any] | None, release: dict[str, Any]
) -> dict[str, Any]:
    """Every contract event field but the supplier and the envelope, from one award of ``release``."""
    tender = obj(release.get("tender"))
    contract = contract or {}
    periods = [
        ("contracts[].period", contract.get("period")),
        ("awards[].contractPeriod", award.get("contractPeriod")),
        ("tender.contractPeriod", tender.get("contractPeriod")),
    ]
    start = _first_date(periods, "startDate")
    if start is None:
        raise Unmappable(
            "contracts[].period.startDate", "no start date in the contract, award or tender period"
        )
    end = _first_date(periods, "endDate") or _end_from_duration(periods, start)
    if end is None:
        raise Unmappable(
            "contracts[].period.endDate",
            "no end date (nor durationInDays) in the contract, award or tender period",
        )
    if end < start:
        raise Unmappable("contracts[].period.endDate", f"end date {end} is before start date {start}")
    max_extent = _first_date(periods, "maxExtentDate")
    if max_extent is not None and max_extent < end:
        raise Unmappable(
            "contracts[].period.maxExtentDate", f"maxExtentDate {max_extent} is before end date {end}"
        )
    amount, currency = _value(contract, award)
    return {
        "status": _status(contract, award),
        "title": _title(contract, award, tender),
        "classification": _classification(contract, award, tender),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "max_extent_date": max_extent.isoformat() if max_extent else None,
        "value": amount,
        "currency": currency,
        "framework_ref": _framework_ref(release, contract, tender),
        "ocid": str(release["ocid"]),
    }


def _status(contract: dict[str, Any], award: dict[str, Any]) -> str:
    raw = text_of(contract.get("status"))
    if raw is not None:
        if raw not in CONTRACT_STATUS:
            raise Unmappable(
                "contracts[].status", f"contract status {raw!r} is not in the OCDS contractStatus codelist"
            )
        return CONTRACT_STATUS[raw]
    raw = text_of(award.get("status"))
    if raw is None:
        return "ACTIVE"  # an award published with suppliers and no status is taken as made
    if raw not in AWARD_STATUS:
        raise Unmappable("awards[].status", f"award status {raw!r} is not in the OCDS awardStatus codelist")
    return AWARD_STATUS[raw]


def _title(contract: dict[str, Any], award: dict[str, Any], tender: dict[str, Any]) -> str:
    for candidate in (contract.get("title"), award.get("title"), tender.get("title")):
        text = text_of(candidate)
        if text:
            return text
    raise Unmappable("contracts[].title", "no title on the contract, award or tender")


def _classification(
    contract: dict[str, Any], award: dict[str, Any], tender: dict[str, Any]
) -> dict[str, str]:
    """The main item's classification (CPV preferred), from the contract, award or tender items."""
    for path, holder in (
        ("contracts[].items", contract),
        ("awards[].items", award),
        ("tender.items", tender),
    ):
        for item in holder.get("items") or []:
            if not isinstance(item, dict):
                continue
            found = [item.get("classification"), *(item.get("additionalClassifications") or [])]
            found = [c for c in found if isinstance(c, dict) and text_of(c.get("id"))]
            if found:
                return _best_classification(found, f"{path}[0].classification")
    if isinstance(tender.get("classification"), dict) and text_of(tender["classification"].get("id")):
        # Contracts Finder 2025 classifies the tender itself and leaves its items unclassified.
        return _best_classification([tender["classification"]], "tender.classification")
    return {"scheme": "LOCAL", "code": UNCLASSIFIED_CODE}


def _best_classification(found: list[dict[str, Any]], where: str) -> dict[str, str]:
    for wanted in ("CPV", "UNSPSC"):
        for c in found:
            if str(c.get("scheme") or "").upper() == wanted:
                code = str(text_of(c.get("id")))
                if wanted == "CPV":
                    try:
                        code = normalise_cpv(code)
                    except ValueError as exc:
                        raise Unmappable(f"{where}.id", str(exc)) from None
                return {"scheme": wanted, "code": code}
    main = found[0]
    return {
        "scheme": "LOCAL",
        "code": f"{text_of(main.get('scheme')) or 'UNKNOWN'}:{text_of(main.get('id'))}",
    }


def _first_date(periods: list[tuple[str, Any]], key: str) -> date | None:
    for path, period in periods:
        if isinstance(period, dict) and text_of(period.get(key)):
            return _date(str(period[key]), f"{path}.{key}")
    return None


def _end_from_duration(periods: list[tuple[str, Any]], start: date) -> date | None:
    for _, period in periods:
        if isinstance(period, dict) and isinstance(period.get("durationInDays"), int | Decimal):
            return start + timedelta(days=int(period["durationInDays"]))
    return None


def _date(raw: str, where: str) -> date:
    """The calendar date a timestamp names in its own offset: "2024-08-12T00:00:00+01:00" is 12 August."""
    try:
        return datetime.fromisoformat(raw.strip()).date()
    except ValueError:
        raise Unmappable(where, f"{where} is {raw!r}, not an ISO 8601 date") from None


def _value(contract: dict[str, Any], award: dict[str, Any]) -> tuple[Decimal, str]:
    for path, holder in (("contracts[].value", contract), ("awards[].value", award)):
        value = holder.get("value")
        if not isinstance(value, dict) or value.get("amount") is None:
            continue
        try:
            amount = Decimal(str(value["amount"]))
        except InvalidOperation:
            raise Unmappable(f"{path}.amount", f"{path}.amount {value['amount']!r} is not a number") from None
        if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
            raise Unmappable(f"{path}.amount", f"{path}.amount {value['amount']!r} is not a usable amount")
        if amount < 0:
            raise Unmappable(
                f"{path}.amount", f"{path}.amount {amount} is negative (a concession); not supported"
            )
        currency = text_of(value.get("currency"))
        if currency is None:
            raise Unmappable(f"{path}.currency", f"{path} has an amount but no currency")
        return amount.quantize(PENNY, rounding=ROUND_HALF_UP), currency
    raise Unmappable("awards[].value", "no value on the contract or the award")


def _framework_ref(release: dict[str, Any], contract: dict[str, Any], tender: dict[str, Any]) -> str | None:
    """The framework this is a call-off from: a related process, else a CCS "RMnnnn" in the tender text."""
    for related in [*(contract.get("relatedProcesses") or []), *(release.get("relatedProcesses") or [])]:
        if isinstance(related, dict) and "framework" in (related.get("relationship") or []):
            ref = text_of(related.get("identifier")) or text_of(related.get("title"))
            if ref:
                return ref
    if "framework" not in str(tender.get("procurementMethodDetails") or "").lower():
        return None
    numbers = {
        m.group(0)
        for field in ("title", "description")
        for m in _CCS_FRAMEWORK.finditer(str(tender.get(field) or ""))
    }
    return numbers.pop() if len(numbers) == 1 else None


def money(value: Decimal) -> str:
    """An amount as the event's JSON writes it: two places."""
    return format(value.quantize(PENNY, rounding=ROUND_HALF_UP), "f")
