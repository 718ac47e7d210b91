"""The national supplier key rules of events.md, as tables."""

from __future__ import annotations

import pytest

from schemas.identity import (
    clean_vat,
    national_supplier_key,
    normalise_companies_house,
    normalise_duns,
    normalise_name,
    normalise_vat,
    supplier_key,
    vat_key,
)
from schemas.models import SupplierRef


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567", "01234567"),
        ("01234567", "01234567"),
        ("12345678", "12345678"),
        ("1", "00000001"),
        (" 1234567 ", "01234567"),
        ("sc123456", "SC123456"),
        ("SC123456", "SC123456"),
        ("sc12345", "SC012345"),
        ("NI 012345", "NI012345"),
        ("oc300001", "OC300001"),
    ],
)
def test_companies_house_normalised(raw: str, expected: str) -> None:
    assert normalise_companies_house(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("11111111.0", "spreadsheet"),
        ("1234567.0", "spreadsheet"),
        ("1.2345678E+7", "spreadsheet"),
        ("123456789", "up to 8 digits"),
        ("SC1234567", "two letters and up to 6 digits"),
        ("S1234567", "up to 8 digits"),
        ("00000000", "all zeros"),
        ("", "up to 8 digits"),
        ("ACME", "up to 8 digits"),
        ("12-345-678", "up to 8 digits"),
    ],
)
def test_companies_house_malformed_is_an_error_that_says_why(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match="Companies House number") as caught:
        normalise_companies_house(raw)
    assert why in str(caught.value)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GB 123 4567 89", "GB123456789"),
        ("GB123456789", "GB123456789"),
        ("gb123456789", "GB123456789"),
        ("123456789", "GB123456789"),
        ("123-456-789", "GB123456789"),
        ("GB 123.4567.89", "GB123456789"),
        ("GB123456789001", "GB123456789"),  # branch trader: the registration is the first 9
    ],
)
def test_uk_vat_normalised(raw: str, expected: str) -> None:
    assert normalise_vat(raw) == expected
    assert vat_key(raw) == expected


@pytest.mark.parametrize("raw", ["GB12345678", "GB1234567890", "12345", "GBX23456789", ""])
def test_uk_vat_malformed(raw: str) -> None:
    with pytest.raises(ValueError, match="not a UK VAT number"):
        normalise_vat(raw)
    with pytest.raises(ValueError, match="not a UK VAT number"):
        vat_key(raw)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("NO 123 456 789 MVA", "NO123456789MVA"), ("de123456789", "DE123456789"), ("GBGD001", "GBGD001")],
)
def test_valid_vat_that_is_not_a_key(raw: str, stored: str) -> None:
    assert vat_key(raw) is None
    assert clean_vat(raw) == stored


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("150483782", "150483782"), ("15-048-3782", "150483782"), ("15 048 3782", "150483782")],
)
def test_duns(raw: str, expected: str) -> None:
    assert normalise_duns(raw) == expected


@pytest.mark.parametrize("raw", ["15048378", "1504837820", "15048378X", "١٥٠٤٨٣٧٨٢"])
def test_duns_malformed(raw: str) -> None:
    with pytest.raises(ValueError, match="not a DUNS number"):
        normalise_duns(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME Ltd.", "acme"),
        ("ACME Limited", "acme"),
        ("Acme (UK) Ltd", "acme"),
        ("Acme UK Limited", "acme"),
        ("ACME PLC", "acme"),
        ("Acme Holdings LLP", "acme holdings"),
        ("Acme LP", "acme"),
        ("Community Bikes C.I.C.", "community bikes"),
        ("Smith & Sons Ltd", "smith sons"),
        ("O'Brien   Catering", "obrien catering"),
        ("Ltd Supplies Ltd", "ltd supplies"),  # only trailing legal forms go
        ("UK Ltd", "uk"),  # never empty while a word remains
        ("Café Crème Ltd", "café crème"),
    ],
)
def test_name_normalised(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def _ref(**identifiers: str | None) -> SupplierRef:
    return SupplierRef.model_validate({"member_supplier_id": "S-1", "name": "ACME Ltd.", **identifiers})


@pytest.mark.parametrize(
    ("identifiers", "key"),
    [
        (
            {"companies_house_number": "1234567", "vat_number": "GB123456789", "duns": "150483782"},
            "CH:01234567",
        ),
        ({"vat_number": "GB 123 4567 89", "duns": "150483782"}, "VAT:GB123456789"),
        ({"duns": "15-048-3782"}, "DUNS:150483782"),
        ({}, "NAME:acme"),
        ({"vat_number": "NO123456789MVA"}, "NAME:acme"),  # a foreign VAT number is not a UK key
        ({"vat_number": "NO123456789MVA", "duns": "150483782"}, "DUNS:150483782"),
        ({"companies_house_number": "", "vat_number": " "}, "NAME:acme"),  # blank cells mean absent
    ],
)
def test_national_supplier_key_takes_the_strongest_identifier(
    identifiers: dict[str, str | None], key: str
) -> None:
    assert national_supplier_key(_ref(**identifiers)) == key


def test_supplier_key_on_raw_values_rejects_malformed_numbers() -> None:
    with pytest.raises(ValueError, match="spreadsheet"):
        supplier_key(name="Acme", companies_house_number="11111111.0")
    assert supplier_key(name="Acme", companies_house_number="sc123456") == "CH:SC123456"
    with pytest.raises(ValueError, match="no letters or digits"):
        supplier_key(name="...")
