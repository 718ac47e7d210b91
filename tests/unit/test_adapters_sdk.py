"""The adapter SDK's pure parts: envelope, sharing policy, preparation, checkpoints, JSON lines."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from adapters.base import Mapped, Outcome, RowError, Skipped
from adapters.jsonl import check_file
from adapters.sdk.checkpoint import CheckpointError, CheckpointStore, fingerprint
from adapters.sdk.envelope import EVENT_ID_NAMESPACE, complete_envelope, event_id_for
from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.prepare import prepare, prepare_encoded
from adapters.sdk.run import FileRun, RejectsFile, split_source
from adapters.sdk.sharing import WITHHELD_TEXT, PolicyError, SharingPolicy
from schemas.models import PurchaseOrder, from_avro
from schemas.serde import decode_event, encode_event
from schemas.validate import Rejection

MEMBER = "kent-police"


def order(entity_id: str = "PO-1", version: int = 1, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "source_system": "sap-s4",
        "entity_id": entity_id,
        "entity_version": version,
        "occurred_at": "2026-03-01T09:30:00Z",
        "status": "ISSUED",
        "order_date": "2026-03-01",
        "currency": "GBP",
        "supplier": {
            "member_supplier_id": "V-0042",
            "name": "Acme Protective Ltd",
            "companies_house_number": "04336774",
            "vat_number": "GB107328000",
        },
        "contract_ref": "CON-7",
        "lines": [
            {
                "line_id": "1",
                "description": "Ballistic goggles, anti-fog",
                "quantity": "3",
                "unit": "EA",
                "unit_price": "12.3457",
                "line_total": "37.04",
                "classification": {"scheme": "CPV", "code": "33735100"},
                "item_id": "5012345678900",
            }
        ],
        "total_net": "37.04",
    }
    data.update(changes)
    return data


# --- envelope -------------------------------------------------------------------------------------


def test_event_id_is_uuid5_of_member_family_entity_version() -> None:
    expected = str(uuid.uuid5(EVENT_ID_NAMESPACE, "kent-police/purchase-order/PO-1/3"))
    assert event_id_for(MEMBER, "purchase-order", "PO-1", 3) == expected
    assert event_id_for(MEMBER, "purchase-order", "PO-1", "3") == expected
    others = {
        event_id_for(MEMBER, "purchase-order", "PO-1", 4),
        event_id_for("essex-police", "purchase-order", "PO-1", 3),
        event_id_for(MEMBER, "contract", "PO-1", 3),
        event_id_for(MEMBER, "purchase-order", "PO-2", 3),
    }
    assert expected not in others and len(others) == 4


def test_envelope_fills_but_never_overwrites_the_member() -> None:
    filled = complete_envelope("purchase-order", MEMBER, order())
    assert filled["member_id"] == MEMBER
    assert filled["event_id"] == event_id_for(MEMBER, "purchase-order", "PO-1", 1)
    assert filled["published_at"].endswith("Z")
    claimed = complete_envelope("purchase-order", MEMBER, order(member_id="essex-police"))
    assert claimed["member_id"] == "essex-police"  # left for the tenant check to refuse
    given = complete_envelope(
        "purchase-order", MEMBER, order(event_id="0b7e2d4c-0000-4000-8000-000000000001")
    )
    assert given["event_id"] == "0b7e2d4c-0000-4000-8000-000000000001"


# --- prepare: the hub's checks at the partner's desk ------------------------------------------------


def test_prepare_gives_the_canonical_event() -> None:
    event = prepare("purchase-order", order(), MEMBER)
    assert isinstance(event, PurchaseOrder)
    assert event.model_dump(mode="json")["lines"][0]["unit_price"] == "12.3457"
    assert event.member_id == MEMBER and event.source_system == "sap-s4"


def test_prepare_encoded_keeps_the_bytes_it_checked() -> None:
    event, value = prepare_encoded("purchase-order", order(), MEMBER)
    assert value == encode_event(event)  # what a publish sends, without encoding a second time
    family, record = decode_event(value)
    assert family == "purchase-order" and from_avro(family, record) == event


@pytest.mark.parametrize(
    ("changes", "kind", "field"),
    [
        ({"currency": "NOK"}, "unsupported", "currency"),
        ({"member_id": "essex-police"}, "tenant", "member_id"),
        ({"total_net": "37.05"}, "validation", "total_net"),
        ({"status": "SHIPPED"}, "schema", "status"),
    ],
)
def test_prepare_refuses_what_the_hub_would(changes: dict[str, Any], kind: str, field: str) -> None:
    with pytest.raises(Rejection) as caught:
        prepare("purchase-order", order(**changes), MEMBER)
    assert caught.value.kind == kind and caught.value.field == field


# --- sharing policy ---------------------------------------------------------------------------------


POLICY = {
    "withhold": {
        "purchase-order": [
            "lines[].unit_price",
            "lines[].description",
            "supplier.vat_number",
            "supplier.member_supplier_id",
            "contract_ref",
        ]
    }
}


def test_policy_withholds_before_sending_and_keeps_the_event_valid() -> None:
    policy = SharingPolicy.from_mapping(POLICY)
    shared = prepare("purchase-order", order(), MEMBER, policy=policy).model_dump(mode="json")
    line = shared["lines"][0]
    assert (line["quantity"], line["unit"], line["unit_price"], line["line_total"]) == (
        "1.0000",
        "LS",
        "37.0400",
        "37.04",
    )
    assert line["description"] == WITHHELD_TEXT
    assert shared["supplier"]["vat_number"] is None and shared["contract_ref"] is None
    assert shared["supplier"]["member_supplier_id"] == WITHHELD_TEXT
    assert shared["supplier"]["companies_house_number"] == "04336774"  # not withheld: still sent
    assert shared["total_net"] == "37.04" and line["classification"] == {"scheme": "CPV", "code": "33735100"}
    text = json.dumps(shared)
    for secret in ("12.3457", "Ballistic", "GB107328000", "107328000", "V-0042", "CON-7"):
        assert secret not in text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"withhold": {"purchase-order": ["lines[].line_total"]}}, "cannot be withheld"),
        ({"withhold": {"purchase-order": ["supplier.name"]}}, "supplier name always travel"),
        ({"withhold": {"contract": ["value"]}}, "cannot be withheld"),
        ({"withhold": {"invoice": ["x"]}}, "unknown family"),
        ({"hide": ["x"]}, "expected a mapping with a 'withhold' key"),
        ({"withhold": {"supplier": "postcode"}}, "must be a list"),
    ],
)
def test_policy_refuses_what_cannot_be_withheld(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        SharingPolicy.from_mapping(raw)


def test_policy_for_contracts_and_suppliers() -> None:
    policy = SharingPolicy.from_mapping(
        {"withhold": {"contract": ["title", "max_extent_date"], "supplier": ["postcode", "sme"]}}
    )
    contract = {"title": "Body armour framework", "max_extent_date": "2030-01-01", "value": "10.00"}
    assert policy.apply("contract", contract) == {
        "title": WITHHELD_TEXT,
        "max_extent_date": None,
        "value": "10.00",
    }
    assert contract["title"] == "Body armour framework"  # the input is not changed
    assert policy.apply("supplier", {"postcode": "ME1 1AA", "sme": True}) == {"postcode": None, "sme": None}
    assert policy.apply("purchase-order", {"x": 1}) == {"x": 1}


# --- checkpoints --------------------------------------------------------------------------------------


def test_checkpoint_round_trip_and_naming(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state", MEMBER, "csv")
    source = tmp_path / "spend 2019-07.csv"
    source.write_text("x")
    assert store.load(source) is None
    fp = fingerprint(b"x", "csv", {"a": 1})
    saved = store.save(source, fp, position=40, line=41, complete=False)
    path = store.path_for(source)
    assert path.parent == tmp_path / "state" / "adapters" / MEMBER
    assert path.name.startswith("csv-spend_2019-07.csv-") and path.suffix == ".json"
    assert store.load(source) == saved and (saved.position, saved.line, saved.complete) == (40, 41, False)
    assert list(path.parent.glob("*.tmp")) == []
    assert fingerprint(b"x", "csv", {"a": 2}) != fp != fingerprint(b"y", "csv", {"a": 1})
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="delete it"):
        store.load(source)


# --- JSON lines ------------------------------------------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_errors_name_line_and_field(tmp_path: Path) -> None:
    bad_total = order("PO-7")
    bad_total["lines"][0]["line_total"] = "37.00"
    bad_total["total_net"] = "37.00"
    path = write_lines(
        tmp_path / "orders.jsonl",
        [json.dumps(order(f"PO-{i}")) for i in range(1, 7)]
        + [json.dumps(bad_total), "", '{"entity_id": "PO-9",'],
    )
    checked = check_file(path, "purchase-order", MEMBER)
    assert len(checked.events) == 6 and checked.blank == 1
    first, second = checked.errors
    assert str(first).startswith("orders.jsonl:7: lines[0].line_total: ")
    assert (first.line, first.kind, first.field) == (7, "validation", "lines[0].line_total")
    assert str(second).startswith("orders.jsonl:9: invalid JSON at column ")


def test_jsonl_refuses_non_objects_other_members_and_fills_envelopes(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "mixed.jsonl",
        ["[1, 2]", json.dumps(order(member_id="essex-police")), json.dumps(order("PO-3", 2))],
    )
    checked = check_file(path, "purchase-order", MEMBER, source_system="fallback")
    assert [(e.line, e.kind) for e in checked.errors] == [(1, "decode"), (2, "tenant")]
    assert "expected a JSON object" in checked.errors[0].reason
    [(line, event)] = checked.events
    assert line == 3 and event.event_id == event_id_for(MEMBER, "purchase-order", "PO-3", 2)


def test_jsonl_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"a": "\xa3"}\n')
    [error] = check_file(path, "purchase-order", MEMBER).errors
    assert "not UTF-8" in error.reason


# --- a dry run of a file adapter ---------------------------------------------------------------------------


def fake_reader(paths: list[Path], member: str, config: dict[str, Any] | None) -> Iterator[Outcome]:
    for path in paths:
        yield Skipped(path.name, 1, "above the header row")
        yield Mapped("purchase-order", order("PO-1"), f"{path.name}:2")
        yield RowError(path.name, 3, "Amount", "amount is empty", "raw,row")
        yield Mapped("purchase-order", order("PO-4", currency="NOK"), f"{path.name}:4")
        yield Mapped("purchase-order", order("PO-5"), f"{path.name}:5")


async def test_dry_run_prints_events_and_reports_rejects(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("anything")
    out, err = io.StringIO(), io.StringIO()
    registry = CollectorRegistry()
    run = FileRun(
        reader=fake_reader,
        adapter="fake",
        member=MEMBER,
        config=None,
        policy=SharingPolicy(),
        rejects=RejectsFile(tmp_path / "rejects.jsonl", echo=err, echo_limit=None),
        metrics=AdapterMetrics.create(registry),
        out=out,
    )
    report = await run.sources([source])
    run.rejects.close()
    printed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["entity_id"] for e in printed] == ["PO-1", "PO-5"]
    assert printed[0]["event_id"] == event_id_for(MEMBER, "purchase-order", "PO-1", 1)
    assert (report.events, report.rejected, dict(report.skipped)) == (2, 2, {"above the header row": 1})
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["column"], r["kind"]) for r in rejects] == [
        (3, "Amount", "row"),
        (4, "currency", "unsupported"),
    ]
    assert "in.csv:3 [Amount]: amount is empty" in err.getvalue()
    sample = registry.get_sample_value(
        "bluelight_adapter_events_rejected_total",
        {"member": MEMBER, "family": "purchase-order", "adapter": "fake", "kind": "unsupported"},
    )
    assert sample == 1.0


def test_split_source() -> None:
    assert split_source("orders.csv:12") == ("orders.csv", 12)
    assert split_source("/data/Order_Example.xml") == ("/data/Order_Example.xml", None)
