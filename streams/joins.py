"""Stage two's joins: where orders meet their supplier's records and their contract.

Two views need facts from another entity than the order itself:

- supplier-diversity classifies an order's spend by its supplier's *facts*, taken from every
  member's current record of that national supplier key;
- contract-coverage puts an order on contract while its member's contract named by
  ``contract_ref`` exists, via a framework while that contract names one.

Each join is one more keyed step in the same Kafka topology (a foreign-key join by
repartition): stage one sends an order's lines, a supplier record's flags and a contract's
framework to the *join key* (``join.supplier``: the national supplier key; ``join.contract``:
``[member, contract id]``) as ordinary contributions, whichever arrives first. Stage two keeps
them like any other part and, for each join key, sends its *output* to the view keys
(categories) as contributions again, with the join key as the contributor.

Exact under replays, like stage one: the output's revision is the sum of the revisions of
every contributor the join key has seen (a withdrawn one keeps its revision, as a stored
tombstone), which grows with every change and is the same for the same state; a re-read
contribution re-sends the whole output and withdraws it from every category the key ever sent
to (``touched``, kept in the table), since what left before a crash may not have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from streams.facts import ContractFacts, Current, OrderFacts, SupplierFacts
from streams.standings import CATEGORY_JOIN, CategoryKey, CategoryLink, JoinOutput
from streams.views.contract_coverage import VIEW as COVERAGE
from streams.views.contract_coverage import CoveragePart
from streams.views.supplier_diversity import VIEW as DIVERSITY
from streams.views.supplier_diversity import DiversityPart, MemberSplit

SUPPLIER_JOIN = "join.supplier"
CONTRACT_JOIN = "join.contract"
JOINS = (SUPPLIER_JOIN, CONTRACT_JOIN, CATEGORY_JOIN)
TOUCHED = "#touched"  # the contributor name of a join key's touched categories in the table

Flag = Literal["true", "false", "unknown"]


@dataclass(frozen=True, slots=True)
class OrderLink:
    """A live order's lines under a join key: (category, category name, line totals) by category."""

    member: str
    lines: tuple[tuple[str, str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class SupplierFlags:
    """What one member's active supplier record says of the supplier (None: it does not say)."""

    member: str
    sme: bool | None
    vcse: bool | None


@dataclass(frozen=True, slots=True)
class ContractLink:
    """A contract's current state exists (any status); its framework ("" for none)."""

    framework_ref: str


JoinPart = OrderLink | SupplierFlags | ContractLink | CategoryLink
Slot = tuple[str, str]


def contract_key(member: str, contract_id: str) -> str:
    """The join key of a member's contract (a member's ids are its own)."""
    return json.dumps([member, contract_id], separators=(",", ":"), ensure_ascii=False)


def join_parts(current: Current) -> dict[Slot, JoinPart]:
    """What an entity's current state gives to the join keys."""
    facts, member = current.facts, current.ref.member
    if isinstance(facts, OrderFacts):
        if not facts.live:
            return {}
        link = OrderLink(member, _by_category(facts))
        out: dict[Slot, JoinPart] = {(SUPPLIER_JOIN, facts.supplier_key): link}
        if facts.contract_ref:
            out[(CONTRACT_JOIN, contract_key(member, facts.contract_ref))] = link
        for category, _, total in link.lines:
            out[(CATEGORY_JOIN, category)] = CategoryLink(facts.supplier_key, total)
        return out
    if isinstance(facts, SupplierFacts):
        if not facts.active:
            return {}
        return {(SUPPLIER_JOIN, facts.supplier_key): SupplierFlags(member, facts.sme, facts.vcse)}
    if isinstance(facts, ContractFacts):
        key = contract_key(member, current.ref.entity_id)
        given: dict[Slot, JoinPart] = {(CONTRACT_JOIN, key): ContractLink(facts.framework_ref)}
        if facts.live:
            given[(CATEGORY_JOIN, facts.category)] = CategoryLink(facts.supplier_key, None)
        return given
    return {}


def _by_category(facts: OrderFacts) -> tuple[tuple[str, str, Decimal], ...]:
    totals: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for line in facts.lines:
        totals[line.category] = totals.get(line.category, Decimal(0)) + line.line_total
        names.setdefault(line.category, line.category_name)
    return tuple((c, names[c], totals[c]) for c in sorted(totals))


def flag(says: Iterable[bool | None]) -> Flag:
    """The spec's rule: true when some record says true and none false, and the reverse; else unknown."""
    seen = {s for s in says if s is not None}
    if seen == {True}:
        return "true"
    if seen == {False}:
        return "false"
    return "unknown"


@dataclass
class JoinKey(JoinOutput):
    """One join key's contributors, their revisions, and running sums per category and member."""

    links: dict[str, OrderLink] = field(default_factory=dict)
    flags: dict[str, SupplierFlags] = field(default_factory=dict)
    contracts: dict[str, ContractLink] = field(default_factory=dict)
    sums: dict[str, dict[str, tuple[int, Decimal]]] = field(default_factory=dict)  # category -> member
    names: dict[str, dict[str, int]] = field(default_factory=dict)  # category -> name -> count

    def put(self, contributor: str, rev: int, part: JoinPart | None) -> set[str]:
        """Make ``part`` what ``contributor`` gives (None: withdrawn); the categories it moves."""
        self.revs[contributor] = rev
        moved: set[str] = set()
        old_link = self.links.pop(contributor, None)
        if old_link is not None:
            moved |= self._count(old_link, -1)
        had_fact = (self.flags.pop(contributor, None), self.contracts.pop(contributor, None)) != (None, None)
        if isinstance(part, OrderLink):
            self.links[contributor] = part
            moved |= self._count(part, 1)
        elif isinstance(part, SupplierFlags):
            self.flags[contributor] = part
        elif isinstance(part, ContractLink):
            self.contracts[contributor] = part
        if had_fact or isinstance(part, SupplierFlags | ContractLink):
            moved |= set(self.sums)  # the facts may have changed: every category's split may
        return moved

    @property
    def target(self) -> str:
        """The view this key's output goes to."""
        return DIVERSITY if self.view == SUPPLIER_JOIN else COVERAGE

    @property
    def contract(self) -> ContractLink | None:
        """The contract's current state, if it exists (only the contract itself gives one)."""
        return self.contracts[min(self.contracts)] if self.contracts else None

    def _count(self, link: OrderLink, sign: int) -> set[str]:
        for category, name, total in link.lines:
            members = self.sums.setdefault(category, {})
            count, amount = members.get(link.member, (0, Decimal(0)))
            count, amount = count + sign, amount + sign * total
            if count:
                members[link.member] = (count, amount)
            else:
                del members[link.member]
            names = self.names.setdefault(category, {})
            names[name] = names.get(name, 0) + sign
            if not names[name]:
                del names[name]
            if not members:
                del self.sums[category]
                del self.names[category]
        return {category for category, _, _ in link.lines}

    def output(self, categories: Iterable[str]) -> dict[Slot, DiversityPart | CoveragePart]:
        """The parts this key gives to ``categories`` of its view (absent: none)."""
        out: dict[Slot, DiversityPart | CoveragePart] = {}
        sme = flag(f.sme for f in self.flags.values())
        vcse = flag(f.vcse for f in self.flags.values())
        for category in categories:
            members = self.sums.get(category)
            if not members:
                continue
            name = min(self.names[category])
            if self.view == SUPPLIER_JOIN:
                out[(DIVERSITY, category)] = DiversityPart(
                    name, tuple(_split(m, total, sme, vcse) for m, (_, total) in sorted(members.items()))
                )
            else:
                ((member, (_, total)),) = members.items()  # a contract key is one member's
                contract = self.contract
                on = total if contract is not None else Decimal(0)
                ref = contract.framework_ref if contract is not None else ""
                via = on if ref else Decimal(0)
                out[(COVERAGE, category)] = CoveragePart(name, member, total, on, via, ref)
        return out

    def everything(self) -> dict[Slot, DiversityPart | CoveragePart]:
        """The whole output."""
        return self.output(list(self.sums))


def _split(member: str, total: Decimal, sme: Flag, vcse: Flag) -> MemberSplit:
    zero = Decimal(0)
    return MemberSplit(
        member,
        total,
        total if sme == "true" else zero,
        total if vcse == "true" else zero,
        total if sme == "unknown" else zero,
        total if vcse == "unknown" else zero,
    )


Join = JoinKey | CategoryKey


def new_join(view: str, key: str) -> Join:
    """An empty join key of ``view``."""
    return CategoryKey(view, key) if view == CATEGORY_JOIN else JoinKey(view, key)
