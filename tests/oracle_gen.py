"""A seeded, realistic stream of partner events, good and bad, for the oracle tests and the benchmark.

What it makes, per member: purchase orders, contracts and supplier records, each with a few
full-state versions (amendments, cancellations, terminations); versions sent out of order
(v1, v3, v2); exact resends of earlier records; and invalid records of every rejection kind:
undecodable bytes, an unknown schema fingerprint, a payload claiming another member, a
non-GBP order or contract, a broken total, a contract end before its start and a
contract sent to the purchase-order topic. Each record comes
with what the hub should make of it (:class:`tests.oracle.Sent`), so tests/oracle.py can
recompute the views.

The stream is a pure function of the seed and the :class:`Plan`; the same seed gives the same
bytes. Every valid event is built through the schemas' own models, so a generator that drifts
from the contract fails loudly here rather than being dead-lettered quietly by the hub.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from schemas.models import MODEL_BY_FAMILY, Contract, Event, PurchaseOrder, to_avro
from schemas.serde import encode_event, encode_record
from tests.oracle import Categories, Sent, add_months
from topologies.naming import Family

PENNY = Decimal("0.01")
PLACES4 = Decimal("0.0001")

# Members with and without a LOCAL map in streams/reference/local/ (police and fire).
DEFAULT_MEMBERS = ("kent-police", "essex-police", "west-midlands-police", "wiltshire-fire")
DEFAULT_START = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)
DEFAULT_AS_OF = date(2026, 8, 31)  # a month end, so +6 months clamps to 28 February
SOURCES = ("sap-s4", "oracle-fusion", "unit4", "dynamics-365", "agresso")


@dataclass(frozen=True)
class Plan:
    """How much of what: entities per member and how often things go wrong."""

    members: tuple[str, ...] = DEFAULT_MEMBERS
    orders: int = 60
    contracts: int = 20
    suppliers: int = 10
    max_order_versions: int = 4
    max_contract_versions: int = 3
    p_out_of_order: float = 0.25  # an entity has two versions swapped
    p_resend: float = 0.2  # an entity has an exact resend of a record it already sent
    invalid_per_member: int = 16
    start: datetime = DEFAULT_START
    as_of: date = DEFAULT_AS_OF
    mean_gap_ms: float = 40.0  # mean published_at spacing (exponential); equal stamps happen too
    id_prefix: str = ""  # prepended to every entity id (a second stream of new entities)


# --- suppliers: raw identifiers as partners send them, and the key the contract says they make ----


@dataclass(frozen=True)
class SupplierSpec:
    """A supplier in the pool: names as different partners spell them, raw identifiers, expected key."""

    names: tuple[str, ...]
    expected_key: str
    companies_house_number: str | None = None
    vat_number: str | None = None
    duns: str | None = None


SUPPLIERS: tuple[SupplierSpec, ...] = (
    SupplierSpec(
        ("Motorola Solutions UK Limited", "MOTOROLA SOLUTIONS UK LTD", "Motorola Solutions"),
        "CH:00912182",
        companies_house_number="912182",
    ),
    SupplierSpec(
        ("Babcock Critical Services Ltd", "Babcock Critical Services"),
        "CH:SC123456",
        companies_house_number="sc123456",
    ),
    SupplierSpec(
        ("Emergency One (UK) Ltd", "Emergency One UK"), "CH:SC098765", companies_house_number="SC98765"
    ),
    SupplierSpec(("Bristol Uniforms Ltd",), "VAT:GB123456789", vat_number="GB 123 4567 89"),
    SupplierSpec(
        ("Northern Custody Health LLP", "Northern Custody Health"), "VAT:GB987654321", vat_number="987654321"
    ),
    SupplierSpec(
        ("Point Blank Enterprises", "Point Blank Enterprises Inc"), "DUNS:150483782", duns="150483782"
    ),
    SupplierSpec(
        ("Acme Fleet Services Ltd.", "ACME Fleet Services Limited", "Acme Fleet Services"),
        "NAME:acme fleet services",
    ),
    SupplierSpec(
        ("Kennel & Canine Supplies (UK) Ltd", "Kennel & Canine Supplies"), "NAME:kennel canine supplies"
    ),
    SupplierSpec(
        ("Vodafone Limited", "Vodafone Ltd"),
        "CH:01471587",
        companies_house_number="1471587",
        vat_number="GB569953277",
    ),
    SupplierSpec(
        ("Dräger Safety UK Ltd", "Draeger Safety UK"),
        "VAT:GB555666777",
        vat_number="GB555666777",
        duns="211111111",
    ),
    SupplierSpec(("Airwave Solutions Limited",), "CH:03985643", companies_house_number="03985643"),
    SupplierSpec(("Airwave Solutions",), "NAME:airwave solutions"),
    SupplierSpec(
        ("Forensic Analytics plc", "FORENSIC ANALYTICS PLC"), "CH:NI012345", companies_house_number="ni12345"
    ),
)


def generated_suppliers(rng: random.Random, count: int) -> list[SupplierSpec]:
    """More suppliers with plain 8-digit Companies House numbers, for volume."""
    words = ("Blue", "Shire", "County", "Vale", "North", "Apex", "Civic", "Beacon", "Harbour", "Summit")
    trades = ("Fleet", "Safety", "Systems", "Facilities", "Catering", "Training", "Forensics", "Supplies")
    out = []
    for i in range(count):
        ch = f"{rng.randrange(10**6, 10**8):08d}"
        name = f"{rng.choice(words)} {rng.choice(trades)} {i}"
        out.append(
            SupplierSpec((f"{name} Ltd", f"{name.upper()} LIMITED"), f"CH:{ch}", companies_house_number=ch)
        )
    return out


# --- what is bought: classifications, units, prices -------------------------------------------------


@dataclass(frozen=True)
class Product:
    """Something ordered on a line: classification, unit, typical price."""

    scheme: str
    code: str
    unit: str
    description: str
    price: Decimal
    members: tuple[str, ...] = ()  # LOCAL codes: only these members use them (empty: everyone)


HAND_PRODUCTS: tuple[Product, ...] = (
    Product("CPV", "35113400-3", "EA", "Protective and safety clothing", Decimal("48.50")),
    Product("CPV", "34144210", "EA", "Fire-fighting vehicle", Decimal("285000")),
    Product("CPV", "35815100-8", "EA", "Bullet-proof vest", Decimal("412.3300")),
    Product("CPV", "33735100", "EA", "Goggles", Decimal("12.5000")),
    Product("CPV", "331410009", "EA", "Disposable medical consumables", Decimal("3.1250")),
    Product("CPV", "09132100-4", "LTR", "Unleaded petrol", Decimal("1.4390")),
    Product("CPV", "32236000", "EA", "Radio telephones", Decimal("955")),
    Product("CPV", "30213100-6", "EA", "Portable computers", Decimal("899.99")),
    Product("CPV", "79710000-4", "HUR", "Security services", Decimal("24.75")),
    Product("CPV", "71900000", "EA", "Laboratory services", Decimal("180")),
    Product("CPV", "98380000", "DAY", "Dog kennel services", Decimal("32")),
    Product("CPV", "99100000", "EA", "Not a CPV division", Decimal("10")),
    Product("UNSPSC", "46181604", "PR", "Safety boots", Decimal("64.95")),
    Product("UNSPSC", "43211503", "EA", "Notebook computers", Decimal("1020")),
    Product("UNSPSC", "99000001", "EA", "Not a UNSPSC segment", Decimal("5")),
    Product("ECLASS", "19030101", "EA", "Network switch", Decimal("340")),
    Product("ECLASS", "40010101", "EA", "An unmapped ECLASS segment", Decimal("77.7700")),
    Product("LOCAL", "MG-FLEET", "EA", "Vehicle servicing", Decimal("220"), ("kent-police",)),
    Product("LOCAL", "mg-radio", "EA", "Airwave handset", Decimal("650"), ("kent-police",)),
    Product("LOCAL", " MG-ARMOUR ", "EA", "Body armour", Decimal("395"), ("kent-police",)),
    Product(
        "LOCAL", "MG-NOT-MAPPED", "EA", "A material group Kent never mapped", Decimal("10"), ("kent-police",)
    ),
    Product("LOCAL", "FLEET.APPLIANCE.PUMP", "EA", "Pump appliance", Decimal("310000"), ("london-fire",)),
    Product("LOCAL", "FLEET.FUELCARD", "EA", "Fuel card top-up", Decimal("500"), ("london-fire",)),
    Product("LOCAL", "FLEETCARD.X", "EA", "Not under FLEET.", Decimal("50"), ("london-fire",)),
    Product("LOCAL", "ops.ba.cylinder", "EA", "BA cylinder", Decimal("780"), ("london-fire",)),
    Product("LOCAL", "CC-4410", "EA", "Cost code with no partner map", Decimal("99")),
    # codes that cannot be normalised: unclassified, and no price-benchmark key (docs/categories.md)
    Product("CPV", "3373510", "EA", "CPV with a lost leading digit (7 digits)", Decimal("12")),
    Product("CPV", "33735100.0", "EA", "CPV as a spreadsheet wrote it", Decimal("12")),
    Product("CPV", "35113400-12", "EA", "CPV with two check digits", Decimal("15")),
    Product("CPV", "3511340012", "EA", "CPV of 10 digits", Decimal("15")),
    Product("UNSPSC", "4321-1503", "EA", "UNSPSC with a hyphen", Decimal("1020")),
    Product("ECLASS", "19.03.01.01", "EA", "ECLASS with dots", Decimal("340")),
)

UNITS = ("EA", "EA", "EA", "H87", "KGM", "SET", "HUR")


def generated_products(rng: random.Random, cats: Categories, count: int) -> list[Product]:
    """Codes grown from the reference rules' prefixes, so every rule is likely to be hit."""
    out = []
    for _ in range(count):
        scheme = rng.choice(("CPV", "CPV", "CPV", "UNSPSC", "ECLASS"))
        prefix = rng.choice(sorted(cats.scheme_rules[scheme]))
        digits = (prefix + "".join(rng.choice("0123456789") for _ in range(8)))[:8]
        code = digits
        if scheme == "CPV" and rng.random() < 0.5:
            code = f"{digits}-{rng.randrange(10)}"
        if rng.random() < 0.1:  # a form no partner should send: unclassified, not guessed at
            code = rng.choice((digits[1:], f"{digits}.0", f"{digits[:4]}-{digits[4:]}", f"{digits}00"))
            if scheme == "ECLASS" and "-" in code:
                code = f"{digits}.0"  # hyphens are allowed in ECLASS codes
        base = (
            Decimal(rng.choice(("2.50", "14.99", "120", "845.5", "3200")))
            * Decimal(rng.randint(50, 150))
            / 100
        )
        out.append(Product(scheme, code, rng.choice(UNITS), f"Item {code}", base.quantize(PLACES4)))
    return out


# --- the generator ----------------------------------------------------------------------------------


@dataclass
class _Entity:
    """One entity's planned versions (states as dicts, versions increasing) and its send order."""

    member: str
    family: Family
    entity_id: str
    states: list[dict[str, Any]]
    schedule: list[int]  # indexes into states, in send order (resends repeat an index)
    built: dict[int, tuple[Event, bytes]] = field(default_factory=dict)


@dataclass
class _Invalid:
    """A record to be made bad at send time (it needs the clock and sometimes a victim)."""

    member: str
    kind: str
    variant: str


class Generator:
    """Builds the stream; one instance per seed."""

    def __init__(self, seed: int, plan: Plan, cats: Categories | None = None) -> None:
        self.rng = random.Random(seed)
        self.plan = plan
        self.cats = cats or Categories()
        self.suppliers = [*SUPPLIERS, *generated_suppliers(self.rng, 12)]
        self.products = [*HAND_PRODUCTS, *generated_products(self.rng, self.cats, 40)]
        self.clock = plan.start
        self.entities: dict[tuple[str, Family], list[_Entity]] = {}

    # the public entry point
    def stream(self) -> list[Sent]:
        """Every record, in the order to produce them."""
        queues: list[_Queue] = []
        for member in self.plan.members:
            counts: tuple[tuple[Family, int], ...] = (
                ("purchase-order", self.plan.orders),
                ("contract", self.plan.contracts),
                ("supplier", self.plan.suppliers),
            )
            for family, count in counts:
                ents = [self._entity(member, family, i) for i in range(count)]
                self.entities[(member, family)] = ents
                queues.extend(self._emit(e) for e in ents)
        queues.extend(
            self._emit_invalid(_Invalid(m, kind, variant))
            for m in self.plan.members
            for kind, variant in self._invalid_mix(self.plan.invalid_per_member)
        )
        # interleave the queues at random, keeping each one's own order: every record gets a
        # random slot in [0, 1), sorted within its queue, and the stream is all slots in order
        rand = self.rng.random
        slots = [(slot, qi) for qi, q in enumerate(queues) for slot in sorted(rand() for _ in range(q.left))]
        slots.sort()
        out: list[Sent] = [next(queues[qi]) for _, qi in slots]
        return out

    # --- planning ---

    def _entity(self, member: str, family: Family, index: int) -> _Entity:
        rng = self.rng
        if family == "purchase-order":
            entity_id, n = (
                f"{self.plan.id_prefix}PO-{index + 1:05d}",
                rng.randint(1, self.plan.max_order_versions),
            )
            states = self._order_versions(member, n)
        elif family == "contract":
            entity_id, n = (
                f"{self.plan.id_prefix}CT-{index + 1:04d}",
                rng.randint(1, self.plan.max_contract_versions),
            )
            states = self._contract_versions(member, n)
        else:
            entity_id, n = f"{self.plan.id_prefix}SUP-{index + 1:04d}", rng.randint(1, 2)
            states = self._supplier_versions(n)
        version = 0
        for s in states:  # strictly increasing, sometimes with gaps
            version += 1 if rng.random() < 0.8 else rng.randint(2, 4)
            s["entity_version"] = version
        schedule = list(range(len(states)))
        if len(schedule) >= 2 and rng.random() < self.plan.p_out_of_order:
            i = rng.randrange(len(schedule) - 1)
            schedule[i], schedule[i + 1] = schedule[i + 1], schedule[i]
        if rng.random() < self.plan.p_resend:
            at = rng.randrange(len(schedule))
            schedule.insert(rng.randint(at + 1, len(schedule)), schedule[at])
        return _Entity(member, family, entity_id, states, schedule)

    def _supplier_ref(self, member: str, spec: SupplierSpec) -> dict[str, Any]:
        return {
            "member_supplier_id": f"{member[:4].upper()}-V{self.suppliers.index(spec):04d}",
            "name": self.rng.choice(spec.names),
            "companies_house_number": spec.companies_house_number,
            "vat_number": spec.vat_number,
            "duns": spec.duns,
            "ppon": None,
        }

    def _products_for(self, member: str) -> list[Product]:
        return [p for p in self.products if not p.members or member in p.members]

    def _line(self, member: str, line_id: str) -> dict[str, Any]:
        rng = self.rng
        product = rng.choice(self._products_for(member))
        if rng.random() < 0.03:
            unit_price = Decimal("0")  # free of charge: still a live line
        else:
            unit_price = (product.price * Decimal(rng.randint(80, 120)) / 100).quantize(
                PLACES4 if rng.random() < 0.3 else PENNY
            )
        quantity = Decimal(rng.randint(1, 40)) if rng.random() < 0.85 else Decimal(rng.randint(5, 400)) / 4
        if product.price > 10000:
            quantity = Decimal(1)
        return {
            "line_id": line_id,
            "description": product.description,
            "quantity": quantity,
            "unit": product.unit,
            "unit_price": unit_price,
            "line_total": (quantity * unit_price).quantize(PENNY, rounding=ROUND_HALF_UP),
            "classification": {"scheme": product.scheme, "code": product.code},
            "item_id": None,
        }

    def _order_versions(self, member: str, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        spec = rng.choice(self.suppliers)
        order_date = self.plan.as_of - timedelta(days=rng.randint(0, 540))
        lines = [self._line(member, f"{i + 1}") for i in range(rng.randint(1, 4))]
        next_line = len(lines) + 1
        out = []
        for v in range(n):
            if v == 0:
                status = "ISSUED" if rng.random() > 0.03 else "CANCELLED"
            elif v == n - 1 and rng.random() < 0.2:
                status = "CANCELLED"
            else:
                status = rng.choice(("AMENDED", "RECEIVED", "CLOSED", "AMENDED"))
            if v > 0:  # an amendment: change a price or quantity, add or drop a line, maybe the supplier
                roll = rng.random()
                if roll < 0.3 and len(lines) > 1:
                    lines.pop(rng.randrange(len(lines)))
                elif roll < 0.6:
                    lines.append(self._line(member, f"{next_line}"))
                    next_line += 1
                else:
                    i = rng.randrange(len(lines))
                    lines[i] = {**self._line(member, lines[i]["line_id"])}
                if rng.random() < 0.1:
                    spec = rng.choice(self.suppliers)
                if rng.random() < 0.1:
                    order_date = order_date + timedelta(days=rng.randint(1, 40))
            out.append(
                {
                    "member_id": member,
                    "source_system": rng.choice(SOURCES),
                    "status": status,
                    "order_date": order_date,
                    "currency": "GBP",
                    "supplier": self._supplier_ref(member, spec),
                    "contract_ref": None if rng.random() < 0.6 else f"CT-{rng.randint(1, 20):04d}",
                    "lines": [dict(line) for line in lines],
                    "total_net": sum((line["line_total"] for line in lines), Decimal("0.00")),
                    "buyer_reference": None if rng.random() < 0.5 else f"REQ-{rng.randint(1000, 9999)}",
                }
            )
        return out

    def _end_date(self, start: date) -> date:
        as_of = self.plan.as_of
        edges = [
            as_of - timedelta(days=1),
            as_of,
            as_of + timedelta(days=1),
            add_months(as_of, 6),
            add_months(as_of, 6) + timedelta(days=1),
            add_months(as_of, 12),
            add_months(as_of, 12) + timedelta(days=1),
            add_months(as_of, 24),
            add_months(as_of, 24) + timedelta(days=1),
        ]
        end = (
            self.rng.choice(edges)
            if self.rng.random() < 0.35
            else as_of + timedelta(days=self.rng.randint(-400, 1000))
        )
        return max(end, start)

    def _contract_versions(self, member: str, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        spec = rng.choice(self.suppliers)
        product = rng.choice(self._products_for(member))
        start = self.plan.as_of - timedelta(days=rng.randint(30, 1500))
        end = self._end_date(start)
        value = Decimal(rng.randint(5_000, 4_000_000)) + Decimal(rng.randint(0, 99)) / 100
        out = []
        for v in range(n):
            if v == 0:
                status = rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", "PENDING"))
            elif v == n - 1 and rng.random() < 0.3:
                status = rng.choice(("TERMINATED", "CANCELLED", "EXPIRED"))
            else:
                status = "ACTIVE"
            if v > 0:  # a variation: extension or value change
                if rng.random() < 0.5:
                    end = self._end_date(start)
                if rng.random() < 0.5:
                    value = (value * Decimal(rng.randint(90, 130)) / 100).quantize(PENNY)
            extent = None if rng.random() < 0.4 else add_months(end, rng.choice((6, 12, 24)))
            out.append(
                {
                    "member_id": member,
                    "source_system": rng.choice(SOURCES),
                    "status": status,
                    "title": f"{product.description} framework call-off",
                    "supplier": self._supplier_ref(member, spec),
                    "classification": {"scheme": product.scheme, "code": product.code},
                    "start_date": start,
                    "end_date": end,
                    "max_extent_date": extent,
                    "value": value,
                    "currency": "GBP",
                    "framework_ref": None if rng.random() < 0.5 else f"RM{rng.randint(1000, 6999)}",
                    "ocid": None,
                }
            )
        return out

    def _supplier_versions(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        spec = rng.choice(self.suppliers)
        return [
            {
                "member_id": "",  # filled in at build time
                "source_system": rng.choice(SOURCES),
                "status": "ACTIVE" if v < n - 1 or rng.random() < 0.8 else "INACTIVE",
                "legal_name": rng.choice(spec.names),
                "companies_house_number": spec.companies_house_number,
                "vat_number": spec.vat_number,
                "duns": spec.duns,
                "ppon": None,
                "postcode": rng.choice(("ME14 1XX", "CM2 6DA", "B4 6NQ", "SN1 2AA", None)),
                "sme": rng.choice((True, False, None)),
                "vcse": rng.choice((True, False, None)),
            }
            for v in range(n)
        ]

    def _invalid_mix(self, count: int) -> list[tuple[str, str]]:
        variants = [
            ("decode", "random-bytes"),
            ("decode", "empty"),
            ("decode", "tombstone"),
            ("decode", "truncated"),
            ("decode", "trailing-bytes"),
            ("decode", "confluent-framing"),
            ("decode", "unknown-fingerprint"),
            ("tenant", "other-member"),
            ("unsupported", "eur-order"),
            ("unsupported", "nok-contract"),
            ("validation", "bad-total"),
            ("validation", "end-before-start"),
            ("schema", "contract-on-order-topic"),
        ]
        mix = list(variants[: min(count, len(variants))])
        while len(mix) < count:
            mix.append(self.rng.choice(variants))
        return mix

    # --- emitting ---

    def _tick(self) -> datetime:
        if self.rng.random() >= 0.05:  # else the same millisecond as the previous record
            self.clock += timedelta(milliseconds=self.rng.expovariate(1.0 / self.plan.mean_gap_ms))
        return self.clock.replace(microsecond=self.clock.microsecond // 1000 * 1000)

    def _build(self, ent: _Entity, index: int) -> tuple[Event, bytes]:
        if index not in ent.built:
            published_at = self._tick()
            data = {
                **ent.states[index],
                "member_id": ent.member,
                "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "entity_id": ent.entity_id,
                "occurred_at": published_at - timedelta(seconds=self.rng.randint(0, 3600)),
                "published_at": published_at,
            }
            event: Event = MODEL_BY_FAMILY[ent.family].model_validate(data)
            if isinstance(event, PurchaseOrder) and event.buyer_reference is None and self.rng.random() < 0.5:
                # a partner still on purchase-order v1: the hub must resolve it to the latest schema
                record = to_avro(event)
                del record["buyer_reference"]
                value = encode_record("purchase-order", record, version=1)
            else:
                value = encode_event(event)
            ent.built[index] = (event, value)
        return ent.built[index]

    def _emit(self, ent: _Entity) -> _Queue:
        def records() -> Iterator[Sent]:
            seen: set[int] = set()
            for index in ent.schedule:
                event, value = self._build(ent, index)
                kind = "resend" if index in seen else ("late" if any(i > index for i in seen) else "new")
                seen.add(index)
                yield Sent(
                    member=ent.member,
                    family=ent.family,
                    key=ent.entity_id.encode(),
                    value=value,
                    event=event,
                    reject=None,
                    published_at=event.published_at,
                    note=f"{ent.family} {ent.member}/{ent.entity_id} v{event.entity_version} ({kind})",
                )

        return _Queue(records(), len(ent.schedule))

    def _emit_invalid(self, bad: _Invalid) -> _Queue:
        def records() -> Iterator[Sent]:
            yield self._invalid(bad)

        return _Queue(records(), 1)

    def _invalid(self, bad: _Invalid) -> Sent:
        rng = self.rng
        member, variant = bad.member, bad.variant
        own_orders = self.entities[(member, "purchase-order")]
        own_contracts = self.entities[(member, "contract")]
        target = rng.choice(own_orders)
        family: Family = "purchase-order"
        published_at: datetime | None = None
        note = f"{bad.kind}/{variant} on {member}"

        def state_of(entity: _Entity, owner: str, version: int, **changes: Any) -> dict[str, Any]:
            nonlocal published_at
            published_at = self._tick()
            state = {**entity.states[-1], **changes}
            return {
                **state,
                "member_id": owner,
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "entity_id": entity.entity_id,
                "entity_version": version,
                "occurred_at": published_at,
                "published_at": published_at,
            }

        if bad.kind == "decode":
            body = encode_event(PurchaseOrder.model_validate(state_of(target, member, 500)))
            published_at = None  # not readable
            value: bytes | None = {
                "random-bytes": lambda: rng.randbytes(rng.randint(1, 64)),
                "empty": lambda: b"",
                "tombstone": lambda: None,
                "truncated": lambda: body[: rng.randint(11, len(body) - 1)],
                "trailing-bytes": lambda: body + b"\x00\x17",
                "confluent-framing": lambda: b"\x00\x00\x00\x01\x07" + body[10:],
                "unknown-fingerprint": lambda: b"\xc3\x01" + rng.randbytes(8) + body[10:],
            }[variant]()
            return Sent(member, family, target.entity_id.encode(), value, None, "decode", None, note)
        if variant == "other-member":
            # claims to be another member, about that member's real entity, with a winning version
            victim = rng.choice([m for m in self.plan.members if m != member])
            victim_entity = rng.choice(self.entities[(victim, "purchase-order")])
            data = state_of(victim_entity, victim, 700, source_system="spoofed")
            value = encode_event(PurchaseOrder.model_validate(data))
            note += f" claiming {victim}/{victim_entity.entity_id}"
            return Sent(
                member, family, victim_entity.entity_id.encode(), value, None, "tenant", published_at, note
            )
        if variant == "eur-order":
            value = encode_event(PurchaseOrder.model_validate(state_of(target, member, 800, currency="EUR")))
        elif variant == "nok-contract":
            family = "contract"
            target = rng.choice(own_contracts)
            value = encode_event(Contract.model_validate(state_of(target, member, 800, currency="NOK")))
        elif variant == "bad-total":
            record = to_avro(PurchaseOrder.model_validate(state_of(target, member, 900)))
            record["total_net"] = record["total_net"] + Decimal("0.01")
            value = encode_record("purchase-order", record)
        elif variant == "end-before-start":
            family = "contract"
            target = rng.choice(own_contracts)
            record = to_avro(Contract.model_validate(state_of(target, member, 900)))
            record["end_date"] = record["start_date"] - timedelta(days=1)
            record["max_extent_date"] = None
            value = encode_record("contract", record)
        elif variant == "contract-on-order-topic":
            # a well-formed contract of this member, published to its purchase-order topic
            target = rng.choice(own_contracts)
            value = encode_event(Contract.model_validate(state_of(target, member, 600)))
        else:
            raise AssertionError(variant)
        note += f" about {target.entity_id}"
        return Sent(member, family, target.entity_id.encode(), value, None, bad.kind, published_at, note)


class _Queue:
    """A record iterator that knows how many records it has left (for fair interleaving)."""

    def __init__(self, it: Iterator[Sent], length: int) -> None:
        self.it = it
        self.left = length

    def __next__(self) -> Sent:
        self.left -= 1
        return next(self.it)


def generate(seed: int, plan: Plan | None = None, cats: Categories | None = None) -> list[Sent]:
    """The seeded stream: every record in production order, with what the hub should make of it."""
    return Generator(seed, plan or Plan(), cats).stream()


def summary(sent: Sequence[Sent]) -> str:
    """One line: how many of what, for test logs."""
    kinds: dict[str, int] = {}
    for s in sent:
        label = s.reject or "valid"
        kinds[label] = kinds.get(label, 0) + 1
    return f"{len(sent)} records: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))


def join_cases(sent: Sequence[Sent]) -> dict[str, int]:
    """How often the stream holds what the joined views must get right whatever the order.

    - ``order_before_contract``: an order naming a contract of its member that arrives later;
    - ``contract_changed_after_order``: a contract version arriving after an order naming it;
    - ``conflicting_sme``: supplier keys whose members' records say both true and false.
    """
    from schemas.identity import national_supplier_key
    from schemas.models import Contract, PurchaseOrder, Supplier

    first_contract: dict[tuple[str, str], int] = {}
    last_contract: dict[tuple[str, str], int] = {}
    first_order: dict[tuple[str, str], int] = {}
    says: dict[str, set[bool]] = {}
    for i, s in enumerate(sent):
        e = s.event
        if isinstance(e, Contract):
            first_contract.setdefault((e.member_id, e.entity_id), i)
            last_contract[(e.member_id, e.entity_id)] = i
        elif isinstance(e, PurchaseOrder) and e.contract_ref:
            first_order.setdefault((e.member_id, e.contract_ref), i)
        elif isinstance(e, Supplier) and e.sme is not None:
            says.setdefault(national_supplier_key(e), set()).add(e.sme)
    orders = first_order.items()
    return {
        "order_before_contract": sum(1 for k, i in orders if first_contract.get(k, -1) > i),
        "contract_changed_after_order": sum(1 for k, i in orders if last_contract.get(k, -1) > i),
        "conflicting_sme": sum(1 for v in says.values() if v == {True, False}),
    }
