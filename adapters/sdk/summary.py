"""What a run of spend means for the national views, told before (and after) it is published.

Per partner classification code: how many lines and how much money, and the national
category the code lands in, so a partner sees "£25.3m (100%) would be unclassified: no
LOCAL map for surrey-police" at its own desk instead of in the views a week later. Also the
figures finance reconciles against the ERP export (rows read, total amount) and supplier ids
that carry several names (an ERP's one-time vendor account shared by unrelated payees).

Memory grows with the number of distinct codes and suppliers, never with rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from schemas.models import Event, PurchaseOrder
from streams.categories import (
    CategoryMatch,
    load_reference,
    local_map_from,
    map_classification,
    with_local_map,
)

Classify = Callable[[str, str], CategoryMatch]  # (scheme, code) -> where it lands
SHOWN_CODES = 15  # codes listed one by one, largest amount first; the rest are summed
SHOWN_NAMES = 3


def classifier(member: str, own_map: Mapping[str, Any] | None = None) -> Classify:
    """Where ``member``'s codes land: its own map (from its mapping) first, else the hub's data.

    ``own_map`` is the ``categories:`` section of a mapping ({version, codes, prefixes}).
    """
    reference = load_reference()
    if own_map:
        local = local_map_from(
            member,
            int(own_map.get("version", 1)),
            own_map.get("codes") or {},
            own_map.get("prefixes") or {},
            reference,
        )
        reference = with_local_map(reference, local)
    cache: dict[tuple[str, str], CategoryMatch] = {}

    def classify(scheme: str, code: str) -> CategoryMatch:
        key = (scheme, code)
        if key not in cache:
            cache[key] = map_classification(scheme, code, member, reference=reference)
        return cache[key]

    return classify


@dataclass
class CodeTally:
    """The lines of one partner code, and where they land."""

    lines: int = 0
    amount: Decimal = Decimal("0.00")
    match: CategoryMatch | None = None
    label: str = ""  # the first line description seen, so a person recognises the code


@dataclass
class SpendSummary:
    """Running totals over the purchase orders of one run."""

    classify: Classify
    rows_read: int = 0
    events: int = 0
    amount: Decimal = Decimal("0.00")
    cancelled: int = 0
    codes: dict[tuple[str, str], CodeTally] = field(default_factory=dict)
    supplier_names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        """Count one accepted event (only purchase orders carry spend)."""
        if not isinstance(event, PurchaseOrder):
            return
        self.events += 1
        supplier = event.supplier
        self.supplier_names.setdefault(supplier.member_supplier_id, set()).add(supplier.name)
        if event.status.value == "CANCELLED":  # the views count no cancelled order
            self.cancelled += 1
            return
        self.amount += event.total_net
        for line in event.lines:
            key = (line.classification.scheme.value, line.classification.code)
            tally = self.codes.get(key)
            if tally is None:
                tally = self.codes[key] = CodeTally(match=self.classify(*key), label=line.description)
            tally.lines += 1
            tally.amount += line.line_total

    def report(self, verb: str) -> Iterator[str]:
        """The summary as lines of text (``verb``: "would land" in a dry run, "lands" after)."""
        if not self.events:
            return
        note = f"; {self.cancelled} cancelled orders not counted" if self.cancelled else ""
        yield (
            f"rows read: {self.rows_read:,}; spend in events: {_money(self.amount)} "
            f"({self.events:,} orders{note})"
        )
        ranked = sorted(self.codes.items(), key=lambda kv: (-kv[1].amount, kv[0]))
        yield f"by partner code ({len(ranked)} codes), where each {verb} in the national categories:"
        width = max((len(f"{s}:{c}") for (s, c), _ in ranked[:SHOWN_CODES]), default=4)
        for (scheme, code), tally in ranked[:SHOWN_CODES]:
            category = tally.match.category if tally.match else "?"
            label = tally.label if len(tally.label) <= 32 else tally.label[:31] + "…"
            yield (
                f"  {scheme + ':' + code:<{width}}  {label:<32}  {tally.lines:>7,} lines  "
                f"{_money(tally.amount):>16}  -> {category}"
            )
        rest = ranked[SHOWN_CODES:]
        if rest:
            amount = sum((t.amount for _, t in rest), Decimal(0))
            lines = sum(t.lines for _, t in rest)
            yield f"  ... {len(rest)} more codes: {lines:,} lines, {_money(amount)}"
        yield from self._unclassified(verb)
        yield from self._shared_supplier_ids()

    def _unclassified(self, verb: str) -> Iterator[str]:
        by_reason: dict[str, Decimal] = {}
        codes: dict[str, int] = {}
        for (_, _), tally in self.codes.items():
            if tally.match is None or tally.match.classified:
                continue
            reason = _reason(tally.match.rule)
            by_reason[reason] = by_reason.get(reason, Decimal(0)) + tally.amount
            codes[reason] = codes.get(reason, 0) + 1
        for reason, amount in sorted(by_reason.items(), key=lambda kv: -kv[1]):
            share = amount / self.amount * 100 if self.amount else Decimal(0)
            would = "would be" if verb.startswith("would") else "is"
            yield (
                f"warning: {_short_money(amount)} ({share:.0f}%) {would} unclassified: {reason} "
                f"({codes[reason]} codes). Map them under `categories:` in your mapping, or in "
                "the hub's streams/reference/local/<member>.yaml (docs/categories.md)"
            )

    def _shared_supplier_ids(self) -> Iterator[str]:
        shared = {sid: names for sid, names in self.supplier_names.items() if len(names) > 1}
        for sid, names in sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]:
            shown = ", ".join(sorted(names)[:SHOWN_NAMES]) + (", ..." if len(names) > SHOWN_NAMES else "")
            yield (
                f"warning: supplier id {sid} carries {len(names)} names ({shown}): a one-time vendor "
                "account? List it under one_off_supplier_ids in the mapping so each payee stays apart"
            )
        if len(shared) > 10:
            yield f"warning: ... and {len(shared) - 10} more supplier ids with several names"


def _reason(rule: str) -> str:
    """The cause in a CategoryMatch's rule text, without the code itself or the arrow."""
    text = rule.split(" → ")[0]
    if text.startswith("no LOCAL map for member "):
        return "no LOCAL map for " + text.removeprefix("no LOCAL map for member ")
    if text.startswith("no rule in "):
        return "no rule in " + text.removeprefix("no rule in ").split(" matches ")[0] + " for these codes"
    if " rule matches " in text:
        return text.split(" rule matches ")[0] + " rule for these codes"
    return text


def _money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def _short_money(amount: Decimal) -> str:
    for size, unit in ((Decimal(1_000_000_000), "bn"), (Decimal(1_000_000), "m"), (Decimal(1_000), "k")):
        if abs(amount) >= size:
            return f"£{amount / size:,.1f}{unit}"
    return f"£{amount:,.2f}"
