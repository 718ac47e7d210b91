"""One member's activity: its contracts, orders, supplier records, resends and late versions.

Everything is drawn from one random stream seeded by the seed and the member slug (the id
without ``demo-``), so a member's events do not change when another member's do.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from adapters.sdk.envelope import event_id_for
from demo.synthetic.events import Pending
from demo.synthetic.items import ITEM_BY_KEY, ITEMS, ORDER_WEIGHTS, Item
from demo.synthetic.members import CHECK_DIGIT_CPV, ECLASS_MEMBERS, UNMAPPED, UNSPSC_MEMBERS, Member
from demo.synthetic.suppliers import LOCAL_SUPPLIERS, NATIONAL_SUPPLIERS, Party, SupplierSpec
from demo.synthetic.values import (
    Json,
    add_months,
    item_of,
    lines_total,
    money,
    order_line,
    parse_timestamp,
    random_decimal,
    timestamp,
)
from topologies.naming import Family

# Where contracts end relative to today (days), cycled per member so every bucket appears.
_BUCKETS = ("within_6m", "6_to_12m", "12_to_24m", "past_end", "within_6m", "beyond_24m", "6_to_12m",
            "expired", "12_to_24m", "pending")
_END_DAYS = {
    "within_6m": (7, 175), "6_to_12m": (190, 355), "12_to_24m": (375, 715), "beyond_24m": (740, 1460),
    "past_end": (-120, -1), "expired": (-500, -30),
}


@dataclass
class MemberRun:
    """One member's events, in the order they were made (delivery order comes later)."""

    member: Member
    index: int
    seed: int
    today: date
    scale: float
    frameworks: dict[str, str]
    pending: list[Pending] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}/{self.member.slug}")  # the draws of before the prefix
        self.cutoff = datetime.combine(self.today, time(0), UTC) - timedelta(minutes=1)
        self.load_at = datetime.combine(self.today - timedelta(days=30), time(2), UTC)
        self.parties: dict[str, Party] = {}
        self.counter = 0
        self.seq = 0
        self.live_contracts: dict[str, str] = {}  # supplier name -> contract entity id
        sector = self.member.sector[0]
        self.items = [item for item in ITEMS if sector in item.sectors]
        self.item_keys = {item.key for item in self.items}
        self.suppliers = [s for s in NATIONAL_SUPPLIERS if self.item_keys.intersection(s.items)]
        self.suppliers += [replace(s, name=s.name.format(area=self.member.area)) for s in LOCAL_SUPPLIERS]

    # the flow: contracts, orders, the records of the suppliers they name, then resends and reorderings
    def generate(self) -> None:
        """Make all of this member's events into ``pending``."""
        national = self.member.sector == "national"
        for n in range(max(1, round((14 if national else self.rng.randint(3, 7)) * self.scale))):
            self.contract(n)
        for _ in range(max(1, round((12 if national else self.rng.randint(22, 40)) * self.scale))):
            self.order()
        if self.member.id in UNMAPPED:  # one order the reference data cannot place, every time
            self.order(ITEM_BY_KEY[UNMAPPED[self.member.id]])
        for party in list(self.parties.values()):
            self.supplier(party)
        self.resend_and_reorder()

    def emit(self, family: Family, event: Json) -> None:
        """Queue ``event`` for delivery when it was published."""
        self.seq += 1
        when = parse_timestamp(event["published_at"])
        self.pending.append(Pending(when, (self.index, self.seq), self.member.id, family, event))

    def party(self, spec: SupplierSpec) -> Party:
        """The supplier as this member's ERP names and numbers it (made on first use)."""
        if spec.name not in self.parties:
            n = 1000 + len(self.parties) * 7 + self.rng.randint(0, 6)
            system = self.member.source_system
            supplier_id = {"sap-s4": f"{100000 + n:010d}", "oracle-fusion": f"{300000000 + n}",
                           "unit4": f"S{n:05d}"}.get(system, f"V-{n:06d}")
            name = spec.name
            if system == "sap-s4":
                name = name.upper().replace(" LTD", " LIMITED")
            elif system == "unit4" and self.rng.random() < 0.5:
                name = name.replace(" Ltd", " Limited")
            self.parties[spec.name] = Party(spec, supplier_id, name)
        return self.parties[spec.name]

    def next_id(self, kind: Literal["order", "contract"]) -> str:
        """The next order or contract number, in this member's ERP's format."""
        self.counter += 1
        n = self.counter
        system = self.member.source_system
        if kind == "order":
            return {"sap-s4": f"45000{n:05d}", "oracle-fusion": f"PO{200000 + n}",
                    "unit4": f"P{n:08d}"}.get(system, f"PO-{n:06d}")
        return {"sap-s4": f"46000{n:05d}", "oracle-fusion": f"CPA-{n:05d}",
                "unit4": f"C{n:06d}"}.get(system, f"CON-{n:05d}")

    def envelope(self, family: Family, entity_id: str, version: int, occurred: datetime,
                 published: datetime) -> Json:
        """The fields every event starts with, its id the SDK's derivation."""
        return {
            "event_id": event_id_for(self.member.id, family, entity_id, version),
            "member_id": self.member.id,
            "source_system": self.member.source_system,
            "entity_id": entity_id,
            "entity_version": version,
            "occurred_at": timestamp(occurred),
            "published_at": timestamp(published),
        }

    def classification(self, item: Item) -> Json:
        """How this member codes ``item``: LOCAL, UNSPSC or ECLASS where it does, else CPV."""
        local = dict(item.local).get(self.member.id)
        unmapped = UNMAPPED.get(self.member.id) == item.key
        if local and (unmapped or self.member.id == "demo-london-fire" or self.rng.random() < 0.7):
            return {"scheme": "LOCAL", "code": local}
        if self.member.id in UNSPSC_MEMBERS and item.unspsc and self.rng.random() < 0.8:
            return {"scheme": "UNSPSC", "code": item.unspsc}
        if self.member.id in ECLASS_MEMBERS and item.eclass:
            return {"scheme": "ECLASS", "code": item.eclass}
        code = item.cpv
        style = self.rng.random()
        if code in CHECK_DIGIT_CPV and style < 0.5:
            code = CHECK_DIGIT_CPV[code] if style < 0.35 else CHECK_DIGIT_CPV[code].replace("-", "")
        return {"scheme": "CPV", "code": code}

    # contracts ---------------------------------------------------------------------------------
    def contract(self, n: int) -> None:
        """Contract ``n``, ending in this member's next pipeline bucket; perhaps changed later."""
        rng = self.rng
        spec = rng.choice([s for s in self.suppliers if s.postcode])  # national suppliers hold contracts
        item = ITEM_BY_KEY[rng.choice([k for k in spec.items if k in self.item_keys])]
        bucket = _BUCKETS[(self.index + n) % len(_BUCKETS)]
        years = rng.randint(1, 4)
        if bucket == "pending":
            start = self.today + timedelta(days=rng.randint(14, 120))
            end = add_months(start, 12 * years) - timedelta(days=1)
            status = "PENDING"
        else:
            lo, hi = _END_DAYS[bucket]
            end = self.today + timedelta(days=rng.randint(lo, hi))
            start = add_months(end + timedelta(days=1), -12 * years)
            status = "EXPIRED" if bucket == "expired" else "ACTIVE"
        extent = add_months(end, 12 * rng.randint(1, 2)) if rng.random() < 0.5 else None
        annual = Decimal(item.price[1]) * Decimal(item.quantity[1]) * Decimal(rng.randint(4, 12))
        national = self.member.sector == "national"
        value = Decimal(round(annual * years / 100) * 100) * (10 if national else 1)  # frameworks: all users
        entity_id = self.next_id("contract")
        party = self.party(spec)
        awarded = min(start - timedelta(days=21), self.load_at.date() - timedelta(days=1))
        occurred = datetime.combine(awarded, time(10), UTC)
        published = self.load_at + timedelta(minutes=self.seq)
        framework = self.frameworks.get(item.key)
        body: Json = {
            "status": status,
            "title": f"{'National framework: ' if national else ''}{item.title}",
            "supplier": party.ref(),
            "classification": self.classification(item),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "max_extent_date": extent.isoformat() if extent else None,
            "value": money(value),
            "currency": "GBP",
            "framework_ref": framework if (national or rng.random() < 0.5) else None,
            "ocid": f"ocds-b5fd17-{uuid.uuid5(uuid.NAMESPACE_URL, self.member.id + entity_id)}"
            if rng.random() < 0.3 else None,
        }
        self.emit("contract", {**self.envelope("contract", entity_id, 1, occurred, published), **body})
        if status in ("ACTIVE", "PENDING"):
            self.live_contracts[spec.name] = entity_id
        change = rng.random()
        if change < 0.3 and status != "EXPIRED":
            when = self.between(published, self.cutoff)
            if change < 0.08:  # terminated early, or a pending award withdrawn
                amended = {**body, "status": "CANCELLED" if status == "PENDING" else "TERMINATED"}
            elif change < 0.2:  # a contract variation: more spend
                amended = {**body, "value": money(value * Decimal(rng.choice(["1.10", "1.25", "1.40"])))}
            else:  # an extension option taken up
                new_end = add_months(end, rng.choice([6, 12]))
                amended = {**body, "end_date": new_end.isoformat(),
                           "max_extent_date": max(extent, new_end).isoformat() if extent else None}
            self.emit("contract", {**self.envelope("contract", entity_id, 2, when, when), **amended})

    # orders ------------------------------------------------------------------------------------
    def order(self, first: Item | None = None) -> None:
        """A purchase order from one supplier and its later versions."""
        rng = self.rng
        first = first or self.pick(self.items)
        spec = rng.choice([s for s in self.suppliers if first.key in s.items])
        choices = [ITEM_BY_KEY[k] for k in spec.items if k in self.item_keys]
        lines_items = [first, *(self.pick(choices) for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])))]
        order_date = self.today - timedelta(days=rng.randint(1, 364))
        occurred = datetime.combine(order_date, time(8), UTC) + timedelta(minutes=rng.randint(0, 540))
        published = occurred + timedelta(minutes=rng.randint(1, 90))
        entity_id = self.next_id("order")
        party = self.party(spec)
        contract_ref = self.live_contracts.get(spec.name) if rng.random() < 0.8 else None
        lines = [self.line(n, item) for n, item in enumerate(lines_items, 1)]
        body: Json = {
            "status": "ISSUED",
            "order_date": order_date.isoformat(),
            "currency": "GBP",
            "supplier": party.ref(),
            "contract_ref": contract_ref,
            "lines": lines,
            "total_net": lines_total(lines),
        }
        family: Family = "purchase-order"
        self.emit(family, {**self.envelope(family, entity_id, 1, occurred, published), **body})
        for version, (when, changed) in enumerate(self.order_changes(body, published), 2):
            self.emit(family, {**self.envelope(family, entity_id, version, when, when), **changed})

    def pick(self, items: Sequence[Item]) -> Item:
        """An item, the often-ordered ones more likely."""
        return self.rng.choices(items, weights=[ORDER_WEIGHTS.get(item.key, 3) for item in items])[0]

    def line(self, n: int, item: Item) -> Json:
        """Order line ``n`` for ``item``, with a random quantity and price."""
        quantity = random_decimal(self.rng, item.quantity, item.quantity_places)
        price = random_decimal(self.rng, item.price, item.price_places)
        return order_line(self.line_id(n), item, quantity, price, self.classification(item))

    def line_id(self, n: int) -> str:
        """Line number ``n`` as this member's ERP writes it (SAP counts in tens)."""
        return f"{n * 10:05d}" if self.member.source_system == "sap-s4" else str(n)

    def order_changes(self, body: Json, published: datetime) -> list[tuple[datetime, Json]]:
        """The later versions of an order: amended, cancelled, received, closed (in time order)."""
        rng = self.rng
        steps: list[tuple[datetime, Json]] = []
        at = published
        roll = rng.random()
        if roll < 0.06:
            at += timedelta(days=rng.randint(1, 10), minutes=rng.randint(1, 600))
            steps.append((at, {**body, "status": "CANCELLED"}))
        else:
            if roll < 0.18:
                lines = [dict(line) for line in body["lines"]]
                target = rng.randrange(len(lines))
                old = lines[target]
                item = item_of(old)
                quantity = random_decimal(rng, item.quantity, item.quantity_places)
                price = Decimal(old["unit_price"])
                lines[target] = order_line(old["line_id"], item, quantity, price, old["classification"])
                body = {**body, "status": "AMENDED", "lines": lines, "total_net": lines_total(lines)}
                at += timedelta(days=rng.randint(1, 6), minutes=rng.randint(1, 600))
                steps.append((at, body))
            if rng.random() < 0.7:
                at += timedelta(days=rng.randint(3, 25), minutes=rng.randint(1, 600))
                steps.append((at, {**body, "status": "RECEIVED"}))
                if rng.random() < 0.5:
                    at += timedelta(days=rng.randint(10, 45), minutes=rng.randint(1, 600))
                    steps.append((at, {**body, "status": "CLOSED"}))
        return [(when, changed) for when, changed in steps if when < self.cutoff]

    # supplier records --------------------------------------------------------------------------
    def supplier(self, party: Party) -> None:
        """The member's record of a supplier it used, perhaps changed later."""
        rng = self.rng
        spec = party.spec
        ref = party.ref()
        published = self.load_at + timedelta(minutes=self.seq)
        occurred = published - timedelta(days=rng.randint(100, 2000))
        body: Json = {
            "status": "ACTIVE",
            "legal_name": party.name,
            "companies_house_number": ref["companies_house_number"],
            "vat_number": ref["vat_number"],
            "duns": ref["duns"],
            "ppon": None,
            "postcode": spec.postcode or None,
            "sme": spec.sme,
            "vcse": spec.vcse,
        }
        entity_id = party.member_supplier_id
        self.emit("supplier", {**self.envelope("supplier", entity_id, 1, occurred, published), **body})
        if rng.random() < 0.12:
            when = self.between(published, self.cutoff)
            changed = {**body, "status": "INACTIVE"} if rng.random() < 0.4 else {**body, "sme": not spec.sme}
            self.emit("supplier", {**self.envelope("supplier", entity_id, 2, when, when), **changed})

    # delivery: exact resends, and versions that arrive late ------------------------------------
    def resend_and_reorder(self) -> None:
        """Swap a few entities' last two versions, and resend about 2% of events exactly."""
        rng = self.rng
        by_entity: dict[tuple[str, str], list[Pending]] = {}
        for p in self.pending:
            by_entity.setdefault((p.family, str(p.event["entity_id"])), []).append(p)
        for versions in by_entity.values():
            if len(versions) >= 2 and rng.random() < 0.08:
                older, newer = versions[-2], versions[-1]
                late = newer.delivered_at + timedelta(minutes=1)
                older.delivered_at, newer.delivered_at = late, older.delivered_at
                older.note = "out of order: delivered after a newer version"
        originals = list(self.pending)
        for p in rng.sample(originals, k=max(1, round(len(originals) * 0.02))):
            self.seq += 1
            again = p.delivered_at + timedelta(minutes=rng.randint(1, 2880))
            resent = Pending(again, (self.index, self.seq), p.member, p.family, copy.deepcopy(p.event),
                             note="resend: an exact copy of an earlier event")
            self.pending.append(resent)

    def between(self, start: datetime, end: datetime) -> datetime:
        """A whole-second time after ``start`` and before ``end`` (just after start if none)."""
        span = int((end - start).total_seconds())
        if span <= 2:
            return start + timedelta(seconds=1)
        return start + timedelta(seconds=self.rng.randint(1, span - 1))
