"""Bad events: about 1% of the total, every rejection kind at least once.

Each recipe starts from a valid order of a real member and breaks one thing, so the event is
rejected for that reason alone.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from adapters.sdk.envelope import event_id_for
from demo.synthetic.activity import MemberRun
from demo.synthetic.events import Pending
from demo.synthetic.items import ITEM_BY_KEY
from demo.synthetic.members import MEMBERS
from demo.synthetic.suppliers import EURO_SUPPLIER, Party, companies_house_number
from demo.synthetic.values import PENNY, Json, lines_total, money, order_line, parse_timestamp, timestamp
from demo.synthetic.wire import avro_record
from schemas import serde
from topologies.naming import Family


def bad_events(seed: int, today: date, good_count: int) -> list[Pending]:
    """About 1% bad events, every kind at least once, from members picked by the seed."""
    rng = random.Random(f"{seed}/bad")
    recipes = ("wrong-total", "half-even", "companies-house", "end-before-start", "non-gbp", "tenant",
               "version-zero", "undecodable", "wrong-topic")
    count = max(len(recipes), round(good_count * 0.01))
    out: list[Pending] = []
    for n in range(count):
        index = rng.randrange(len(MEMBERS))
        member = MEMBERS[index]
        run = MemberRun(member, index, seed, today, 1.0, {})
        run.rng = random.Random(f"{seed}/bad/{n}")
        run.counter = 90000 + n  # entity ids apart from the member's good ones
        run.seq = 100000 + n
        recipe = recipes[n % len(recipes)]
        out.append(_bad(run, recipe, rng))
    return out


def _bad(run: MemberRun, recipe: str, rng: random.Random) -> Pending:
    """One bad event of ``recipe``, otherwise valid so it is rejected for that reason alone."""
    run.order()
    event = copy.deepcopy(run.pending[0].event)  # the order's v1; later versions are not wanted
    run.pending.clear()
    family: Family = "purchase-order"
    kind, note, raw = "validation", "", None
    published = datetime.combine(run.today, time(0), UTC) - timedelta(minutes=rng.randint(10, 30 * 24 * 60))
    event["published_at"] = timestamp(published)
    event["occurred_at"] = timestamp(min(published, parse_timestamp(event["occurred_at"])))
    if recipe == "wrong-total":
        wrong = Decimal(event["total_net"]) + Decimal(rng.choice(["0.01", "1.00", "10.00"]))
        event["total_net"] = money(wrong)
        note = "total_net is not the sum of the lines"
    elif recipe == "half-even":
        item = ITEM_BY_KEY["diesel"]
        cpv = {"scheme": "CPV", "code": item.cpv}
        line = order_line(run.line_id(1), item, Decimal("10.5000"), Decimal("2.3300"), cpv)
        line["line_total"] = money(Decimal("24.465").quantize(PENNY, rounding=ROUND_HALF_EVEN))
        event["lines"] = [line]
        event["total_net"] = line["line_total"]
        note = "line_total 24.46 rounds 10.5 x 2.33 = 24.465 half-even; the rule is half-up (24.47)"
    elif recipe == "companies-house":
        event = _supplier_record(run, event, "11111111.0")
        family = "supplier"
        note = "companies_house_number '11111111.0' is a spreadsheet float, not a Companies House number"
    elif recipe == "end-before-start":
        event = _bad_contract(run, event)
        family = "contract"
        note = "end_date is before start_date"
    elif recipe == "non-gbp":
        kind = "unsupported"
        party = Party(EURO_SUPPLIER, "EU-0042", EURO_SUPPLIER.name)
        item = ITEM_BY_KEY["hose"]
        cpv = {"scheme": "CPV", "code": item.cpv}
        line = order_line(run.line_id(1), item, Decimal("40"), Decimal("118.5000"), cpv)
        event.update(currency="EUR", supplier=party.ref(), contract_ref=None, lines=[line])
        event["total_net"] = lines_total([line])
        note = "currency EUR: v1 views aggregate GBP only"
    elif recipe == "tenant":
        kind = "tenant"
        other = MEMBERS[(MEMBERS.index(run.member) + 1) % len(MEMBERS)]
        event["member_id"] = other.id
        event["event_id"] = event_id_for(other.id, family, event["entity_id"], 1)
        note = f"claims to be {other.id} on {run.member.id}'s topic"
    elif recipe == "version-zero":
        event["entity_version"] = 0
        event["event_id"] = event_id_for(run.member.id, family, event["entity_id"], 0)
        note = "entity_version 0: versions start at 1"
    elif recipe == "wrong-topic":
        kind = "schema"
        event = _supplier_record(run, event, companies_house_number(run.suppliers[0]))
        raw = serde.encode_record("supplier", avro_record(event))
        note = "a supplier record on the purchase-orders topic"
    else:
        kind = "decode"
        raw = json.dumps(event).encode()
        note = "JSON text where Avro single-object encoding was expected"
    delivered = parse_timestamp(event["published_at"])
    return Pending(delivered, (run.index, run.seq), run.member.id, family, event, kind, note, raw)


def _supplier_record(run: MemberRun, order: Json, companies_house: str | None) -> Json:
    party = run.party(run.suppliers[0])
    envelope = {k: order[k] for k in ("source_system", "occurred_at", "published_at", "member_id")}
    entity_id = party.member_supplier_id + "-X"
    return {
        "event_id": event_id_for(run.member.id, "supplier", entity_id, 1),
        **envelope,
        "entity_id": entity_id,
        "entity_version": 1,
        "status": "ACTIVE",
        "legal_name": party.name,
        "companies_house_number": companies_house,
        "vat_number": None,
        "duns": None,
        "ppon": None,
        "postcode": None,
        "sme": None,
        "vcse": None,
    }


def _bad_contract(run: MemberRun, order: Json) -> Json:
    item = ITEM_BY_KEY["laptop"]
    entity_id = run.next_id("contract")
    start = run.today - timedelta(days=200)
    envelope = {k: order[k] for k in ("source_system", "occurred_at", "published_at", "member_id")}
    return {
        "event_id": event_id_for(run.member.id, "contract", entity_id, 1),
        **envelope,
        "entity_id": entity_id,
        "entity_version": 1,
        "status": "ACTIVE",
        "title": item.title,
        "supplier": order["supplier"],
        "classification": {"scheme": "CPV", "code": item.cpv},
        "start_date": start.isoformat(),
        "end_date": (start - timedelta(days=30)).isoformat(),
        "max_extent_date": None,
        "value": "125000.00",
        "currency": "GBP",
        "framework_ref": None,
        "ocid": None,
    }
