"""From a valid event to the facts the views need: national supplier key and categories.

Pure given its two lookups (``categorise`` for the national category of a classification,
``normalise`` for a code as benchmark keys write it, e.g. a CPV code's 8 digits), which
ingest takes from ``streams.categories``; tests pass their own. The unclassified lines are
reported so ingest can count them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from schemas.identity import national_supplier_key
from schemas.models import (
    Classification,
    Contract,
    ContractStatus,
    Event,
    OrderStatus,
    PurchaseOrder,
    SupplierStatus,
)
from streams.facts import ContractFacts, Facts, LineFacts, OrderFacts, SupplierFacts

UNCLASSIFIED = "unclassified"
BENCHMARKED_SCHEMES = frozenset({"CPV", "UNSPSC", "ECLASS"})
LIVE_CONTRACT = frozenset({ContractStatus.ACTIVE, ContractStatus.PENDING})


class CategoryMatch(Protocol):
    """What a category lookup answers (streams.categories.CategoryMatch has these)."""

    @property
    def category(self) -> str: ...  # noqa: D102

    @property
    def name(self) -> str: ...  # noqa: D102


Categorise = Callable[[str, str, str | None], CategoryMatch]
Normalise = Callable[[str, str], str]  # (scheme, code) -> code; ValueError when malformed


@dataclass(frozen=True)
class Derived:
    """The facts, and how many of the event's classifications landed nowhere."""

    facts: Facts
    unclassified: int


def derive(event: Event, categorise: Categorise, normalise: Normalise) -> Derived:
    """The facts of an event (raises ValueError for an identifier no key can be made from)."""
    if isinstance(event, PurchaseOrder):
        lines = []
        for line in event.lines:
            match = categorise(line.classification.scheme.value, line.classification.code, event.member_id)
            lines.append(
                LineFacts(
                    category=match.category,
                    category_name=match.name,
                    line_total=line.line_total,
                    unit_price=line.unit_price,
                    price_key=price_key(line.classification, line.unit, normalise),
                    scheme=line.classification.scheme.value,
                    code=line.classification.code,
                )
            )
        facts: Facts = OrderFacts(
            live=event.status != OrderStatus.CANCELLED,
            order_date=event.order_date,
            supplier_key=national_supplier_key(event.supplier),
            supplier_name=event.supplier.name,
            total_net=event.total_net,
            lines=tuple(lines),
            contract_ref=event.contract_ref or "",
        )
        return Derived(facts, sum(1 for ln in lines if ln.category == UNCLASSIFIED))
    if isinstance(event, Contract):
        match = categorise(event.classification.scheme.value, event.classification.code, event.member_id)
        facts = ContractFacts(
            live=event.status in LIVE_CONTRACT,
            supplier_key=national_supplier_key(event.supplier),
            supplier_name=event.supplier.name,
            category=match.category,
            category_name=match.name,
            end_date=event.end_date,
            max_extent_date=event.max_extent_date,
            value=event.value,
            scheme=event.classification.scheme.value,
            code=event.classification.code,
            framework_ref=event.framework_ref or "",
        )
        return Derived(facts, int(match.category == UNCLASSIFIED))
    supplier = SupplierFacts(
        supplier_key=national_supplier_key(event),
        name=event.legal_name,
        active=event.status == SupplierStatus.ACTIVE,
        sme=event.sme,
        vcse=event.vcse,
    )
    return Derived(supplier, 0)


def price_key(classification: Classification, unit: str, normalise: Normalise) -> str | None:
    """The benchmark key ``SCHEME:code|unit`` of a line.

    None for a partner-local code (not comparable across partners) and for a code that cannot
    be normalised (it also lands in ``unclassified``; a price under a guessed code would
    mislead more than a missing one).
    """
    scheme = classification.scheme.value
    if scheme not in BENCHMARKED_SCHEMES:
        return None
    try:
        code = normalise(scheme, classification.code)
    except ValueError:
        return None
    return f"{scheme}:{code}|{unit}"
