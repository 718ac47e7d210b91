"""Contributions: what one entity (or rejection partition) gives to each view key, on the wire.

The two stages of the worker meet here (docs/streams.md, "How data moves"). Stage one is keyed
by entity: after every change of an entity's state it sends, for each view key the entity
touches, the entity's new *part* there (or ``None``: it no longer contributes to that key) to
``bluelight.hub.contributions.v1``, keyed by ``[view, view key]``. Stage two is keyed by view
key: it keeps the latest part of each contributor under each key and folds them into the view
items, by replacement, so the views stay exact however often a contribution is re-sent.

Every contribution carries the contributor's *revision*: the number of records applied to its
state (an entity's accepted + duplicates; a rejection partition's last input offset). It grows
with every change, and the same revision always carries the same part (the canonical topic is
applied strictly in offset order), so stage two keeps the part with the highest revision and a
re-sent or late contribution changes nothing.

Stage one sends them in *packs*: the contributions of many records, coalesced to the newest per
(view, view key, contributor) and grouped by the partition their view key lands in, one Kafka
record per pack. A pack lands where each of its view keys would land alone, so stage two sees
every view key's contributions in one partition, in order, whichever way they were sent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from streams.alerts import StatusPart, status_parts
from streams.canonical import partition_of
from streams.facts import Current
from streams.joins import JOINS, ContractLink, JoinPart, OrderLink, SupplierFlags, join_parts
from streams.standings import CategoryLink
from streams.views.category_spend import SpendPart, spend_parts
from streams.views.contract_coverage import VIEW as COVERAGE
from streams.views.contract_coverage import CoveragePart, direct_parts
from streams.views.contract_pipeline import PipelineRow, pipeline_parts
from streams.views.member_activity import ActivityPart
from streams.views.price_benchmark import PricePart, price_parts
from streams.views.supplier_diversity import VIEW as DIVERSITY
from streams.views.supplier_diversity import DiversityPart, MemberSplit
from streams.views.supplier_exposure import ExposurePart, Standing, exposure_parts

ViewPart = (
    SpendPart | ExposurePart | Standing | StatusPart | PipelineRow | PricePart | ActivityPart
    | DiversityPart | CoveragePart
)
Part = ViewPart | JoinPart
Slot = tuple[str, str]  # (view, view key)

ACTIVITY = "member-activity"


class ContributionError(ValueError):
    """A contribution record this release cannot read."""


@dataclass(frozen=True)
class Contribution:
    """One contributor's part under one view key, at one revision (``part`` None: withdrawn)."""

    view: str
    key: str
    contributor: str
    rev: int
    part: Part | None

    @property
    def slot(self) -> Slot:
        """(view, view key): what the record is keyed and partitioned by."""
        return (self.view, self.key)


def entity_parts(current: Current) -> dict[Slot, Part]:
    """Every part an entity's current state gives to the entity views and the join keys."""
    out: dict[Slot, Part] = {}
    for view, parts_of in _ENTITY_VIEWS:
        for key, part in parts_of(current).items():
            out[(view, key)] = part
    out.update(join_parts(current))
    return out


def _spend(current: Current) -> dict[str, Any]:
    return spend_parts(current)


def _exposure(current: Current) -> dict[str, Any]:
    return exposure_parts(current)


def _pipeline(current: Current) -> dict[str, Any]:
    return pipeline_parts(current)


def _prices(current: Current) -> dict[str, Any]:
    return price_parts(current)


def _coverage(current: Current) -> dict[str, Any]:
    return direct_parts(current)


def _exposure_and_status(current: Current) -> dict[str, Any]:
    return {**exposure_parts(current), **status_parts(current)}


_ENTITY_VIEWS = (
    ("category-spend", _spend),
    ("supplier-exposure", _exposure_and_status),
    ("contract-pipeline", _pipeline),
    ("price-benchmark", _prices),
    (COVERAGE, _coverage),
)


def changes(
    contributor: str,
    rev: int,
    old: Mapping[Slot, Part],
    new: Mapping[Slot, Part],
    also_withdraw: Iterable[Slot] = (),
) -> list[Contribution]:
    """The contributions that turn ``old`` parts into ``new`` ones (unchanged slots are left out).

    ``also_withdraw`` names slots to withdraw from even if ``old`` lacks them: a replay re-sends
    the current parts and withdraws from every slot the contributor ever touched (its earlier
    withdrawals may not have left the worker before a crash).
    """
    out = [Contribution(view, key, contributor, rev, part) for (view, key), part in new.items()
           if old.get((view, key)) != part]
    gone = (set(old) | set(also_withdraw)) - set(new)
    out += [Contribution(view, key, contributor, rev, None) for view, key in sorted(gone)]
    return out


# -- the wire ---------------------------------------------------------------------------------


def record_key(view: str, key: str) -> bytes:
    """The Kafka key of a contribution: all contributions to one view key share a partition."""
    return _dumps([view, key])


def encode(c: Contribution) -> bytes:
    """Compact JSON: ``{"v","k","c","r","p"}`` (``p`` null when withdrawn)."""
    return _dumps(_wire(c))


def decode(data: bytes | None) -> Contribution:
    """Inverse of :func:`encode`; raises ContributionError for anything else."""
    cs = decode_pack(data)
    if len(cs) != 1:
        raise ContributionError(f"a pack of {len(cs)} contributions where one was expected")
    return cs[0]


def decode_pack(data: bytes | None) -> list[Contribution]:
    """The contributions of a record: a pack (a JSON list) or a single one (a JSON object)."""
    if data is None:
        raise ContributionError("a contribution record without a value")
    try:
        obj = json.loads(data)
        return [_unwire(one) for one in obj] if isinstance(obj, list) else [_unwire(obj)]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ContributionError(f"unreadable contribution record: {exc!r}") from exc


def _wire(c: Contribution) -> dict[str, Any]:
    return {"v": c.view, "k": c.key, "c": c.contributor, "r": c.rev, "p": encode_part(c.view, c.part)}


def _unwire(obj: dict[str, Any]) -> Contribution:
    view = obj["v"]
    return Contribution(view, _i(obj["k"]), _i(obj["c"]), int(obj["r"]), decode_part(view, obj["p"]))


# -- packs: what stage one sends ----------------------------------------------------------------

PACK_BYTES = 256 * 1024  # well under the broker's 1 MB message limit


class Outbox:
    """Contributions waiting to leave stage one: the newest per (view, key, contributor).

    Stage one applies records in offset order, so a later contribution of the same contributor
    to the same key carries an equal or higher revision and replaces the earlier one: only the
    newest can matter to stage two. :meth:`drain` packs what waits by destination partition.
    """

    def __init__(self, partitions: int) -> None:
        self.partitions = range(partitions)
        self.waiting: dict[tuple[str, str, str], Contribution] = {}
        self.added = 0

    def __len__(self) -> int:
        return len(self.waiting)

    def add(self, sends: Iterable[Contribution]) -> None:
        """Queue contributions, replacing any older one of the same contributor and key."""
        for c in sends:
            self.waiting[(c.view, c.key, c.contributor)] = c
            self.added += 1

    def drain(self) -> list[tuple[int, bytes]]:
        """(partition, pack record) for everything waiting; the outbox is empty afterwards."""
        by_partition: dict[int, list[Contribution]] = {}
        for c in self.waiting.values():
            by_partition.setdefault(slot_partition(c.view, c.key, len(self.partitions)), []).append(c)
        self.waiting.clear()
        return [(p, pack) for p, cs in sorted(by_partition.items()) for pack in packs(cs)]


@lru_cache(maxsize=65_536)
def slot_partition(view: str, key: str, partitions: int) -> int:
    """The partition of a view key's contributions (murmur2 in Python: worth keeping)."""
    return partition_of(record_key(view, key), range(partitions))


def packs(cs: Iterable[Contribution], limit: int = PACK_BYTES) -> Iterator[bytes]:
    """JSON lists of encoded contributions, each at most about ``limit`` bytes."""
    chunk: list[bytes] = []
    size = 0
    for c in cs:
        one = encode(c)
        if chunk and size + len(one) > limit:
            yield b"[" + b",".join(chunk) + b"]"
            chunk, size = [], 0
        chunk.append(one)
        size += len(one) + 1
    if chunk:
        yield b"[" + b",".join(chunk) + b"]"


def encode_part(view: str, part: Part | None) -> Any:
    """A part as JSON-compatible lists (decimals and dates as text)."""
    if part is None:
        return None
    if isinstance(part, SpendPart):
        return [part.name, part.member, part.month, part.supplier_key, str(part.total)]
    if isinstance(part, ExposurePart):
        return [
            part.member,
            part.name,
            part.published_at.isoformat(),
            str(part.order_total),
            str(part.contract_value),
            sorted(part.categories),
            part.entity_id,
            part.end_date.isoformat() if part.end_date else None,
        ]
    if isinstance(part, PipelineRow):
        extent = part.max_extent_date.isoformat() if part.max_extent_date else None
        return [
            part.name,
            part.member_id,
            part.entity_id,
            part.supplier_key,
            part.end_date.isoformat(),
            extent,
            str(part.value),
        ]
    if isinstance(part, PricePart):
        return [part.member, [str(p) for p in part.prices]]
    if isinstance(part, DiversityPart):
        return [
            part.name,
            [[m.member, str(m.total), str(m.sme), str(m.vcse), str(m.sme_unknown), str(m.vcse_unknown)]
             for m in part.members],
        ]
    if isinstance(part, CoveragePart):
        return [
            part.name,
            part.member,
            str(part.total),
            str(part.on_contract),
            str(part.framework),
            part.framework_ref,
        ]
    if isinstance(part, OrderLink):
        return ["o", part.member, [[c, n, str(t)] for c, n, t in part.lines]]
    if isinstance(part, SupplierFlags):
        return ["s", part.member, part.sme, part.vcse]
    if isinstance(part, ContractLink):
        return ["c", part.framework_ref]
    if isinstance(part, CategoryLink):
        return ["g", part.supplier_key, None if part.total is None else str(part.total)]
    if isinstance(part, Standing):
        return {"c": part.category, "s": str(part.share), "a": list(part.alternatives)}
    if isinstance(part, StatusPart):
        at = part.status_at.isoformat()
        return {"name": part.name, "status": part.status, "at": at, "previous": part.previous}
    newest = part.newest.isoformat() if part.newest else None
    return [part.accepted, part.duplicates, [list(kv) for kv in part.rejected], newest]


def _i(text: str) -> str:
    """One shared copy of a name, member, month or key that many parts repeat.

    Stage two holds every live part in memory; json gives each its own copies of the same few
    strings, which was most of the worker's heap per order (docs/benchmarks.md, "Memory per
    order"). Anything but a str is passed through as it came, as before.
    """
    return sys.intern(text) if type(text) is str else text


@lru_cache(maxsize=1 << 14, typed=True)
def _d(text: str) -> Decimal:
    """One shared Decimal for an amount many parts repeat (zeros, common prices): see :func:`_i`."""
    return Decimal(text)


def decode_part(view: str, data: Any) -> Part | None:
    """Inverse of :func:`encode_part` for a part of ``view``."""
    if data is None:
        return None
    if view == "category-spend":
        name, member, month, supplier, total = data
        return SpendPart(
            name=_i(name), member=_i(member), month=_i(month), supplier_key=_i(supplier), total=_d(total)
        )
    if view == "supplier-exposure" and isinstance(data, dict):
        if "status" in data:
            at = datetime.fromisoformat(data["at"])
            return StatusPart(_i(data["name"]), data["status"], at, data["previous"])
        return Standing(_i(data["c"]), _d(data["s"]), tuple(_i(a) for a in data["a"]))
    if view == "supplier-exposure":
        member, name, published, orders, contracts, categories, *contract = data
        entity_id, end = contract if contract else ("", None)  # parts sent before alerts had 6
        return ExposurePart(
            member=_i(member),
            name=_i(name),
            published_at=datetime.fromisoformat(published),
            order_total=_d(orders),
            contract_value=_d(contracts),
            categories=frozenset(_i(c) for c in categories),
            entity_id=entity_id,
            end_date=date.fromisoformat(end) if end else None,
        )
    if view == "contract-pipeline":
        name, member, entity, supplier, end, extent, value = data
        return PipelineRow(
            name=_i(name),
            member_id=_i(member),
            entity_id=entity,
            supplier_key=_i(supplier),
            end_date=date.fromisoformat(end),
            max_extent_date=date.fromisoformat(extent) if extent else None,
            value=_d(value),
        )
    if view == "price-benchmark":
        member, prices = data
        return PricePart(member=_i(member), prices=tuple(_d(p) for p in prices))
    if view == DIVERSITY:
        name, members = data
        splits = tuple(MemberSplit(_i(m), *(_d(x) for x in xs)) for m, *xs in members)
        return DiversityPart(_i(name), splits)
    if view == COVERAGE:
        name, member, total, on, framework, ref = data
        return CoveragePart(_i(name), _i(member), _d(total), _d(on), _d(framework), _i(ref))
    if view in JOINS:
        return _join_part(data)
    if view == ACTIVITY:
        accepted, duplicates, rejected, newest = data
        return ActivityPart(
            accepted=int(accepted),
            duplicates=int(duplicates),
            rejected=tuple((str(k), int(n)) for k, n in rejected),
            newest=datetime.fromisoformat(newest) if newest else None,
        )
    raise ContributionError(f"unknown view {view!r} in a contribution")


def _join_part(data: list[Any]) -> JoinPart:
    kind, *rest = data
    if kind == "o":
        member, lines = rest
        return OrderLink(_i(member), tuple((_i(c), _i(n), _d(t)) for c, n, t in lines))
    if kind == "s":
        member, sme, vcse = rest
        return SupplierFlags(_i(member), sme, vcse)
    if kind == "c":
        return ContractLink(_i(rest[0]))
    if kind == "g":
        supplier, total = rest
        return CategoryLink(_i(supplier), None if total is None else _d(total))
    raise ContributionError(f"unknown join part {kind!r}")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
