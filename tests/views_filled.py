"""A ViewIndex filled with generated entity states, for tests of what is served from it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from streams.contributions import Contribution, entity_parts
from streams.facts import ContractFacts, Current, EntityRef, LineFacts, OrderFacts, SupplierFacts
from streams.fold import FoldStage
from streams.views.index import ViewIndex
from streams.views.member_activity import ActivityPart

MEMBERS = ("kent-police", "essex-police", "west-midlands-police", "wiltshire-fire", "avon-fire")
CATEGORIES = (
    ("fleet", "Fleet"),
    ("ppe", "PPE, body armour"),
    ("radio", 'Radios "Airwave"'),
    ("fuel", "Fuel"),
    *((f"cat-{i:02d}", f"Category {i}") for i in range(10)),
)
SUPPLIERS = (
    ("CH:01234567", "Acme Ltd"),
    ("VAT:GB123456789", "Bodyguard, Armour & Co"),
    ("NAME:formula co", '=HYPERLINK("x")'),  # a hostile name: must not become a spreadsheet formula
    ("DUNS:123456789", "Fuel Direct"),
    *((f"CH:{i:08d}", f"Supplier {i} Ltd") for i in range(12)),
)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def filled_index(seed: int = 1, entities: int = 120) -> tuple[ViewIndex, datetime]:
    """An index over ``entities`` generated orders and contracts; also the newest event time."""
    rng = random.Random(seed)
    index = ViewIndex()
    fold = FoldStage({}, index)
    newest: dict[str, datetime] = {}
    for n in range(entities):
        member = rng.choice(MEMBERS)
        published = T0 + timedelta(minutes=rng.randrange(10_000), milliseconds=rng.randrange(1000))
        supplier_key, supplier_name = rng.choice(SUPPLIERS)
        if n % 3:
            lines = []
            for _ in range(rng.randint(1, 3)):
                cat, cat_name = rng.choice(CATEGORIES)
                total = Decimal(rng.randrange(-500, 500_000)) / 100
                price = Decimal(rng.randrange(1, 99_999)) / 100
                key = rng.choice((f"CPV:{rng.randrange(30)}|EA", "UNSPSC:46181500|SET", None))
                lines.append(LineFacts(cat, cat_name, total, price, key))
            month = date(2026, rng.randint(1, 12), 1)
            total_net = sum((ln.line_total for ln in lines), Decimal("0.00"))
            contract_ref = rng.choice(("", "C-0", "C-3", "C-6", "C-9"))  # some name a contract
            facts: OrderFacts | ContractFacts = OrderFacts(
                rng.random() < 0.9, month, supplier_key, supplier_name, total_net, tuple(lines), contract_ref
            )
            ref = EntityRef(member, "purchase-order", f"PO-{n}")
        else:
            cat, cat_name = rng.choice(CATEGORIES)
            end = date(2026, 1, 1) + timedelta(days=rng.randrange(1000))
            facts = ContractFacts(
                rng.random() < 0.9,
                supplier_key,
                supplier_name,
                cat,
                cat_name,
                end,
                None,
                Decimal(rng.randrange(1, 10_000_000)) / 100,
                framework_ref=rng.choice(("", "RM6100")),
            )
            ref = EntityRef(member, "contract", f"C-{n}")
        key = f"{member}/{n}".encode()
        fold_entity(fold, key.decode(), Current(ref, 1, published, facts))
        index.set_activity(key, member, ActivityPart(accepted=1, newest=published))
        newest[member] = max(newest.get(member, published), published)
    for supplier_key, name in SUPPLIERS[::2]:  # some suppliers say they are SMEs or VCSEs
        facts = SupplierFacts(supplier_key, name, True, rng.choice((True, False, None)), rng.random() < 0.5)
        ref = EntityRef("kent-police", "supplier", name)
        fold_entity(fold, f"s/{supplier_key}", Current(ref, 1, T0, facts))
    while fold.flush_joins():  # the worker's standings tick, until quiet
        for c in fold.take_sends():
            fold.apply_one(c)
    return index, max(newest.values())


def fold_entity(fold: FoldStage, contributor: str, current: Current) -> None:
    """What stage one would send for a new entity, folded as stage two does (joins included)."""
    pending = [Contribution(v, k, contributor, 1, part) for (v, k), part in entity_parts(current).items()]
    while pending:
        for c in pending:
            fold.apply_one(c)
        pending = fold.take_sends()
