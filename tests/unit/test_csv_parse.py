"""The CSV value parsers: amounts, dates and headers as spend files write them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from adapters.csv.mapping import decode, local_code
from adapters.csv.parse import clean_text, header_key, parse_amount, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30000.00", "30000.00"),
        ("994", "994"),
        ("962.5", "962.5"),
        ("£30,000.00", "30000.00"),
        ("£ 1,234,567.89", "1234567.89"),
        ("GBP 12.00", "12.00"),
        ("-48,340.00", "-48340.00"),
        ("(26,000.00)", "-26000.00"),
        ("2,652.12-", "-2652.12"),
        ("120.00CR", "-120.00"),
        ("-£12.50", "-12.50"),
        ("£-12.50", "-12.50"),
        ("\u00a01,000.00 ", "1000.00"),
        ("41666.6667", "41666.6667"),
    ],
)
def test_amounts_as_published(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("57.262,90", "not a number"),
        ("1,23", "not a number"),
        ("12a", "not a number"),
        ("£", "not a number"),
        ("1.234567", "more than 4 decimal places"),
        ("N/A", "not a number"),
    ],
)
def test_amounts_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2019-07-03", "dmy", date(2019, 7, 3)),
        ("2019-07-03T00:00:00", "dmy", date(2019, 7, 3)),
        ("2019-07-03 00:00:00", "dmy", date(2019, 7, 3)),
        ("03/07/2019", "dmy", date(2019, 7, 3)),
        ("3/7/2019", "dmy", date(2019, 7, 3)),
        ("03/07/19", "dmy", date(2019, 7, 3)),
        ("03-07-2019", "dmy", date(2019, 7, 3)),
        ("03.07.2019", "dmy", date(2019, 7, 3)),
        ("07/03/2019", "mdy", date(2019, 7, 3)),
        ("03-Jul-2019", "dmy", date(2019, 7, 3)),
        ("03-JUL-19", "dmy", date(2019, 7, 3)),
        ("3 July 2019", "dmy", date(2019, 7, 3)),
        ("03/07/2019 00:00", "dmy", date(2019, 7, 3)),
    ],
)
def test_dates_as_published(text: str, order: str, expected: date) -> None:
    assert parse_date(text, order) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("32/07/2019", "not a real date"),
        ("13/13/2019", "not a real date"),
        ("July 2019", "not a date"),
        ("2019/07/03x", "not a date"),
        ("Total", "not a date"),
    ],
)
def test_dates_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_date(text)


def test_header_drift_reads_as_one_key() -> None:
    keys = {
        header_key(h) for h in ["Amount", "Amount ()", "AMOUNT()", "Amount £", " amount ", "\ufeffAmount"]
    }
    assert keys == {"amount"}
    assert header_key("INVOICE DISTRIBUTION AMOUNT") == "invoicedistributionamount"
    assert header_key("Transaction number") == header_key("TRANSACTION  NUMBER") == "transactionnumber"


def test_text_cleaning_and_local_codes() -> None:
    assert clean_text("  Consultancy  Evaluation\u00a0Assessment ") == "Consultancy Evaluation Assessment"
    variants = [
        "EXP - PURCHASE OF GOODS/SERVICES - OTHER PROFESSIONAL SERVICES - LEGAL",
        "EXP - PURCHASE OF GOODS/SERVICES -OTHER PROFESSIONAL SERVICES - LEGAL",
        "EXP - PURCHASE OF GOODS/SERVICES\u00a0- OTHER PROFESSIONAL SERVICES - LEGAL",
    ]
    assert {local_code(v) for v in variants} == {variants[0]}
    assert local_code("Hsg-Rough Sleeping") == "Hsg-Rough Sleeping"  # a hyphen inside a word is kept


@pytest.mark.parametrize(
    "cell",
    ["", " ", "a b", " a b ", "a  b", "a\tb", "a\nb", "a\u00a0b", "\ufeffa", "a \ufeff b", "a\u2003b",
     "a\x1cb", "a\r\n", "\u00a0", "Vendor Name", "12,345.67"],
)  # fmt: skip
def test_text_cleaning_fast_path_gives_what_the_full_cleaning_gives(cell: str) -> None:
    full = re.sub(r"\s+", " ", cell.replace("\u00a0", " ").replace("\ufeff", "")).strip()
    assert clean_text(cell) == full


def test_decode_tries_utf8_then_windows_1252() -> None:
    assert decode("\ufeffDate,Amount £".encode(), "auto") == "Date,Amount £"
    assert decode("SERVICES\u00a0- RESEARCH £".encode("cp1252"), "auto") == "SERVICES\u00a0- RESEARCH £"
    assert decode(b"\x81", "auto") == "\x81"  # undefined in cp1252: latin-1 never fails
