"""The CSV adapter over the real spend files (and raw-style variants of them).

Fixtures: tests/fixtures/csv/README.md. Expected values are read off the files by hand or
recomputed here with the csv module, never taken from the adapter's own output.
"""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.base import Mapped, Outcome, RowError, Skipped
from adapters.csv import read
from adapters.csv.config import ConfigError, load_config
from adapters.sdk.prepare import prepare

FIXTURES = Path(__file__).parent.parent / "fixtures" / "csv"
EXAMPLES = Path(__file__).parent.parent.parent / "adapters" / "csv" / "examples"
CO = FIXTURES / "odileeds_cabinetoffice_25k_2019-07.csv"
GLA = FIXTURES / "odileeds_gla_london_2013-P07.csv"
CO_RAW = FIXTURES / "cabinetoffice_25k_2019-07_rawstyle.csv"
GLA_RAW = FIXTURES / "gla_london_2013-P07_rawstyle.csv"
MEMBER = "kent-police"


def config(name: str, **changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    raw.update(changes)
    return raw


def outcomes(path: Path, cfg: dict[str, Any]) -> list[Outcome]:
    return list(read([path], MEMBER, cfg))


def events(outs: list[Outcome]) -> list[dict[str, Any]]:
    return [o.event for o in outs if isinstance(o, Mapped)]


def by_supplier(evs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in evs if e["supplier"]["name"] == name]


def file_rows(path: Path, encoding: str = "cp1252") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


# --- the verbatim files -------------------------------------------------------------------------


def test_cabinet_office_every_row_is_a_line_and_no_money_is_lost() -> None:
    outs = outcomes(CO, config("cabinet-office-25k"))
    rows = file_rows(CO)
    evs = events(outs)
    assert [o for o in outs if not isinstance(o, Mapped)] == []
    assert sum(len(e["lines"]) for e in evs) == len(rows) == 223
    assert sorted(int(line["line_id"]) for e in evs for line in e["lines"]) == list(range(2, 225))
    assert sum(Decimal(e["total_net"]) for e in evs) == sum(Decimal(r["Amount"]) for r in rows)
    assert len({e["entity_id"] for e in evs}) == len(evs) == 171
    for e in evs:  # every mapped event passes the hub's own checks
        prepare("purchase-order", e, MEMBER)


def test_cabinet_office_fields_of_single_and_split_transactions() -> None:
    evs = events(outcomes(CO, config("cabinet-office-25k")))
    [bic] = by_supplier(evs, "BRITISH-IRISH COUNCIL")
    assert bic["entity_id"].startswith("10004082-")
    assert (bic["order_date"], bic["occurred_at"], bic["status"]) == (
        "2019-07-03",
        "2019-07-03T00:00:00.000Z",
        "ISSUED",
    )
    assert bic["source_system"] == "cabinet-office-spend" and bic["currency"] == "GBP"
    assert bic["total_net"] == "30000.00"
    assert bic["lines"] == [
        {
            "line_id": "2",
            "description": "EXP - PURCHASE OF GOODS/SERVICES - OFFICE RELATED / BRITISH IRISH COUNCIL (PROG)",
            "quantity": "1",
            "unit": "LS",
            "unit_price": "30000.00",
            "line_total": "30000.00",
            "classification": {
                "scheme": "LOCAL",
                "code": "EXP - PURCHASE OF GOODS/SERVICES - OFFICE RELATED",
            },
            "item_id": None,
        }
    ]
    # One payment split over six cost lines (transaction 1037058105, lines 14-19).
    [deloitte] = [e for e in evs if e["entity_id"].startswith("1037058105-")]
    assert [line["line_total"] for line in deloitte["lines"]] == [
        "60300.00",
        "112770.00",
        "200970.00",
        "208250.00",
        "210660.00",
        "215760.00",
    ]
    assert deloitte["total_net"] == "1008710.00"


def test_cabinet_office_reused_numbers_exact_duplicates_and_missing_numbers() -> None:
    evs = events(outcomes(CO, config("cabinet-office-25k")))
    # GPA's "3" names different payments: distinct entities per supplier and day ...
    threes = [e for e in evs if e["entity_id"].startswith("3-")]
    assert len({(e["supplier"]["name"], e["order_date"]) for e in threes}) == len(threes) >= 10
    # ... and the two identical MONTAGU EVANS (ACC 2) rows of 9 July stay two lines, not one.
    [montagu] = [
        e
        for e in threes
        if e["supplier"]["name"] == "MONTAGU EVANS (ACC 2)" and e["order_date"] == "2019-07-09"
    ]
    assert [line["line_total"] for line in montagu["lines"]] == ["116523.60", "116523.60"]
    assert montagu["total_net"] == "233047.20"
    # Rows without a transaction number: keyed by a content hash, each its own order.
    unnumbered = [e for e in evs if e["entity_id"].startswith("row-")]
    assert sorted(e["total_net"] for e in unnumbered) == ["123270.00", "207000.00", "50000.00"]


def test_cabinet_office_windows_1252_non_breaking_space_in_expense_type() -> None:
    evs = events(outcomes(CO, config("cabinet-office-25k")))
    [bluesky] = [e for e in evs if e["supplier"]["name"] == "BLUESKY INTERNATIONAL LTD"]
    codes = {line["classification"]["code"] for line in bluesky["lines"]}
    assert codes == {"EXP - PURCHASE OF GOODS/SERVICES - RESEARCH & DEVELOPMENT - OTHER OUTSOURCED"}
    # "SERVICES -OTHER" (missing space) is the same LOCAL code as "SERVICES - OTHER"
    legal = {
        line["classification"]["code"]
        for e in by_supplier(evs, "GOVERNMENT LEGAL DEPARTMENT")
        for line in e["lines"]
    }
    assert legal == {"EXP - PURCHASE OF GOODS/SERVICES - OTHER PROFESSIONAL SERVICES - LEGAL"}


def test_gla_document_lines_codes_and_one_off_vendors() -> None:
    outs = outcomes(GLA, config("gla-sap"))
    rows = file_rows(GLA, "ascii")
    evs = events(outs)
    assert [o for o in outs if not isinstance(o, Mapped)] == []
    assert sum(len(e["lines"]) for e in evs) == len(rows) == 351
    assert sum(Decimal(e["total_net"]) for e in evs) == sum(Decimal(r["Amount"]) for r in rows)
    docs = Counter(r["Document No"] for r in rows)
    assert len(evs) == len(docs) == 317
    [climate] = [e for e in evs if e["entity_id"] == "5107971648"]
    assert climate["supplier"] == {"member_supplier_id": "10022324", "name": "CLIMATE ENERGY SERVICES LTD"}
    assert sorted(line["line_total"] for line in climate["lines"]) == [
        "2652.12",
        "3798.07",
        "58936.00",
        "84401.57",
    ]
    assert {line["classification"]["code"] for line in climate["lines"]} == {"550010"}
    assert climate["lines"][0]["description"] == "Contracted Services Buildings"
    # Vendor 15050001 is SAP's one-time vendor: the name tells its payees apart.
    one_off = {
        e["supplier"]["member_supplier_id"]
        for e in evs
        if e["supplier"]["member_supplier_id"].startswith("1505000")
    }
    assert "15050001:H M REVENUE & CUSTOMS" in one_off and "15050001:FEAST LONDON LTD" in one_off
    # Whole pounds ("994") and one decimal ("962.5") become money.
    [feast] = by_supplier(evs, "FEAST LONDON LTD")
    assert prepare("purchase-order", feast, MEMBER).model_dump(mode="json")["total_net"] == "994.00"
    assert len(by_supplier(evs, "GLENNY")[0]["lines"]) == docs["5107962799"]


# --- raw-style variants --------------------------------------------------------------------------


def test_raw_cabinet_office_quirks() -> None:
    outs = outcomes(CO_RAW, config("cabinet-office-25k"))
    skipped = Counter(o.reason.split(" '")[0] for o in outs if isinstance(o, Skipped))
    assert skipped == {"above the header row": 2, "blank row": 2, "footer line": 1}
    errors = {o.line: o for o in outs if isinstance(o, RowError)}
    assert set(errors) == {15, 19, 20}
    assert (
        "credit note without its original transaction" in errors[15].reason
        and "-28835.00" in errors[15].reason
    )
    assert (errors[19].column, errors[20].column) == ("Date", "AMOUNT()")
    assert "32/07/2019" in errors[19].reason and "57.262,90" in errors[20].reason
    evs = events(outs)
    [bic] = by_supplier(evs, "BRITISH-IRISH COUNCIL")
    assert (bic["order_date"], bic["total_net"]) == ("2019-07-03", "30000.00")  # 03/07/2019, "£30,000.00"
    # A partial credit note nets against its payment: AMENDED, one line with the net.
    [bluesky] = by_supplier(evs, "BLUESKY INTERNATIONAL LTD")
    assert bluesky["status"] == "AMENDED" and bluesky["total_net"] == "104000.00"
    assert [line["line_id"] for line in bluesky["lines"]] == ["10"]
    assert bluesky["lines"][0]["description"].endswith("(net of credit at line 11)")
    # A credit note three days later reversing it all: CANCELLED, as of the credit's day.
    [pa] = [e for e in by_supplier(evs, "PA CONSULTING GROUP") if not e["entity_id"].startswith("row-")]
    assert (pa["status"], pa["order_date"], pa["occurred_at"]) == (
        "CANCELLED",
        "2019-07-15",
        "2019-07-18T00:00:00.000Z",
    )
    assert pa["total_net"] == "48340.00"
    # Redacted payee: spend kept, name and id withheld.
    [redacted] = by_supplier(evs, "REDACTED")
    assert redacted["supplier"] == {"member_supplier_id": "REDACTED", "name": "REDACTED"}
    assert redacted["total_net"] == "30600.00"
    # Two identical unnumbered rows are two orders.
    twins = [
        e["entity_id"] for e in by_supplier(evs, "PA CONSULTING GROUP") if e["entity_id"].startswith("row-")
    ]
    assert len(twins) == 2 and twins[1] == twins[0] + "-2"
    # Every data row is an event line, a credit folded into one (lines 11 and 13), or a reject.
    with CO_RAW.open(encoding="cp1252", newline="") as fh:
        data_rows = [r for r in list(csv.reader(fh))[3:] if any(r) and "Total" not in r]
    event_lines = {int(line["line_id"]) for e in evs for line in e["lines"]}
    assert len(event_lines) + len({11, 13}) + len(errors) == len(data_rows) == 20


def test_same_transaction_same_id_across_exports() -> None:
    """Re-sending a month from another export of it must dedupe, not double count."""
    clean = {e["entity_id"]: e for e in events(outcomes(CO, config("cabinet-office-25k")))}
    raw = {e["entity_id"]: e for e in events(outcomes(CO_RAW, config("cabinet-office-25k")))}
    shared = {
        i for i, e in raw.items() if e["supplier"]["name"] in ("BRITISH-IRISH COUNCIL", "RAINMAKER SOLUTIONS")
    }
    shared |= {
        i
        for i, e in raw.items()
        if e["supplier"]["name"] in ("AMAZON WEB SERVICES EMEA SARL", "DELOITTE LLP")
    }
    assert len(shared) == 4 and shared <= set(clean)  # DELOITTE's is an unnumbered row: a content hash
    for i in shared:
        assert raw[i]["total_net"] == clean[i]["total_net"]


def test_raw_gla_quirks() -> None:
    outs = outcomes(GLA_RAW, config("gla-sap"))
    assert Counter(o.reason.split(" '")[0] for o in outs if isinstance(o, Skipped)) == {
        "blank row": 1,
        "footer line": 1,
    }
    errors = {o.line: o for o in outs if isinstance(o, RowError)}
    assert {k: (v.column, v.reason) for k, v in errors.items()} == {
        14: ("Amount £", "amount is empty"),
        15: ("Cost Element", "no classification: Cost Element is empty"),
    }
    evs = events(outs)
    [gla] = by_supplier(evs, "GREATER LONDON AUTHORITY")
    assert (gla["entity_id"], gla["order_date"], gla["total_net"]) == (
        "5107960135",
        "2013-10-03",
        "4516218.19",
    )
    [climate] = by_supplier(evs, "CLIMATE ENERGY SERVICES LTD")  # SAP's trailing minus: "2,652.12-"
    assert climate["status"] == "AMENDED" and climate["total_net"] == "140685.45"
    [redacted] = by_supplier(evs, "REDACTED")  # "Redacted Commercial Data": its vendor id is dropped too
    assert redacted["supplier"]["member_supplier_id"] == "REDACTED"
    [ocs] = by_supplier(evs, "OCS CATERING")  # an ISO date among dd/mm/yyyy ones
    assert ocs["order_date"] == "2013-09-25"
    [bt] = by_supplier(evs, "BT")  # a quoted comma in the description
    assert bt["lines"][0]["description"] == "Telephone Line Rent, Calls & Equipment"


# --- configuration quirks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Amount ()", "AMOUNT()", "Amount £", "INVOICE DISTRIBUTION AMOUNT", " amount "]
)
def test_drifting_amount_headers_read_the_same(tmp_path: Path, header: str) -> None:
    data = CO.read_bytes().replace(b",Amount\r\n", f",{header}\r\n".encode("cp1252"), 1)
    assert data != CO.read_bytes()
    drifted = tmp_path / "drifted.csv"
    drifted.write_bytes(data)
    assert events(outcomes(drifted, config("cabinet-office-25k"))) == events(
        outcomes(CO, config("cabinet-office-25k"))
    )


def test_missing_column_is_one_clear_file_error(tmp_path: Path) -> None:
    broken = tmp_path / "no-amount.csv"
    broken.write_bytes(CO.read_bytes().replace(b",Amount\r\n", b",Value\r\n", 1))
    [error] = outcomes(broken, config("cabinet-office-25k"))
    assert isinstance(error, RowError) and error.file == "no-amount.csv"
    assert "'AMOUNT()'" in error.reason and "Nothing in this file was read" in error.reason


def test_two_columns_for_one_field_is_refused(tmp_path: Path) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("Date,Supplier,Amount,Net Amount\n2019-07-01,ACME,1.00,1.00\n")
    [error] = outcomes(twice, config("cabinet-office-25k"))
    assert isinstance(error, RowError) and "two columns read as amount" in error.reason


def test_transaction_numbers_that_are_not_unique_are_refused_not_merged() -> None:
    outs = outcomes(CO, config("cabinet-office-25k", id_scope=["entity"]))
    refused = [o for o in outs if isinstance(o, RowError)]
    assert refused and all("add supplier and date to id_scope" in o.reason for o in refused)
    gpa_threes = [i for i, r in enumerate(file_rows(CO), start=2) if r["Transaction number"] == "3"]
    assert {o.line for o in refused} >= set(gpa_threes)


def test_gross_amounts_become_net(tmp_path: Path) -> None:
    spend = tmp_path / "gross.csv"
    spend.write_text(
        "Date,Supplier,Expense Type,Gross,Irrecoverable VAT\n"
        "01/04/2024,ACME LTD,Uniforms,120.00,20.00\n"
        "02/04/2024,ACME LTD,Uniforms,60.00,\n"
    )
    cols = {"date": ["Date"], "supplier": ["Supplier"], "amount": ["Gross"], "expense_type": ["Expense Type"]}
    with_vat = {**cols, "irrecoverable_vat": ["Irrecoverable VAT"]}
    evs = events(
        outcomes(
            spend, {"source_system": "t", "columns": with_vat, "amount_basis": "gross", "vat_rate": "0.20"}
        )
    )
    assert [e["total_net"] for e in evs] == ["100.00", "50.00"]  # the VAT column, else the rate
    refused = outcomes(spend, {"source_system": "t", "columns": with_vat, "amount_basis": "gross"})
    assert isinstance(refused[1], RowError) and "no irrecoverable VAT" in refused[1].reason
    with pytest.raises(ConfigError, match="gross needs vat_rate"):
        load_config({"source_system": "t", "columns": cols, "amount_basis": "gross"})


def test_redaction_can_be_a_reject_and_bad_config_is_named() -> None:
    outs = outcomes(GLA_RAW, config("gla-sap", redaction={"action": "reject"}))
    [refused] = [o for o in outs if isinstance(o, RowError) and o.column == "Vendor Name"]
    assert "redacted" in refused.reason and refused.line == 12
    with pytest.raises(ConfigError, match="colums|columns"):
        load_config({"source_system": "x", "colums": {}})
    with pytest.raises(ConfigError, match="id_scope: field 'entity'"):
        load_config({**config("gla-sap"), "id_scope": ["entity"]})
    with pytest.raises(ConfigError, match="classification.code: field 'cpv'"):
        load_config({**config("gla-sap"), "classification": {"code": "cpv"}})


def test_a_row_wider_than_the_header_is_refused(tmp_path: Path) -> None:
    spend = tmp_path / "ragged.csv"
    spend.write_text("Date,Supplier,Expense Type,Amount\n2024-04-01,ACME LTD,Uniforms,1,200.00\n")
    cfg = {
        "source_system": "t",
        "columns": {
            "date": ["Date"],
            "supplier": ["Supplier"],
            "amount": ["Amount"],
            "expense_type": ["Expense Type"],
        },
    }
    [error] = outcomes(spend, cfg)
    assert isinstance(error, RowError) and "unquoted comma" in error.reason and error.line == 2


def test_a_credit_note_naming_the_transaction_it_credits(tmp_path: Path) -> None:
    spend = tmp_path / "credits.csv"
    spend.write_text(
        "Date,Supplier,Expense Type,Transaction,Credit Ref,Amount\n"
        "01/04/2024,ACME LTD,Uniforms,T1,,500.00\n"
        "09/04/2024,ACME LTD,Uniforms,T9,T1,-120.00\n"
        "10/04/2024,ACME LTD,Uniforms,T10,T404,-5.00\n"
    )
    columns = {
        "date": ["Date"],
        "supplier": ["Supplier"],
        "amount": ["Amount"],
        "expense_type": ["Expense Type"],
        "transaction": ["Transaction"],
        "credit_reference": ["Credit Ref"],
    }
    outs = outcomes(spend, {"source_system": "t", "columns": columns})
    [t1] = events(outs)
    assert (t1["entity_id"], t1["status"], t1["total_net"]) == ("T1", "AMENDED", "380.00")
    assert t1["occurred_at"].startswith("2024-04-09")
    [orphan] = [o for o in outs if isinstance(o, RowError)]
    assert orphan.line == 4 and "credit note without its original" in orphan.reason
