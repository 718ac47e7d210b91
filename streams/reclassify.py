"""Reclassifying what the hub already holds when a partner publishes its own code map.

A partner's map places its LOCAL codes in the national taxonomy. Spend that arrived before the
map sits in ``unclassified`` (or wherever an older map put it). ``bluelight categories
publish`` therefore also writes a *reclassify order* carrying the map to every partition of the
canonical topic; stage one, for each of the member's orders and contracts held under that
partition, places its LOCAL lines again with the map, and where a category changes it sends
the entity's new contributions at a new revision. No event is re-sent and no version is faked:
the facts keep each line's own classification (``streams/facts.py``). Placing again with the
same map changes nothing, so an order read twice (a crash) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from streams.categories import (
    CategoryMatch,
    decode_partner_map,
    load_reference,
    map_classification,
    scheme_name,
    with_local_map,
)
from streams.facts import ContractFacts, Facts, OrderFacts

Classify = Callable[[str], CategoryMatch]  # a LOCAL code -> where it lands now


@lru_cache(maxsize=8)
def local_classifier(member: str, partner_map: str) -> Classify:
    """Where ``member``'s LOCAL codes land under ``partner_map`` (the reference topic's JSON)."""
    reference = load_reference()
    local = decode_partner_map(partner_map.encode(), reference)
    if local.member != member:
        raise ValueError(f"a map of {local.member} in a reclassify order for {member}")
    placed = with_local_map(reference, local)
    return lru_cache(maxsize=4096)(lambda code: map_classification("LOCAL", code, member, reference=placed))


def reclassified(facts: Facts, classify: Classify) -> Facts:
    """``facts`` with every LOCAL classification placed by ``classify`` (the same object if none moved)."""
    if isinstance(facts, OrderFacts):
        lines = tuple(
            replace(line, category=m.category, category_name=m.name)
            if _local(line.scheme) and (m := classify(line.code)).category != line.category
            else line
            for line in facts.lines
        )
        return facts if lines == facts.lines else replace(facts, lines=lines)
    if isinstance(facts, ContractFacts) and _local(facts.scheme):
        m = classify(facts.code)
        if m.category != facts.category:
            return replace(facts, category=m.category, category_name=m.name)
    return facts


def _local(scheme: str) -> bool:
    return bool(scheme) and scheme_name(scheme) == "LOCAL"
