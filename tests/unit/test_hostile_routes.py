"""Every hostile probe of issue 15 is refused with a reason by the contract's gate, at every door.

The webhook over a real broker is tests/integration/test_hostile_input.py; here the same cases
go through the pieces every entry point shares: the bounded JSON reader, ``prepare`` (webhook,
``publish``, file adapters), ``check_file`` (``publish``) and ``route`` (ingest of raw Avro).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.jsonl import check_file
from adapters.sdk.prepare import prepare
from schemas.jsonin import JsonRefused, parse_json
from schemas.models import to_avro
from schemas.serde import encode_record
from schemas.validate import Rejection
from streams.canonical import SourceRef
from streams.categories import map_classification, normalise_code
from streams.route import route
from tests.hostile import CASES, Hostile, valid_order
from topologies.naming import member_topic

MEMBER = "kent-police"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_probe_is_refused_by_the_gate_with_a_short_reason(case: Hostile) -> None:
    body = case.build(valid_order())
    started = time.perf_counter()
    try:
        data = parse_json(body)
    except JsonRefused as exc:
        assert case.status == 400, f"{case}: refused by the JSON reader: {exc}"
        assert len(str(exc)) < 300
    else:
        assert case.status == 422, f"{case}: the JSON reader let it through"
        with pytest.raises(Rejection) as refused:
            prepare("purchase-order", data, MEMBER)
        assert refused.value.kind in ("schema", "validation"), refused.value
        assert len(refused.value.reason) < 2_000, refused.value.reason[:200]
    assert time.perf_counter() - started < 2.0  # refused before parsing got expensive


def test_the_valid_order_itself_passes() -> None:  # the control: the probes differ only in their flaw
    event = prepare("purchase-order", parse_json(valid_order_bytes()), MEMBER)
    assert event.entity_id == "PO-1" and event.member_id == MEMBER


def valid_order_bytes() -> bytes:
    return json.dumps(valid_order()).encode()


def test_publish_refuses_each_hostile_line_and_keeps_the_good_one_unsent(tmp_path: Path) -> None:
    lines = [valid_order_bytes()] + [case.build(valid_order(f"PO-{i}")) for i, case in enumerate(CASES, 2)]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    checked = check_file(path, "purchase-order", MEMBER)
    assert sorted(e.line for e in checked.errors) == list(range(2, len(CASES) + 2))
    assert [number for number, _ in checked.events] == [1]  # `publish` sends nothing when errors exist
    for error in checked.errors:
        assert len(str(error)) < 2_500
        assert str(error).encode("utf-8")  # printable: no lone surrogate reaches the terminal


def test_a_line_that_is_not_utf8_is_that_lines_error(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_bytes(valid_order_bytes() + b"\n" + b'{"a": "\xed\xbf\xbf"}\n')
    checked = check_file(path, "purchase-order", MEMBER)
    assert [(e.line, e.kind) for e in checked.errors] == [(2, "decode")]
    assert "not UTF-8" in checked.errors[0].reason and [n for n, _ in checked.events] == [1]


# --- ingest of raw Avro records: the values Avro can carry are refused by the same rules -----------


def _record(**changes: Any) -> dict[str, Any]:
    event = prepare("purchase-order", valid_order(), MEMBER)
    record = to_avro(event)
    for path, value in changes.items():
        here = record
        *parents, last = path.split("__")
        for part in parents:
            here = here[int(part)] if part.isdigit() else here[part]
        here[int(last) if last.isdigit() else last] = value
    return record


RAW_CASES: dict[str, dict[str, Any]] = {
    "order_date 0001-01-01": {"order_date": date(1, 1, 1)},
    "order_date 9999-12-31": {"order_date": date(9999, 12, 31)},
    "order_date 1970-01-01": {"order_date": date(1970, 1, 1)},
    "occurred_at year 1": {"occurred_at": datetime(1, 1, 1, tzinfo=UTC)},
    "published_at year 9999": {"published_at": datetime(9999, 12, 31, tzinfo=UTC)},
    "entity_version 2^63-1": {"entity_version": 2**63 - 1},
    "NUL in a supplier name": {"supplier__name": "Acme\x00 Ltd"},
    "RLO in a supplier name": {"supplier__name": "Acme \u202eLtd"},
    "1 MB description": {"lines__0__description": "x" * 1_000_000},
    "10,000-character entity_id": {"entity_id": "P" * 10_000},
    "BEL in source_system": {"source_system": "erp\x07"},
}


def _route(value: bytes) -> Any:
    source = SourceRef(member_topic(MEMBER, "purchase-order"), 0, 7)
    return route(source, b"k", value, map_classification, normalise_code)


@pytest.mark.parametrize("name", RAW_CASES)
def test_ingest_dead_letters_each_raw_hostile_record(name: str) -> None:
    routed = _route(encode_record("purchase-order", _record(**RAW_CASES[name])))
    assert routed.rejection is not None, f"{name} was accepted"
    assert routed.rejection.kind == "validation" and routed.dead_letter is not None
    assert len(routed.rejection.reason) < 2_000


def test_ingest_accepts_the_same_record_unchanged() -> None:  # the control
    routed = _route(encode_record("purchase-order", _record()))
    assert routed.rejection is None and routed.dead_letter is None


def test_ingest_dead_letters_surrogate_bytes_as_decode() -> None:
    good = encode_record("purchase-order", _record(supplier__name="Acme XXX Ltd"))
    routed = _route(good.replace(b"XXX", b"\xed\xbf\xbf"))
    assert routed.rejection is not None and routed.rejection.kind == "decode"
