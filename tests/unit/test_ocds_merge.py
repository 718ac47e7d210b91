"""The OCDS merge routine, the text repairs and the CPV normaliser the OCDS adapter relies on."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.ocds.clean import clean_text, repair_mojibake, uk_postcode, unescape_entities
from adapters.ocds.cpv import normalise_cpv
from adapters.ocds.merge import MergeError, compile_releases

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ocds"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def release(rid: str, date: str, **fields: Any) -> dict[str, Any]:
    return {"ocid": "ocds-test-1", "id": rid, "date": date, "tag": ["tender"], **fields}


# --- merge ---------------------------------------------------------------------------------


def test_compiling_the_sample_releases_gives_the_published_compiled_release() -> None:
    releases = load("sample-data_1.1_ocds-213czf-000-00001.json")["releases"]
    expected = load("sample-data_1.1_record_ocds-213czf-000-00001.json")["records"][0]["compiledRelease"]
    assert compile_releases(releases) == expected


def test_release_order_is_by_date_not_by_input() -> None:
    releases = load("sample-data_1.1_ocds-213czf-000-00001.json")["releases"]
    shuffled = [releases[i] for i in (5, 2, 0, 4, 1, 3)]
    assert compile_releases(shuffled) == compile_releases(releases)


def test_compiling_does_not_change_its_input() -> None:
    releases = load("sample-data_1.1_ocds-213czf-000-00001.json")["releases"]
    before = copy.deepcopy(releases)
    compiled = compile_releases(releases)
    compiled["awards"][0]["title"] = "changed"
    assert releases == before


def test_merge_rules() -> None:
    first = release(
        "1",
        "2024-01-01T00:00:00Z",
        tender={"id": "T", "title": "Old", "status": "active", "items": [{"id": "i1", "quantity": 1}]},
        parties=[
            {"id": "p1", "name": "A", "roles": ["supplier", "tenderer"],
             "additionalIdentifiers": [{"scheme": "GB-VAT", "id": "GB1"}, {"scheme": "X", "id": "2"}]},
        ],
        awards=[{"id": "a1", "suppliers": [{"id": "p1", "name": "A"}],
                 "value": {"amount": 5, "currency": "GBP"}}],
    )  # fmt: skip
    second = release(
        "2",
        "2024-02-01T00:00:00Z",
        tender={
            "title": "New",
            "status": None,
            "items": [{"id": "i2", "quantity": 3}, {"id": "i1", "quantity": 2}],
        },
        parties=[
            {"id": "p1", "roles": ["supplier"], "additionalIdentifiers": [{"scheme": "GB-VAT", "id": "GB9"}]}
        ],
        awards=[{"id": "a1", "value": {"amount": 7}}],
    )
    compiled = compile_releases([second, first])
    assert compiled["tag"] == ["compiled"]
    assert compiled["date"] == "2024-02-01T00:00:00Z"
    assert compiled["id"] == "ocds-test-1-2024-02-01T00:00:00Z"
    assert compiled["tender"] == {
        "id": "T",  # kept from the first release
        "title": "New",  # literal replaced
        # status: null removed it
        "items": [{"id": "i1", "quantity": 2}, {"id": "i2", "quantity": 3}],  # merged by id, new one appended
    }
    party = compiled["parties"][0]
    assert party["name"] == "A"
    assert party["roles"] == ["supplier"]  # an array of strings is replaced whole
    assert party["additionalIdentifiers"] == [{"scheme": "GB-VAT", "id": "GB9"}]  # wholeListMerge
    assert compiled["awards"] == [
        {"id": "a1", "suppliers": [{"id": "p1", "name": "A"}], "value": {"amount": 7, "currency": "GBP"}}
    ]


def test_objects_without_ids_replace_the_array() -> None:
    first = release(
        "1", "2024-01-01", tender={"id": "T", "items": [{"id": "1", "deliveryAddresses": [{"x": 1}]}]}
    )
    second = release("2", "2024-01-02", tender={"items": [{"id": "1", "deliveryAddresses": [{"y": 2}]}]})
    compiled = compile_releases([first, second])
    assert compiled["tender"]["items"] == [{"id": "1", "deliveryAddresses": [{"y": 2}]}]


def test_a_compiled_release_is_a_base_for_newer_releases() -> None:
    base = compile_releases([release("1", "2024-01-01T00:00:00Z", tender={"id": "T", "title": "A"})])
    compiled = compile_releases([release("2", "2024-03-01T00:00:00Z", tender={"title": "B"})], base)
    assert compiled["tender"] == {"id": "T", "title": "B"}
    assert compiled["date"] == "2024-03-01T00:00:00Z"


def test_a_release_without_a_date_cannot_be_ordered() -> None:
    with pytest.raises(MergeError, match="has no date"):
        compile_releases([{"ocid": "ocds-test-1", "id": "x", "tag": ["tender"]}])


# --- text repairs --------------------------------------------------------------------------


def test_html_entities_are_unescaped_whole_tokens_only() -> None:
    assert unescape_entities("Accident &amp; Emergency (A&amp;E)") == "Accident & Emergency (A&E)"
    assert unescape_entities("Fish &amp;amp; Chips") == "Fish & Chips"  # escaped twice
    assert unescape_entities("caf&#233; &#x2022;") == "café •"
    assert unescape_entities("AT&T & M&S") == "AT&T & M&S"  # no complete entity: untouched


def test_mojibake_is_repaired_only_where_the_bytes_prove_it() -> None:
    assert repair_mojibake("\u00e2\u20ac\u00a2 item") == "• item"
    assert repair_mojibake("CafÃ© Ã\u00a0la carte") == "Café àla carte"  # à is C3 A0: Ã + no-break space
    assert repair_mojibake("£500 for the café, naïve") == "£500 for the café, naïve"  # real text: untouched
    assert repair_mojibake("Â£500") == "£500"


def test_the_bedfordshire_description_loses_its_mojibake_but_keeps_its_rn() -> None:
    description = load("cf2025_bedfordshire_pcc_award_Release44.json")["tender"]["description"]
    assert "â€¢" in description
    cleaned = clean_text(description)
    assert "â€" not in cleaned
    assert cleaned.count("•") == 4
    # The literal "rn" artefacts are not provably artefacts ("Government", "modern"): left alone.
    assert "pathway.rn•tVictims" in cleaned


def test_clean_text_collapses_whitespace_and_leaves_words_alone() -> None:
    assert clean_text("  Government\r\n  modern\tsoftware  ") == "Government modern software"
    assert clean_text("SoftwarernrnContract") == "SoftwarernrnContract"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Olympic House\r\nSouthmead Park\r\nDidcot\r\nOX11 7WB", "OX11 7WB"),
        ("158 Buckingham Palace Road, London SW1W 9TR", "SW1W 9TR"),
        ("Patent Drive\nWS10 7XD\nGB", "WS10 7XD"),
        ("PR45SB", "PR4 5SB"),
        ("Unit 10 Peckfield Business Park\r\nPheonix Ave\r\nLeeds", None),
        ("2 Burston Road,nLONDONnSW15 6ARnGB", None),  # glued to the "n" artefacts: not guessed
    ],
)
def test_uk_postcodes(raw: str, expected: str | None) -> None:
    assert uk_postcode(raw) == expected


# --- CPV -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("33735100", "33735100"), ("45233162-2", "45233162"), ("45233130.0", "45233130"),
     ("3000000.0", "03000000"), (" 48000000 ", "48000000")],
)  # fmt: skip
def test_cpv_codes_become_eight_digits(raw: str, expected: str) -> None:
    assert normalise_cpv(raw) == expected


@pytest.mark.parametrize("raw", ["4523313", "45233130.5", "CPV-45233130", "452331300"])
def test_what_is_not_a_cpv_code_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a CPV code"):
        normalise_cpv(raw)
