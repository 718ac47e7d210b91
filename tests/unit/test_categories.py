"""The national taxonomy and the code -> category mapping (streams/categories.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.models import ClassificationScheme
from streams import categories as cat
from streams.categories import (
    InvalidCode,
    ReferenceDataError,
    UnknownScheme,
    cpv_code8,
    load_reference,
    map_classification,
)

# --- CPV normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("33735100", "33735100"),
        ("33735100-7", "33735100"),
        ("337351007", "33735100"),
        ("  09134200-5 ", "09134200"),
    ],
)
def test_cpv_code8_accepts_the_three_forms(raw: str, expected: str) -> None:
    assert cpv_code8(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("3373510", "7 digits"),  # a lost leading zero is not guessed back
        ("33735100.0", "not digits"),
        ("3373510X", "not digits"),
        ("33735100-77", "single check digit"),
        ("33735100-", "single check digit"),
        ("3373510-7", "7 digits"),
        ("", "blank"),
        ("3373510000", "10 digits"),
        ("３３７３５１００", "not digits"),  # full-width digits are not ASCII
    ],
)
def test_cpv_code8_rejects_with_a_reason(raw: str, says: str) -> None:
    with pytest.raises(InvalidCode, match=says):
        cpv_code8(raw)


def test_normalise_code_for_price_keys() -> None:
    assert cat.normalise_code("CPV", "35815100-1") == "35815100"
    assert cat.normalise_code("ECLASS", "19-01-01-01") == "19010101"
    assert cat.normalise_code("UNSPSC", " 43211503 ") == "43211503"
    assert cat.normalise_code("LOCAL", " mg-fleet ") == "MG-FLEET"


# --- mapping: the shipped reference data -----------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "code", "category", "prefix"),
    [
        ("CPV", "35815100-1", "body-armour", "35815"),  # narrow rule beats its class and division
        ("CPV", "35811200", "uniforms", "3581"),
        ("CPV", "35813000", "ppe", "35813"),
        ("CPV", "35110000", "fire-equipment", "3511"),
        ("CPV", "35113400", "ppe", "35113"),
        ("CPV", "35300000", "weapons-ammunition", "353"),
        ("CPV", "35000000", "operational-equipment", "35"),
        ("CPV", "34144213", "fire-appliances", "3414421"),
        ("CPV", "34114200", "fleet-vehicles", "34"),
        ("CPV", "50112000", "fleet-vehicles", "501"),
        ("CPV", "50700000", "estates-fm", "50"),
        ("CPV", "33735100", "ppe", "33735"),
        ("CPV", "33140000", "medical", "33"),
        ("CPV", "75231220", "custody-detention", "752312"),
        ("CPV", "79110000", "legal", "791"),
        ("CPV", "79993100", "estates-fm", "79993"),
        ("CPV", "09134200", "energy-fuel", "09"),
        ("CPV", "98380000", "animals", "9838"),
        ("UNSPSC", "43191510", "communications-radio", "4319"),
        ("UNSPSC", "43211503", "ict-hardware", "43"),
        ("UNSPSC", "84131500", "insurance", "8413"),
        ("ECLASS", "19-03-01-01", "ict-hardware", "19"),
    ],
)
def test_longest_prefix_decides(scheme: str, code: str, category: str, prefix: str) -> None:
    match = map_classification(scheme, code)
    assert match.category == category
    assert match.classified
    assert f"{scheme} prefix {prefix} (" in match.rule
    assert f"→ {category} (reference v{load_reference().version})" in match.rule
    assert match.name == cat.category_name(category)


def test_every_cpv_division_has_a_home() -> None:
    divisions = "03 09 14 15 16 18 19 22 24 30 31 32 33 34 35 37 38 39 41 42 43 44 45 48 50 51 55 60 63 64 65 66 70 71 72 73 75 76 77 79 80 85 90 92 98"  # noqa: E501
    for division in divisions.split():
        assert map_classification("CPV", division + "000000").classified, division


@pytest.mark.parametrize(
    ("scheme", "code", "member", "why"),
    [
        ("CPV", "99999999", None, "no CPV rule matches 99999999"),
        ("CPV", "33735100.0", None, "not digits"),
        ("UNSPSC", "4321-1503", None, "expected 2 to 10 digits"),
        ("ECLASS", "36010101", None, "no ECLASS rule matches 36010101"),
        ("ECLASS", "0173-1#01-AAA123#005", None, "ECLASS code"),
        ("LOCAL", "MG-FLEET", None, "without the member"),
        ("LOCAL", "MG-FLEET", "essex-police", "no LOCAL map for member essex-police"),
        ("LOCAL", "MG-NOPE", "kent-police", "no rule in kent-police map v1 matches LOCAL code MG-NOPE"),
        ("LOCAL", "   ", "kent-police", "blank"),
    ],
)
def test_what_maps_nowhere_is_unclassified_with_the_reason(
    scheme: str, code: str, member: str | None, why: str
) -> None:
    match = map_classification(scheme, code, member)
    assert match.category == "unclassified"
    assert not match.classified
    assert match.name == "Unclassified"
    assert why in match.rule
    assert match.rule.endswith("→ unclassified") or "→ unclassified (" in match.rule


def test_local_codes_exact_then_longest_prefix_ignoring_case() -> None:
    exact = map_classification("LOCAL", " mg-custhealth ", "kent-police")
    assert exact.category == "custody-detention"
    assert exact.rule.startswith("LOCAL kent-police:MG-CUSTHEALTH (")
    assert exact.rule.endswith("(kent-police map v1)")
    longer = map_classification("LOCAL", "FLEET.APPLIANCE.PUMP", "london-fire")
    assert longer.category == "fire-appliances"
    assert "prefix FLEET.APPLIANCE. (" in longer.rule
    shorter = map_classification("LOCAL", "fleet.veh.van", "london-fire")
    assert shorter.category == "fleet-vehicles"
    # an exact code beats a prefix that also matches it
    assert map_classification("LOCAL", "FLEET.FUELCARD", "london-fire").category == "energy-fuel"


def test_the_same_local_code_means_different_things_to_different_members() -> None:
    assert map_classification("LOCAL", "MG-FLEET", "kent-police").category == "fleet-vehicles"
    assert map_classification("LOCAL", "MG-FLEET", "london-fire").category == "unclassified"


def test_scheme_accepts_the_model_enum_and_any_case() -> None:
    assert map_classification(ClassificationScheme.CPV, "35815100").category == "body-armour"
    assert map_classification("cpv", "35815100").category == "body-armour"


def test_unknown_scheme_is_an_error_not_unclassified() -> None:
    with pytest.raises(UnknownScheme, match="NAICS.*CPV, UNSPSC, ECLASS, LOCAL"):
        map_classification("NAICS", "339113")


def test_categories_listing() -> None:
    listed = cat.list_categories()
    ids = [c.id for c in listed]
    assert ids[-1] == "unclassified"
    assert len(ids) == len(set(ids))
    for required in (
        "fleet-vehicles",
        "fire-equipment",
        "body-armour",
        "ict-software",
        "forensic-services",
        "custody-detention",
        "estates-fm",
        "animals",
        "laboratory",
    ):
        assert required in ids
    assert all(c.name and c.description for c in listed)
    with pytest.raises(KeyError, match="no-such"):
        cat.category_name("no-such")


def test_every_category_is_reachable_from_some_rule() -> None:
    ref = load_reference()
    targets = {r.category for rules in ref.schemes.values() for r in rules.values()}
    targets |= {r.category for m in ref.local.values() for r in (*m.codes.values(), *m.prefixes.values())}
    assert set(ref.categories) - targets == {"unclassified"}


# --- a property: the lookup is exactly "the longest key that prefixes the code" ----------------


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.integers(0, 9))
def test_cpv_lookup_is_the_longest_matching_prefix(code: str, check: int) -> None:
    rules = load_reference().schemes["CPV"]
    candidates = [key for key in rules if code.startswith(key)]
    match = map_classification("CPV", code)
    if not candidates:
        assert match.category == "unclassified"
    else:
        best = max(candidates, key=len)
        assert match.category == rules[best].category
        assert f"prefix {best} (" in match.rule
    # the check digit never changes the answer, in either spelling
    assert map_classification("CPV", f"{code}-{check}") == match
    assert map_classification("CPV", f"{code}{check}") == match


# --- loading: parse once, and refuse inconsistent data --------------------------------------


def test_reference_is_parsed_once_and_cached() -> None:
    assert load_reference() is load_reference()
    assert load_reference() is load_reference(cat.REFERENCE_DIR)


@pytest.fixture
def ref_copy(tmp_path: Path) -> Path:
    target = tmp_path / "reference"
    shutil.copytree(cat.REFERENCE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_copy_loads_and_a_changed_rule_takes_effect(ref_copy: Path) -> None:
    _edit(ref_copy / "cpv.yaml", '"35815": [body-armour,', '"35815": [ppe,')
    ref = load_reference(ref_copy)
    assert map_classification("CPV", "35815100", reference=ref).category == "ppe"
    assert map_classification("CPV", "35815100").category == "body-armour"  # the shipped data is untouched


@pytest.mark.parametrize(
    ("file", "old", "new", "says"),
    [
        ("cpv.yaml", '"35815": [body-armour,', '"35815": [body-armor,', "unknown category 'body-armor'"),
        ("cpv.yaml", '"03": [miscellaneous,', "03: [miscellaneous,", "keys must be quoted"),
        ("cpv.yaml", '"9838": [animals,', '"9831": [animals,', "appears twice"),
        ("cpv.yaml", '"157": [animals,', '"15x": [animals,', "a CPV prefix is 2 to 8 digits"),
        ("cpv.yaml", '"157": [animals, "Animal feedstuffs"]', '"157": animals', r"expected \[category-id"),
        (
            "cpv.yaml",
            "version: 1\nchangelog:\n  - version: 1",
            "version: 2\nchangelog:\n  - version: 2",
            "taxonomy.yaml is version 1",
        ),
        ("taxonomy.yaml", "version: 1\n", "version: 2\n", "version 2 has no changelog entry"),
        (
            "taxonomy.yaml",
            "  - id: unclassified\n",
            "  - id: unclassified-x\n",
            "must include 'unclassified'",
        ),
        ("taxonomy.yaml", "  - id: legal\n", "  - id: Legal Services\n", "not a slug"),
        ("unspsc.yaml", "version: 1\n", "version: one\n", "whole number"),
        ("local/kent-police.yaml", "member: kent-police", "member: essex-police", "named for 'kent-police'"),
        ("local/kent-police.yaml", "  MG-DOGS:", "  mg-fleet:", "same code as 'MG-FLEET'"),
        ("local/london-fire.yaml", "  OPS.: [fire-equipment,", "  OPS.: [fire-kit,", "unknown category"),
    ],
)
def test_inconsistent_reference_data_is_refused_naming_the_file(
    ref_copy: Path, file: str, old: str, new: str, says: str
) -> None:
    _edit(ref_copy / file, old, new)
    with pytest.raises(ReferenceDataError, match=says) as caught:
        load_reference(ref_copy)
    assert Path(file).name in str(caught.value)


def test_a_missing_file_is_named(ref_copy: Path) -> None:
    (ref_copy / "eclass.yaml").unlink()
    with pytest.raises(ReferenceDataError, match=r"eclass\.yaml: missing"):
        load_reference(ref_copy)


def test_clear_cache_rereads(ref_copy: Path) -> None:
    first = load_reference(ref_copy)
    _edit(ref_copy / "cpv.yaml", '"35815": [body-armour,', '"35815": [ppe,')
    assert load_reference(ref_copy) is first  # cached: the edit is not seen
    cat.clear_reference_cache()
    assert map_classification("CPV", "35815100", reference=load_reference(ref_copy)).category == "ppe"


def test_the_docs_list_every_category() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "categories.md").read_text(encoding="utf-8")
    for c in cat.list_categories():
        assert f"| `{c.id}` | {c.name} |" in docs, c.id
