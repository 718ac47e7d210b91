"""Realistic synthetic partner activity, for the demo and for benchmarks.

A seeded, pure generator: :func:`generate` returns the events the 43 territorial police
forces of England and Wales, eleven fire and rescue services and the national team would
publish - purchase orders, contracts and supplier records in the canonical JSON form of
events.md (the form ``schemas.models`` dumps) - each labelled with what the hub should do
with it: accept it (``good``), count it as a ``duplicate`` (a resend, or a version older
than one already applied), or reject it (``bad:<kind>``). Nothing here touches Kafka.

The data exercises what the views must get right: national suppliers shared across
partners under different local ids and name spellings; CPV codes with and without check
digits, UNSPSC, ECLASS and LOCAL codes (some deliberately unmapped); contracts ending in
every pipeline bucket, including past their end but still ACTIVE; amendments,
cancellations, exact resends, versions delivered out of order, and a few bad events of
every rejection kind.

Suppliers are fictional. Their Companies House numbers are in the 19xxxxxx block (SC9xxxxx
for the Scottish one), which Companies House has not reached, so none names a real
company; VAT numbers are random with a valid HMRC check pair. CPV check digits appear only
where the real one is known (the hub ignores them anyway).

In the order the data moves: ``members`` (who), ``items`` and ``suppliers`` (what, from
whom), ``values`` (money, timestamps, order lines), ``activity`` (one member's events),
``bad`` (the bad ones), ``run`` (all of them, delivered and labelled: :func:`generate`),
``events`` (the labelled output) and ``wire`` (its bytes on a topic).
"""

from demo.synthetic.events import SyntheticEvent, expected_activity
from demo.synthetic.items import ITEM_BY_KEY, ITEMS, Item
from demo.synthetic.members import MEMBER_BY_ID, MEMBERS, Member, Sector
from demo.synthetic.run import generate
from demo.synthetic.suppliers import (
    NATIONAL_SUPPLIERS,
    SupplierSpec,
    companies_house_number,
    duns_number,
    vat_number,
)
from demo.synthetic.wire import avro_record, wire_bytes

# What other code imports (demo/*.py, tests/unit/test_synthetic.py), and the rest of
# the single module's public classes, tables and functions, so imports written against it keep working.
__all__ = [
    "ITEMS",
    "ITEM_BY_KEY",
    "MEMBERS",
    "MEMBER_BY_ID",
    "NATIONAL_SUPPLIERS",
    "Item",
    "Member",
    "Sector",
    "SupplierSpec",
    "SyntheticEvent",
    "avro_record",
    "companies_house_number",
    "duns_number",
    "expected_activity",
    "generate",
    "vat_number",
    "wire_bytes",
]
