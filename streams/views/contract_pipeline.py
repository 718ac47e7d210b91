"""contract-pipeline: which live contracts in a category end when, and who could buy together.

Key: the national category id. Each live contract contributes one row; the expiry buckets
and the collaboration list depend on the query date ``as_of``, so they are computed when
the item is asked for (the view topic carries today's, republished daily).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from streams.facts import ContractFacts, Current
from streams.views.render import add_months, money

VIEW = "contract-pipeline"
BUCKETS = ("past_end", "within_6m", "6_to_12m", "12_to_24m")


@dataclass(frozen=True, slots=True)
class PipelineRow:
    """One live contract in the pipeline of its category."""

    name: str
    member_id: str
    entity_id: str
    supplier_key: str
    end_date: date
    max_extent_date: date | None
    value: Decimal


def pipeline_parts(current: Current) -> dict[str, PipelineRow]:
    """The row a live contract contributes, by its category."""
    facts = current.facts
    if not isinstance(facts, ContractFacts) or not facts.live:
        return {}
    row = PipelineRow(
        name=facts.category_name,
        member_id=current.ref.member,
        entity_id=current.ref.entity_id,
        supplier_key=facts.supplier_key,
        end_date=facts.end_date,
        max_extent_date=facts.max_extent_date,
        value=facts.value,
    )
    return {facts.category: row}


def bucket_of(end_date: date, as_of: date) -> str | None:
    """The expiry bucket of a live contract ending on ``end_date``, seen on ``as_of``."""
    if end_date <= as_of:
        return "past_end"
    if end_date <= add_months(as_of, 6):
        return "within_6m"
    if end_date <= add_months(as_of, 12):
        return "6_to_12m"
    if end_date <= add_months(as_of, 24):
        return "12_to_24m"
    return None


def contract_pipeline_item(category: str, rows: Iterable[PipelineRow], as_of: date) -> dict[str, Any] | None:
    """The view item of one category on ``as_of``, or ``None`` without live contracts."""
    rows = sorted(rows, key=lambda r: (r.end_date, r.member_id, r.entity_id))
    if not rows:
        return None
    counts = dict.fromkeys(BUCKETS, 0)
    values = dict.fromkeys(BUCKETS, Decimal(0))
    for row in rows:
        bucket = bucket_of(row.end_date, as_of)
        if bucket is not None:
            counts[bucket] += 1
            values[bucket] += row.value
    horizon = add_months(as_of, 12)
    collaborating = sorted({r.member_id for r in rows if as_of < r.end_date <= horizon})
    return {
        "category": category,
        "name": min(r.name for r in rows),
        "contracts": [
            {
                "member_id": r.member_id,
                "entity_id": r.entity_id,
                "supplier_key": r.supplier_key,
                "end_date": r.end_date.isoformat(),
                "max_extent_date": r.max_extent_date.isoformat() if r.max_extent_date else None,
                "value": money(r.value),
            }
            for r in rows
        ],
        "live_value": money(sum((r.value for r in rows), Decimal(0))),
        "expiring": {b: {"count": counts[b], "value": money(values[b])} for b in BUCKETS},
        "collaboration": collaborating if len(collaborating) >= 2 else [],
    }
