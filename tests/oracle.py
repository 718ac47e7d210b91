"""The oracle: the seven national views recomputed from what was published, independently of streams/.

The hub's views are promised to be plain functions of each entity's current state (views.md),
so a test can publish a known stream, recompute the answer here and compare it with what the
worker serves. Nothing from streams/ is imported: the category lookup below reads the reference
YAML itself (a few lines of longest-prefix matching), and the views are written straight from
the spec. Only schemas/ is used, because it is the contract both sides share (the event models
and the national supplier key).

Input is the list of :class:`Sent` records in the order they were produced. The hub consumes
each input partition in offset order and every version of an entity is keyed to one partition,
so with one producer awaiting its sends "accepted" is decided in that order: an event is
accepted when its version is above every earlier accepted version of the same
(member, family, entity_id), else it is a duplicate.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from schemas.identity import national_supplier_key
from schemas.models import Contract, Event, PurchaseOrder, Supplier
from topologies.naming import Family

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "streams" / "reference"
UNCLASSIFIED = "unclassified"
PENNY = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
BENCHMARK_SCHEMES = ("CPV", "UNSPSC", "ECLASS")
LIVE_CONTRACT = ("ACTIVE", "PENDING")
BUCKETS = ("past_end", "within_6m", "6_to_12m", "12_to_24m")
VIEWS = (
    "category-spend",
    "supplier-exposure",
    "contract-pipeline",
    "price-benchmark",
    "member-activity",
    "supplier-diversity",
    "contract-coverage",
)


# --- what was published --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One record the test produced, with what the hub should make of it.

    ``event`` is set for a record that passes every check (it is then accepted or a duplicate);
    ``reject`` is the expected rejection kind otherwise. ``published_at`` is the readable
    ``published_at`` (None for bytes that cannot be decoded). ``note`` says what it is, for
    failure messages.
    """

    member: str  # whose topic it goes to
    family: Family
    key: bytes | None
    value: bytes | None
    event: Event | None
    reject: str | None
    published_at: datetime | None
    note: str

    def __post_init__(self) -> None:
        if (self.event is None) == (self.reject is None):
            raise ValueError(f"{self.note}: exactly one of event and reject must be set")


# --- reference data: a small reader of its own ---------------------------------------------------


class Categories:
    """National category of a classification, read straight from streams/reference/*.yaml.

    CPV, UNSPSC and ECLASS: longest matching prefix of the code's form (:func:`code_form`;
    a code with no such form is unclassified). LOCAL: the member's own map (exact code first, then the longest
    prefix; case and surrounding spaces ignored). Nothing matching: ``unclassified``.
    """

    def __init__(self, root: Path = REFERENCE_DIR) -> None:
        self.root = root

    @cached_property
    def names(self) -> dict[str, str]:
        """Category id -> display name."""
        taxonomy = self._load(self.root / "taxonomy.yaml")
        return {c["id"]: c["name"] for c in taxonomy["categories"]}

    @cached_property
    def scheme_rules(self) -> dict[str, dict[str, str]]:
        """Scheme -> {digit prefix: category id}."""
        out: dict[str, dict[str, str]] = {}
        for scheme in BENCHMARK_SCHEMES:
            rules = self._load(self.root / f"{scheme.lower()}.yaml")["rules"]
            out[scheme] = {str(k): v[0] for k, v in rules.items()}
        return out

    def local_map(self, member: str) -> tuple[dict[str, str], dict[str, str]]:
        """(exact codes, prefixes) of a member's LOCAL map, upper-cased; empty when it has none."""
        path = self.root / "local" / f"{member}.yaml"
        if not path.is_file():
            return {}, {}
        doc = self._load(path)
        codes = {str(k).strip().upper(): v[0] for k, v in (doc.get("codes") or {}).items()}
        prefixes = {str(k).strip().upper(): v[0] for k, v in (doc.get("prefixes") or {}).items()}
        return codes, prefixes

    def category(self, scheme: str, code: str, member: str) -> str:
        """The national category id of one classification."""
        if scheme == "LOCAL":
            codes, prefixes = self.local_map(member)
            wanted = code.strip().upper()
            if wanted in codes:
                return codes[wanted]
            return _longest_prefix(prefixes, wanted)
        digits = code_form(scheme, code)
        if digits is None:
            return UNCLASSIFIED
        return _longest_prefix(self.scheme_rules[scheme], digits)

    def name(self, category: str) -> str:
        """Display name of a category id."""
        return self.names[category]

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: expected a mapping")
        return doc


def _longest_prefix(rules: Mapping[str, str], text: str) -> str:
    best = ""
    for prefix in rules:
        if text.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return rules[best] if best else UNCLASSIFIED


def benchmark_key(scheme: str, code: str, unit: str) -> str | None:
    """``SCHEME:code|unit`` of a line for price-benchmark, None for LOCAL codes."""
    if scheme not in BENCHMARK_SCHEMES:
        return None
    form = code_form(scheme, code)
    return None if form is None else f"{scheme}:{form}|{unit}"


def code_form(scheme: str, code: str) -> str | None:
    """A CPV, UNSPSC or ECLASS code as docs/categories.md defines it, or None when it is not one.

    CPV: 8 ASCII digits, optionally with a check digit as "-d" or as a 9th digit (dropped).
    UNSPSC: 2 to 10 digits. ECLASS: up to 8 digits, hyphens ignored (at least 2). Anything
    else (7-digit CPV, "33735100.0", "4321-1503" under UNSPSC) is not guessed at.
    """
    text = code.strip()
    if scheme == "ECLASS":
        text = text.replace("-", "")
    if scheme == "CPV" and "-" in text:
        text, _, check = text.partition("-")
        if len(check) != 1 or check not in "0123456789":
            return None
        if len(text) != 8:
            return None
    if not text or any(ch not in "0123456789" for ch in text):
        return None
    if scheme == "CPV":
        return text[:8] if len(text) in (8, 9) else None
    low, high = (2, 10) if scheme == "UNSPSC" else (2, 8)
    return text if low <= len(text) <= high else None


# --- replay: accepted, duplicates, rejected, current states ---------------------------------------


@dataclass
class Activity:
    """Expected member-activity of one member."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_event_at: datetime | None = None

    @property
    def received(self) -> int:
        """Every record the member's topics carried."""
        return self.accepted + self.duplicates + sum(self.rejected.values())


@dataclass
class Replay:
    """The hub's bookkeeping, recomputed: current state per entity and activity per member."""

    states: dict[tuple[str, Family, str], Event]
    activity: dict[str, Activity]


def replay(sent: Iterable[Sent]) -> Replay:
    """Apply the version rule in production order."""
    states: dict[tuple[str, Family, str], Event] = {}
    activity: dict[str, Activity] = defaultdict(Activity)
    for s in sent:
        act = activity[s.member]
        if s.published_at is not None and (act.last_event_at is None or s.published_at > act.last_event_at):
            act.last_event_at = s.published_at
        if s.event is None:
            assert s.reject is not None
            act.rejected[s.reject] += 1
            continue
        key = (s.member, s.family, s.event.entity_id)
        current = states.get(key)
        if current is None or s.event.entity_version > current.entity_version:
            states[key] = s.event
            act.accepted += 1
        else:
            act.duplicates += 1
    return Replay(states=states, activity=dict(activity))


def received_by_member(sent: Iterable[Sent]) -> dict[str, int]:
    """How many records each member's topics carried."""
    return dict(Counter(s.member for s in sent))


# --- the views ------------------------------------------------------------------------------------


def money(value: Decimal) -> str:
    """Two-place decimal string."""
    return format(value.quantize(PENNY), "f")


def price(value: Decimal) -> str:
    """Four-place decimal string (unit prices)."""
    return format(value.quantize(PRICE_PLACES), "f")


def iso_z(value: datetime) -> str:
    """A UTC instant as ISO-8601 with milliseconds and Z (the comparison normalises the hub's form)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def add_months(day: date, months: int) -> date:
    """Calendar months later, the day clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def live_orders(states: Mapping[tuple[str, Family, str], Event]) -> list[PurchaseOrder]:
    """Purchase orders that count: any status but CANCELLED."""
    return [e for e in states.values() if isinstance(e, PurchaseOrder) and e.status.value != "CANCELLED"]


def live_contracts(states: Mapping[tuple[str, Family, str], Event]) -> list[Contract]:
    """Contracts that count: ACTIVE or PENDING."""
    return [e for e in states.values() if isinstance(e, Contract) and e.status.value in LIVE_CONTRACT]


def category_spend(states: Mapping[tuple[str, Family, str], Event], cats: Categories) -> list[dict[str, Any]]:
    """category-spend items, sorted by category."""
    total: dict[str, Decimal] = defaultdict(Decimal)
    orders: dict[str, set[tuple[str, str]]] = defaultdict(set)
    by_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_member: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    suppliers: dict[str, set[str]] = defaultdict(set)
    for order in live_orders(states):
        supplier = national_supplier_key(order.supplier)
        month = order.order_date.strftime("%Y-%m")
        for line in order.lines:
            cat = cats.category(line.classification.scheme.value, line.classification.code, order.member_id)
            total[cat] += line.line_total
            orders[cat].add((order.member_id, order.entity_id))
            by_month[cat][month] += line.line_total
            by_member[cat][order.member_id] += line.line_total
            suppliers[cat].add(supplier)
    return [
        {
            "category": cat,
            "name": cats.name(cat),
            "total_net": money(total[cat]),
            "order_count": len(orders[cat]),
            "by_month": {m: money(v) for m, v in sorted(by_month[cat].items())},
            "by_member": {m: money(v) for m, v in sorted(by_member[cat].items())},
            "supplier_count": len(suppliers[cat]),
        }
        for cat in sorted(total)
    ]


def supplier_exposure(
    states: Mapping[tuple[str, Family, str], Event], cats: Categories
) -> list[dict[str, Any]]:
    """supplier-exposure items, sorted by supplier key."""
    order_total: dict[str, Decimal] = defaultdict(Decimal)
    contract_value: dict[str, Decimal] = defaultdict(Decimal)
    members: dict[str, set[str]] = defaultdict(set)
    categories: dict[str, set[str]] = defaultdict(set)
    # the name on the newest-published contribution; ties -> the smallest name
    newest: dict[str, tuple[datetime, str]] = {}

    def seen(key: str, published_at: datetime, name: str) -> None:
        best = newest.get(key)
        if best is None or published_at > best[0] or (published_at == best[0] and name < best[1]):
            newest[key] = (published_at, name)

    for order in live_orders(states):
        key = national_supplier_key(order.supplier)
        order_total[key] += order.total_net
        members[key].add(order.member_id)
        for line in order.lines:
            categories[key].add(
                cats.category(line.classification.scheme.value, line.classification.code, order.member_id)
            )
        seen(key, order.published_at, order.supplier.name)
    for contract in live_contracts(states):
        key = national_supplier_key(contract.supplier)
        contract_value[key] += contract.value
        members[key].add(contract.member_id)
        categories[key].add(
            cats.category(
                contract.classification.scheme.value, contract.classification.code, contract.member_id
            )
        )
        seen(key, contract.published_at, contract.supplier.name)
    # each supplier's standing in its categories: share of the live order line totals there,
    # and the five other suppliers with the most there (views.md, the added fields)
    in_category: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for order in live_orders(states):
        for line in order.lines:
            cat = cats.category(line.classification.scheme.value, line.classification.code, order.member_id)
            in_category[cat][national_supplier_key(order.supplier)] += line.line_total

    def share(key: str, cat: str) -> str:
        whole = sum(in_category[cat].values(), Decimal(0))
        mine = in_category[cat].get(key, Decimal(0))
        if not whole or not mine:
            return "0.0000"
        return format((mine / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "f")

    def alternatives(key: str, cat: str) -> list[str]:
        ranked = sorted(in_category[cat].items(), key=lambda kv: (-kv[1], kv[0]))
        return [k for k, _ in ranked if k != key][:5]

    return [
        {
            "supplier_key": key,
            "name": newest[key][1],
            "order_total": money(order_total[key]),
            "live_contract_value": money(contract_value[key]),
            "members": sorted(members[key]),
            "categories": sorted(categories[key]),
            "category_share": {cat: share(key, cat) for cat in sorted(categories[key])},
            "alternatives": {cat: alternatives(key, cat) for cat in sorted(categories[key])},
        }
        for key in sorted(members)
    ]


def bucket_of(end: date, as_of: date) -> str | None:
    """Which expiring bucket a live contract's end date falls in (None: beyond 24 months)."""
    if end <= as_of:
        return "past_end"
    if end <= add_months(as_of, 6):
        return "within_6m"
    if end <= add_months(as_of, 12):
        return "6_to_12m"
    if end <= add_months(as_of, 24):
        return "12_to_24m"
    return None


def contract_pipeline(
    states: Mapping[tuple[str, Family, str], Event], cats: Categories, as_of: date
) -> list[dict[str, Any]]:
    """contract-pipeline items for ``as_of``, sorted by category."""
    by_cat: dict[str, list[Contract]] = defaultdict(list)
    for contract in live_contracts(states):
        cat = cats.category(
            contract.classification.scheme.value, contract.classification.code, contract.member_id
        )
        by_cat[cat].append(contract)
    items = []
    horizon = add_months(as_of, 12)
    for cat in sorted(by_cat):
        contracts = sorted(by_cat[cat], key=lambda c: (c.end_date, c.member_id, c.entity_id))
        counts = dict.fromkeys(BUCKETS, 0)
        values = dict.fromkeys(BUCKETS, Decimal("0.00"))
        for c in contracts:
            bucket = bucket_of(c.end_date, as_of)
            if bucket is not None:
                counts[bucket] += 1
                values[bucket] += c.value
        collaborating = sorted({c.member_id for c in contracts if as_of < c.end_date <= horizon})
        items.append(
            {
                "category": cat,
                "name": cats.name(cat),
                "contracts": [
                    {
                        "member_id": c.member_id,
                        "entity_id": c.entity_id,
                        "supplier_key": national_supplier_key(c.supplier),
                        "end_date": c.end_date.isoformat(),
                        "max_extent_date": c.max_extent_date.isoformat() if c.max_extent_date else None,
                        "value": money(c.value),
                    }
                    for c in contracts
                ],
                "live_value": money(sum((c.value for c in contracts), Decimal("0.00"))),
                "expiring": {b: {"count": counts[b], "value": money(values[b])} for b in BUCKETS},
                "collaboration": collaborating if len(collaborating) >= 2 else [],
            }
        )
    return items


def price_benchmark(states: Mapping[tuple[str, Family, str], Event]) -> list[dict[str, Any]]:
    """price-benchmark items, sorted by key."""
    prices: dict[str, list[Decimal]] = defaultdict(list)
    by_member: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for order in live_orders(states):
        for line in order.lines:
            key = benchmark_key(line.classification.scheme.value, line.classification.code, line.unit)
            if key is None:
                continue
            prices[key].append(line.unit_price)
            by_member[key][order.member_id].append(line.unit_price)
    return [
        {
            "key": key,
            "count": len(prices[key]),
            "min": price(min(prices[key])),
            "max": price(max(prices[key])),
            "median": price(statistics.median_low(prices[key])),
            "by_member": {
                m: {"count": len(v), "min": price(min(v)), "max": price(max(v))}
                for m, v in sorted(by_member[key].items())
            },
        }
        for key in sorted(prices)
    ]


def member_activity(activity: Mapping[str, Activity]) -> list[dict[str, Any]]:
    """member-activity items, sorted by member."""
    return [
        {
            "member_id": member,
            "accepted": act.accepted,
            "duplicates": act.duplicates,
            "rejected": {k: n for k, n in sorted(act.rejected.items()) if n > 0},
            "last_event_at": iso_z(act.last_event_at) if act.last_event_at else None,
        }
        for member, act in sorted(activity.items())
    ]


def supplier_facts(states: Mapping[tuple[str, Family, str], Event]) -> dict[str, tuple[str, str]]:
    """National supplier key -> (sme, vcse), each "true", "false" or "unknown" (views.md's rule)."""
    says: dict[str, tuple[set[bool], set[bool]]] = defaultdict(lambda: (set(), set()))
    for event in states.values():
        if isinstance(event, Supplier) and event.status.value == "ACTIVE":
            sme, vcse = says[national_supplier_key(event)]
            if event.sme is not None:
                sme.add(event.sme)
            if event.vcse is not None:
                vcse.add(event.vcse)

    def word(seen: set[bool]) -> str:
        return "true" if seen == {True} else "false" if seen == {False} else "unknown"

    return {key: (word(sme), word(vcse)) for key, (sme, vcse) in says.items()}


def supplier_diversity(
    states: Mapping[tuple[str, Family, str], Event], cats: Categories
) -> list[dict[str, Any]]:
    """supplier-diversity items, sorted by category."""
    facts = supplier_facts(states)
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_member: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    for order in live_orders(states):
        sme, vcse = facts.get(national_supplier_key(order.supplier), ("unknown", "unknown"))
        for line in order.lines:
            cat = cats.category(line.classification.scheme.value, line.classification.code, order.member_id)
            amount = line.line_total
            mine = by_member[cat][order.member_id]
            sums[cat]["total_net"] += amount
            mine["total_net"] += amount
            for name, word in (("sme", sme), ("vcse", vcse)):
                sums[cat][f"{name}_net"] += amount if word == "true" else 0
                sums[cat][f"{name}_unknown_net"] += amount if word == "unknown" else 0
                mine[f"{name}_net"] += amount if word == "true" else 0
    fields = ("total_net", "sme_net", "vcse_net", "sme_unknown_net", "vcse_unknown_net")
    return [
        {
            "category": cat,
            "name": cats.name(cat),
            **{f: money(sums[cat][f]) for f in fields},
            "by_member": {
                m: {f: money(v[f]) for f in ("total_net", "sme_net", "vcse_net")}
                for m, v in sorted(by_member[cat].items())
            },
        }
        for cat in sorted(sums)
    ]


def contract_coverage(
    states: Mapping[tuple[str, Family, str], Event], cats: Categories
) -> list[dict[str, Any]]:
    """contract-coverage items, sorted by category."""
    frameworks_of = {
        (e.member_id, e.entity_id): e.framework_ref or ""
        for e in states.values()
        if isinstance(e, Contract)
    }
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    refs: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_member: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    for order in live_orders(states):
        contract = (order.member_id, order.contract_ref) if order.contract_ref else None
        on = contract in frameworks_of
        framework = frameworks_of.get(contract, "") if contract else ""
        for line in order.lines:
            cat = cats.category(line.classification.scheme.value, line.classification.code, order.member_id)
            amount = line.line_total
            got = {
                "total_net": amount,
                "on_contract_net": amount if on else Decimal(0),
                "framework_net": amount if framework else Decimal(0),
            }
            for name, value in got.items():
                sums[cat][name] += value
                by_member[cat][order.member_id][name] += value
            if framework:
                refs[cat][framework] += amount
    fields = ("total_net", "on_contract_net", "framework_net")
    return [
        {
            "category": cat,
            "name": cats.name(cat),
            **{f: money(sums[cat][f]) for f in fields},
            "frameworks": {ref: money(v) for ref, v in sorted(refs[cat].items())},
            "by_member": {m: {f: money(v[f]) for f in fields} for m, v in sorted(by_member[cat].items())},
        }
        for cat in sorted(sums)
    ]


def expected_alerts(
    states: Mapping[tuple[str, Family, str], Event],
    cats: Categories,
    status: dict[str, str],
) -> list[dict[str, Any]]:
    """The alerts of one status change into distress (views.md), without their ``alert_id``s.

    ``status`` holds supplier_key, name, status, previous_status and status_at. One alert per
    member with a live order or live contract with the supplier, then the national one.
    """
    key = status["supplier_key"]
    exposure = {i["supplier_key"]: i for i in supplier_exposure(states, cats)}.get(key)
    if exposure is None:
        return []
    orders = [o for o in live_orders(states) if national_supplier_key(o.supplier) == key]
    contracts = [c for c in live_contracts(states) if national_supplier_key(c.supplier) == key]

    def one(member: str | None) -> dict[str, Any]:
        mine_o = [o for o in orders if member is None or o.member_id == member]
        mine_c = [c for c in contracts if member is None or c.member_id == member]
        categories = {
            cats.category(ln.classification.scheme.value, ln.classification.code, o.member_id)
            for o in mine_o
            for ln in o.lines
        } | {cats.category(c.classification.scheme.value, c.classification.code, c.member_id) for c in mine_c}
        rows = [
            {
                **({"member_id": c.member_id} if member is None else {}),
                "entity_id": c.entity_id,
                "end_date": c.end_date.isoformat(),
                "value": money(c.value),
            }
            for c in sorted(mine_c, key=lambda c: (c.member_id, c.entity_id))
        ]
        alert = {
            **status,
            "member_id": member,
            "order_total": money(sum((o.total_net for o in mine_o), Decimal(0))),
            "live_contract_value": money(sum((c.value for c in mine_c), Decimal(0))),
            "categories": sorted(categories),
            "contracts": rows,
            "alternatives": {c: exposure["alternatives"][c] for c in sorted(categories)},
        }
        if member is None:
            alert["members"] = exposure["members"]
        return alert

    return [one(m) for m in exposure["members"]] + [one(None)]


def expected_views(sent: Sequence[Sent], cats: Categories, as_of: date) -> dict[str, dict[str, Any]]:
    """Every view as ``GET /views/<view>`` should serve it (contract-pipeline for ``as_of``)."""
    done = replay(sent)
    return {
        "category-spend": {"view": "category-spend", "items": category_spend(done.states, cats)},
        "supplier-exposure": {"view": "supplier-exposure", "items": supplier_exposure(done.states, cats)},
        "contract-pipeline": {
            "view": "contract-pipeline",
            "as_of": as_of.isoformat(),
            "items": contract_pipeline(done.states, cats, as_of),
        },
        "price-benchmark": {"view": "price-benchmark", "items": price_benchmark(done.states)},
        "member-activity": {"view": "member-activity", "items": member_activity(done.activity)},
        "supplier-diversity": {"view": "supplier-diversity", "items": supplier_diversity(done.states, cats)},
        "contract-coverage": {"view": "contract-coverage", "items": contract_coverage(done.states, cats)},
    }


# --- comparing with what the hub serves -----------------------------------------------------------


def normalise_served(view: str, body: dict[str, Any]) -> dict[str, Any]:
    """The hub's answer with timestamps in the oracle's form (the contract fixes the instant and
    the Z, not the number of fraction digits); anything unparseable is left for the diff to show."""
    if view != "member-activity":
        return body
    items = []
    for item in body.get("items", []):
        stamp = item.get("last_event_at")
        if isinstance(stamp, str) and stamp.endswith("Z"):
            try:
                item = {**item, "last_event_at": iso_z(datetime.fromisoformat(stamp[:-1] + "+00:00"))}
            except ValueError:
                pass
        items.append(item)
    return {**body, "items": items}


SERVED_ONLY = {"items", "data_as_of", "next_cursor"}  # items are compared one by one below


def diff_view(expected: dict[str, Any], served: dict[str, Any], key_field: str, limit: int = 8) -> list[str]:
    """Human-readable differences between the oracle's and the hub's answer for one view."""
    out: list[str] = []
    for field_name in sorted(set(expected) | set(served)):
        if field_name not in SERVED_ONLY and expected.get(field_name) != served.get(field_name):
            want_value, got_value = expected.get(field_name), served.get(field_name)
            out.append(f"  field {field_name!r}: expected {want_value!r}, served {got_value!r}")
    want = {i[key_field]: i for i in expected.get("items", [])}
    got = {i.get(key_field): i for i in served.get("items", [])}
    served_count = Counter(i.get(key_field) for i in served.get("items", []))
    for key, times in sorted(served_count.items(), key=lambda kv: str(kv[0])):
        if times > 1:
            out.append(f"  item {key!r} is served {times} times")
    for key in sorted(set(want) - set(got), key=str):
        out.append(f"  missing item {key!r}: expected {want[key]}")
    for key in sorted(set(got) - set(want), key=str):
        out.append(f"  unexpected item {key!r}: served {got[key]}")
    for key in sorted(set(want) & set(got), key=str):
        if want[key] != got[key]:
            fields = sorted(set(want[key]) | set(got[key]))
            parts = [
                f"{f}: {_value_diff(want[key].get(f), got[key].get(f))}"
                for f in fields
                if want[key].get(f) != got[key].get(f)
            ]
            out.append(_clip(f"  item {key!r}: " + "; ".join(parts)))
    served_keys = [i.get(key_field) for i in served.get("items", [])]
    if served_keys != sorted(served_keys, key=str):
        out.append("  items are not sorted by key")
    if len(out) > limit:
        out = [*out[:limit], f"  ... and {len(out) - limit} more differences"]
    return out


def _value_diff(want: Any, got: Any) -> str:
    """A short description of how a served field differs from the expected one."""
    if isinstance(want, dict) and isinstance(got, dict):
        keys = sorted(set(want) | set(got), key=str)
        return (
            "{"
            + ", ".join(
                f"{k!r}: expected {want.get(k)!r}, served {got.get(k)!r}"
                for k in keys
                if want.get(k) != got.get(k)
            )
            + "}"
        )
    if isinstance(want, list) and isinstance(got, list) and want and any(isinstance(x, dict) for x in want):
        missing = [x for x in want if x not in got]
        extra = [x for x in got if x not in want]
        if not missing and not extra:
            return "same elements, different order"
        return f"expected but not served {missing}; served but not expected {extra}"
    return f"expected {want!r}, served {got!r}"


def _clip(line: str, limit: int = 1500) -> str:
    return line if len(line) <= limit else line[: limit - 5] + " ..."


KEY_FIELD = {
    "category-spend": "category",
    "supplier-exposure": "supplier_key",
    "contract-pipeline": "category",
    "price-benchmark": "key",
    "member-activity": "member_id",
    "supplier-diversity": "category",
    "contract-coverage": "category",
}
