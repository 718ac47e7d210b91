"""The OCDS adapter over real Contracts Finder data and the OCDS sample process, field by field."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Mapped, Outcome, RowError
from adapters.ocds import read
from schemas.validate import check_supported, validate_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ocds"
MEMBER = "bluelight-national"

LANCASHIRE = FIXTURES / "bluetail_contracts_finder_ocds-b5fd17raw-18064b23-7b04-4530-8519-587a69fc2282.json"
MOPAC = FIXTURES / "bluetail_contracts_finder_ocds-b5fd17raw-3eb9ea97-8da1-4da7-bed9-8b155663c3f0.json"
NWAS = FIXTURES / "bluetail_contracts_finder_ocds-b5fd17raw-e206a7d3-1cf8-4d5a-b2e1-286b0a078507.json"
WILTSHIRE = FIXTURES / "cf2025_wiltshire_fire_award_Release30.json"
BEDFORDSHIRE = FIXTURES / "cf2025_bedfordshire_pcc_award_Release44.json"
SAMPLE = FIXTURES / "sample-data_1.1_ocds-213czf-000-00001.json"
SAMPLE_RECORD = FIXTURES / "sample-data_1.1_record_ocds-213czf-000-00001.json"


def run(*paths: Path, **config: Any) -> list[Outcome]:
    return list(read(list(paths), MEMBER, config))


def mapped(outcomes: list[Outcome], family: str) -> list[dict[str, Any]]:
    return [o.event for o in outcomes if isinstance(o, Mapped) and o.family == family]


def errors(outcomes: list[Outcome]) -> list[RowError]:
    return [o for o in outcomes if isinstance(o, RowError)]


def version_of(newest_release: str, releases: int) -> int:
    return int(datetime.fromisoformat(newest_release).timestamp()) * 1000 + releases


def ref(member_supplier_id: str, name: str, ch: str | None = None) -> dict[str, Any]:
    return {
        "member_supplier_id": member_supplier_id,
        "name": name,
        "companies_house_number": ch,
        "vat_number": None,
        "duns": None,
        "ppon": None,
    }


def contract_view(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in {"event_id", "published_at", "member_id"}}


def assert_all_valid(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, Mapped):
            check_supported(validate_event(outcome.family, outcome.event))


# --- real Contracts Finder notices -----------------------------------------------------------


def test_lancashire_police_goggles_two_suppliers_share_the_award() -> None:
    out = run(LANCASHIRE)
    assert errors(out) == []
    ocid = "ocds-b5fd17raw-18064b23-7b04-4530-8519-587a69fc2282"
    award = f"{ocid}/d136a59c-8394-4162-aa12-e3764499b05a"
    version = version_of("2020-04-03T00:00:00+00:00", 1)
    common = {
        "source_system": "contracts-finder",
        "entity_version": version,
        "occurred_at": "2020-04-03T00:00:00.000Z",
        "status": "ACTIVE",
        "title": "Goggles - PPE - COVID",  # the award's title is "": the tender's is used
        "classification": {"scheme": "CPV", "code": "33735100"},
        "start_date": "2020-05-22",
        "end_date": "2020-06-21",
        "max_extent_date": None,
        "currency": "GBP",
        "framework_ref": None,
        "ocid": ocid,
    }
    assert [contract_view(e) for e in mapped(out, "contract")] == [
        {**common, "entity_id": f"{award}/1", "value": "488000.00",
         "supplier": ref("NAME:oxford safety supplies", "Oxford Safety Supplies")},
        {**common, "entity_id": f"{award}/2", "value": "488000.00",
         "supplier": ref("NAME:cid products", "CID Products")},
    ]  # fmt: skip
    oxford, cid = mapped(out, "supplier")
    assert (oxford["entity_id"], oxford["legal_name"], oxford["postcode"]) == (
        "NAME:oxford safety supplies",
        "Oxford Safety Supplies",
        "OX11 7WB",  # from the street address; postalCode is ""
    )
    assert (oxford["sme"], oxford["vcse"], oxford["status"]) == (True, False, "ACTIVE")
    assert (cid["entity_id"], cid["postcode"], cid["sme"]) == ("NAME:cid products", None, True)
    assert oxford["entity_version"] == version
    assert_all_valid(out)


def test_lancashire_first_supplier_mode_keeps_the_whole_value() -> None:
    [contract] = mapped(run(LANCASHIRE, multi_supplier="first"), "contract")
    assert contract["entity_id"].endswith("/d136a59c-8394-4162-aa12-e3764499b05a")
    assert (contract["value"], contract["supplier"]["name"]) == ("976000.00", "Oxford Safety Supplies")


def test_mopac_title_entities_are_unescaped() -> None:
    out = run(MOPAC)
    assert errors(out) == []
    redthread, st_giles = mapped(out, "contract")
    title = "GLA81404 For Embedded Youth Work Hospital Accident & Emergency (A&E) Service"
    for contract in (redthread, st_giles):
        assert contract["title"] == title
        assert contract["classification"] == {"scheme": "CPV", "code": "98000000"}
        assert (contract["start_date"], contract["end_date"]) == ("2020-04-01", "2022-03-31")  # award period
        assert contract["value"] == "1247422.00"  # 2,494,844 shared by two suppliers
    assert redthread["supplier"] == ref("NAME:redthread youth", "Redthread Youth Ltd")
    assert st_giles["supplier"] == ref("NAME:st giles trust", "St Giles Trust")
    suppliers = {s["legal_name"]: (s["postcode"], s["sme"], s["vcse"]) for s in mapped(out, "supplier")}
    assert suppliers == {
        "Redthread Youth Ltd": ("SW1W 9TR", False, False),
        "St Giles Trust": ("SE5 8JB", True, False),
    }
    assert_all_valid(out)


def test_nw_ambulance_zero_value_and_a_companies_house_supplier() -> None:
    out = run(NWAS)
    assert errors(out) == []
    tuke, acton = mapped(out, "contract")
    assert tuke["value"] == acton["value"] == "0.00"  # the award value is 0: mapped as published
    assert tuke["title"] == "Broughton Sewage Treatment Plant Upgrade"
    assert tuke["classification"] == {"scheme": "CPV", "code": "45252100"}
    assert (tuke["start_date"], tuke["end_date"]) == ("2020-02-10", "2020-03-31")
    assert tuke["supplier"] == ref("GB-COH-00125585", "TUKE AND BELL LIMITED", ch="00125585")
    assert acton["supplier"] == ref("NAME:acton group nw", "Acton Group NW Limited")
    suppliers = {s["entity_id"]: s for s in mapped(out, "supplier")}
    assert suppliers["GB-COH-00125585"]["companies_house_number"] == "00125585"
    assert suppliers["GB-COH-00125585"]["postcode"] == "WS10 7XD"
    assert suppliers["NAME:acton group nw"]["postcode"] == "PR4 0XQ"
    assert_all_valid(out)


def test_wiltshire_fire_framework_call_off() -> None:
    out = run(WILTSHIRE)
    assert errors(out) == []
    [contract] = mapped(out, "contract")
    assert contract_view(contract) == {
        "source_system": "contracts-finder",
        # the award id already starts with the ocid, so it is the entity id as it stands
        "entity_id": "ocds-b5fd17-75fdf74e-7aa6-42fe-8132-9793ae1553a7-1",
        "entity_version": version_of("2025-01-23T16:52:00+00:00", 1),
        "occurred_at": "2025-01-23T16:52:00.000Z",
        "status": "ACTIVE",
        "title": "2024 Tranman Fleet Management System",
        "classification": {"scheme": "CPV", "code": "48000000"},  # tender.classification (items have none)
        # "2024-08-12T00:00:00+01:00" is 12 August where it was written (11 August in UTC)
        "start_date": "2024-08-12",
        "end_date": "2027-08-11",
        "max_extent_date": None,
        "value": "173920.00",
        "currency": "GBP",
        "framework_ref": "RM6194",  # "Call-off from a framework agreement" + CCS number in the description
        "ocid": "ocds-b5fd17-75fdf74e-7aa6-42fe-8132-9793ae1553a7",
        "supplier": ref("GB-COH-01628868", "Civica Uk Ltd", ch="01628868"),
    }
    [supplier] = mapped(out, "supplier")
    assert supplier["companies_house_number"] == "01628868"
    assert (supplier["sme"], supplier["vcse"]) == (False, False)  # details.scale "large", details.vcse false
    assert supplier["postcode"] is None  # "2 Burston Road,nLONDONnSW15 6ARnGB": not guessed
    assert_all_valid(out)


def test_bedfordshire_pcc_award() -> None:
    out = run(BEDFORDSHIRE)
    assert errors(out) == []
    [contract] = mapped(out, "contract")
    assert contract["entity_id"] == "ocds-b5fd17-070f4662-2e9c-40b0-8fa4-4b435f3ccae4-1"
    assert (
        contract["title"]
        == "Domestic Abuse Independent Advocate (IDVA) and Programme of Therapeutic Response"
    )
    assert contract["classification"] == {"scheme": "CPV", "code": "98000000"}
    assert (contract["start_date"], contract["end_date"]) == ("2025-04-01", "2028-03-31")
    assert (contract["value"], contract["currency"]) == ("1018044.14", "GBP")
    assert contract["supplier"] == ref("GB-CFS-307549", "One YMCA")
    [supplier] = mapped(out, "supplier")
    assert supplier["entity_id"] == "GB-CFS-307549"
    assert supplier["postcode"] == "MK41 9HU"
    # scale "large" -> not an SME; tender.suitability {sme, vcse} is about the lot, not this supplier
    assert (supplier["sme"], supplier["vcse"]) == (False, None)
    assert_all_valid(out)


# --- the OCDS sample process: six releases, and the same as a record --------------------------


def test_sample_spreadsheet_companies_house_number_is_refused_naming_field_and_value() -> None:
    out = run(SAMPLE)
    assert [o for o in out if isinstance(o, Mapped)] == []
    supplier_error, contract_error = errors(out)
    for error in (supplier_error, contract_error):
        assert error.column == "parties[id=GB-COH-11111111].identifier.id"
        assert "Companies House number '11111111.0' rejected" in error.reason
    assert "supplier event for party 'GB-COH-11111111' not mapped" in supplier_error.reason
    assert "contract ocds-213czf-000-00001-award-01 not mapped" in contract_error.reason


@pytest.fixture
def sample_fixed(tmp_path: Path) -> tuple[Path, Path]:
    """The sample package and record with the supplier's number as text, as a partner would fix it."""
    paths = []
    for source in (SAMPLE, SAMPLE_RECORD):
        path = tmp_path / source.name
        path.write_text(
            source.read_text(encoding="utf-8").replace('"11111111.0"', '"11111111"'), encoding="utf-8"
        )
        paths.append(path)
    return paths[0], paths[1]


def test_sample_process_compiles_to_its_contract(sample_fixed: tuple[Path, Path]) -> None:
    package, _ = sample_fixed
    out = run(package)
    assert errors(out) == []
    [contract] = mapped(out, "contract")
    assert contract_view(contract) == {
        "source_system": "ocds",
        "entity_id": "ocds-213czf-000-00001-award-01",
        "entity_version": version_of("2011-01-10T09:30:00+00:00", 6),
        "occurred_at": "2011-01-10T09:30:00.000Z",
        "status": "ACTIVE",
        "title": "Contract to build new cycle lanes in the centre of town.",  # the contract's title
        "classification": {"scheme": "CPV", "code": "45233130"},  # "45233130.0" float artefact repaired
        "start_date": "2010-07-01",
        "end_date": "2011-06-30",
        "max_extent_date": "2011-12-31",
        "value": "11000000.00",
        "currency": "GBP",
        "framework_ref": None,
        "ocid": "ocds-213czf-000-00001",
        "supplier": ref("GB-COH-11111111", "AnyCorp Ltd", ch="11111111"),
    }
    [supplier] = mapped(out, "supplier")  # Beta Corp was a tenderer only
    assert (supplier["legal_name"], supplier["postcode"], supplier["sme"]) == ("AnyCorp Ltd", "AA1 1AA", None)
    assert_all_valid(out)


def test_a_record_package_gives_the_same_events_as_its_releases(sample_fixed: tuple[Path, Path]) -> None:
    package, record = sample_fixed
    from_releases = [contract_view(e) | {"id": e["event_id"]} for e in mapped(run(package), "contract")]
    from_record = [contract_view(e) | {"id": e["event_id"]} for e in mapped(run(record), "contract")]
    assert from_record == from_releases


def test_releases_met_in_separate_runs_are_compiled_together(
    sample_fixed: tuple[Path, Path], tmp_path: Path
) -> None:
    package, _ = sample_fixed
    releases = json.loads(package.read_text(encoding="utf-8"))["releases"]
    early, late = tmp_path / "early.json", tmp_path / "late.json"
    early.write_text(json.dumps({"releases": releases[:4]}), encoding="utf-8")
    late.write_text(json.dumps({"releases": releases[4:]}), encoding="utf-8")
    state = tmp_path / "state"

    [award_only] = mapped(run(early, state_dir=str(state)), "contract")
    assert award_only["entity_id"] == "ocds-213czf-000-00001-award-01"
    assert award_only["entity_version"] == version_of("2010-05-10T09:30:00+00:00", 4)
    assert award_only["title"] == "Award of contract to build new cycle lanes in the centre of town."
    assert award_only["value"] == "11000000.00"

    [full] = mapped(run(late, state_dir=str(state)), "contract")
    assert full["entity_id"] == award_only["entity_id"]  # the contract object did not change the entity
    assert full["entity_version"] == version_of("2011-01-10T09:30:00+00:00", 6)
    assert full["title"] == "Contract to build new cycle lanes in the centre of town."
    [one_shot] = mapped(run(package), "contract")
    assert contract_view(full) == contract_view(one_shot)
    assert full["event_id"] == one_shot["event_id"]
    assert list((state / "ocds" / MEMBER).glob("*.json"))


def test_a_dry_run_does_not_write_the_process_memory(sample_fixed: tuple[Path, Path], tmp_path: Path) -> None:
    package, _ = sample_fixed
    assert mapped(run(package, state_dir=str(tmp_path), dry_run=True), "contract")
    assert not (tmp_path / "ocds").exists()


# --- fallbacks and dirty data (synthetic releases) ------------------------------------------


def one_release(tmp_path: Path, **award: Any) -> Path:
    body = {
        "ocid": "ocds-h6vhtk-000001",
        "id": "r1",
        "date": "2025-06-01T12:00:00Z",
        "tag": ["award"],
        "initiationType": "tender",
        "tender": {"id": "t", "title": "Body armour â€“ Lot 1 &amp; Lot 2",
                   "procurementMethodDetails": "Open"},
        "parties": [
            {"id": "GB-COH-SC123456", "name": "Armour Co", "roles": ["supplier"],
             "identifier": {"scheme": "GB-COH", "id": "sc123456", "legalName": "Armour Company Ltd"},
             "additionalIdentifiers": [{"scheme": "GB-VAT", "id": "GB 987 6543 21"}],
             "address": {"postalCode": "eh1 1aa"}},
            {"id": "GB-PPON-PBCP-5168-ZDGP", "name": "Plates Ltd", "roles": ["supplier"],
             "identifier": {"scheme": "GB-PPON", "id": "PBCP-5168-ZDGP"}},
        ],
        "awards": [{"id": "a1", "status": "active", "value": {"amount": 100.01, "currency": "GBP"},
                    "suppliers": [{"id": "GB-COH-SC123456"}, {"id": "GB-PPON-PBCP-5168-ZDGP"}], **award}],
    }  # fmt: skip
    path = tmp_path / "release.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_find_a_tender_identifiers_odd_penny_split_and_a_repaired_title(tmp_path: Path) -> None:
    out = run(one_release(tmp_path, contractPeriod={"startDate": "2025-07-01", "endDate": "2026-06-30"}))
    assert errors(out) == []
    armour, plates = mapped(out, "contract")
    assert armour["source_system"] == "find-a-tender"
    assert armour["title"] == "Body armour – Lot 1 & Lot 2"  # mojibake and entity repaired
    assert (armour["value"], plates["value"]) == ("50.01", "50.00")  # 100.01 shared, odd penny first
    assert armour["entity_id"] == "ocds-h6vhtk-000001/a1/GB-COH-SC123456"
    assert armour["supplier"] == {
        "member_supplier_id": "GB-COH-SC123456",
        "name": "Armour Company Ltd",
        "companies_house_number": "SC123456",
        "vat_number": "GB987654321",
        "duns": None,
        "ppon": None,
    }
    assert plates["supplier"]["member_supplier_id"] == "GB-PPON-PBCP-5168-ZDGP"
    assert plates["supplier"]["ppon"] == "PBCP-5168-ZDGP"
    assert armour["classification"] == {"scheme": "LOCAL", "code": "UNCLASSIFIED"}  # nothing classified
    suppliers = {s["entity_id"]: s for s in mapped(out, "supplier")}
    assert suppliers["GB-COH-SC123456"]["postcode"] == "EH1 1AA"
    assert_all_valid(out)


def test_an_end_date_is_derived_from_duration_in_days(tmp_path: Path) -> None:
    out = run(
        one_release(tmp_path, contractPeriod={"startDate": "2025-07-01T00:00:00Z", "durationInDays": 365})
    )
    assert {c["end_date"] for c in mapped(out, "contract")} == {"2026-07-01"}


def test_a_contract_without_an_end_date_is_a_row_error(tmp_path: Path) -> None:
    out = run(one_release(tmp_path, contractPeriod={"startDate": "2025-07-01"}))
    assert mapped(out, "contract") == []
    assert len(mapped(out, "supplier")) == 2  # the suppliers are still mapped
    [error] = errors(out)  # one per award, not per supplier
    assert error.column == "contracts[].period.endDate"
    assert "contract ocds-h6vhtk-000001/a1: no end date" in error.reason


def test_a_later_release_raises_the_version(tmp_path: Path) -> None:
    first = run(one_release(tmp_path, contractPeriod={"startDate": "2025-07-01", "endDate": "2026-06-30"}))
    body = json.loads((tmp_path / "release.json").read_text())
    update = {"ocid": body["ocid"], "id": "r2", "date": "2025-06-02T09:00:00Z", "tag": ["awardUpdate"],
              "awards": [{"id": "a1", "contractPeriod": {"endDate": "2027-06-30"}}]}  # fmt: skip
    (tmp_path / "update.json").write_text(json.dumps(update), encoding="utf-8")
    second = run(tmp_path / "release.json", tmp_path / "update.json")
    before, after = mapped(first, "contract")[0], mapped(second, "contract")[0]
    assert after["entity_version"] > before["entity_version"]
    assert (before["end_date"], after["end_date"]) == ("2026-06-30", "2027-06-30")


def test_bad_files_and_undated_releases_are_row_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"releases": [', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"hello": "world"}', encoding="utf-8")
    (tmp_path / "undated.json").write_text(
        json.dumps({"releases": [{"ocid": "ocds-x-1", "id": "r0", "tag": ["tender"]}]}), encoding="utf-8"
    )
    out = run(tmp_path / "broken.json", tmp_path / "other.json", tmp_path / "undated.json", WILTSHIRE)
    broken, other, undated = errors(out)
    assert broken.reason.startswith("not valid JSON (line 1, column")
    assert other.reason == "not an OCDS release, record, release package or record package"
    assert undated.column == "date"
    assert "release 'r0' of 'ocds-x-1' has no date" in undated.reason
    assert len(mapped(out, "contract")) == 1  # Wiltshire still maps


def test_hostile_json_files_are_row_errors_not_crashes(tmp_path: Path) -> None:
    """The contract's bounded JSON reader: a huge number, runaway nesting, a duplicate key, NaN."""
    bodies = {
        "huge.json": b'{"releases": [{"ocid": "ocds-x-1", "value": ' + b"9" * 5_000 + b"}]}",
        "deep.json": b'{"releases": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "twice.json": b'{"releases": [], "releases": []}',
        "nan.json": b'{"releases": [{"ocid": "ocds-x-1", "value": NaN}]}',
    }
    for name, body in bodies.items():
        (tmp_path / name).write_bytes(body)
    out = run(*(tmp_path / name for name in bodies), WILTSHIRE)
    reasons = [e.reason for e in errors(out)]
    assert len(reasons) == 4 and all(r.startswith("not valid JSON") for r in reasons), reasons
    assert len(mapped(out, "contract")) == 1  # Wiltshire still maps
