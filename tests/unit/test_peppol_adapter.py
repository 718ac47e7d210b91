"""The Peppol adapter over the real OpenPEPPOL examples and a synthetic UK order's whole life."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Mapped, Outcome, RowError
from adapters.peppol import read
from adapters.peppol.reader import CANCELLED_BASE
from schemas.validate import Rejection, check_supported, validate_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "peppol"
SYNTHETIC = FIXTURES / "synthetic"
MEMBER = "kent-police"


def run(*paths: Path, state_dir: Path | None = None, **config: Any) -> list[Outcome]:
    if state_dir is not None:
        config["state_dir"] = str(state_dir)
    return list(read(list(paths), MEMBER, config))


def events(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [o.event for o in outcomes if isinstance(o, Mapped)]


def errors(outcomes: list[Outcome]) -> list[RowError]:
    return [o for o in outcomes if isinstance(o, RowError)]


def lines(event: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            line["line_id"],
            line["description"],
            line["quantity"],
            line["unit"],
            line["unit_price"],
            line["line_total"],
            line["classification"]["scheme"],
            line["classification"]["code"],
            line["item_id"],
        )
        for line in event["lines"]
    ]


def variant(tmp_path: Path, name: str, old: str, new: str, source: Path = SYNTHETIC / "uk_order.xml") -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"fixture no longer contains {old!r}"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- the real OpenPEPPOL examples ----------------------------------------------------------


def test_order_example_maps_every_field() -> None:
    out = run(FIXTURES / "Order_Example.xml")
    assert errors(out) == []
    [event] = events(out)
    assert event["member_id"] == MEMBER
    assert event["source_system"] == "peppol"
    assert (event["entity_id"], event["entity_version"], event["status"]) == ("34", 1, "ISSUED")
    assert event["order_date"] == "2018-09-01"
    assert event["occurred_at"] == "2018-09-01T12:30:00.000Z"
    assert event["currency"] == "NOK"  # mapped faithfully; the hub refuses it as unsupported
    assert event["contract_ref"] == "34322"
    # EndpointID 0192 (Norwegian org number) is the seller's own id; the legal name wins over
    # the trading name; GLN (0088) and the Norwegian registration have no field in SupplierRef.
    assert event["supplier"] == {
        "member_supplier_id": "0192:123456785",
        "name": "Medical AS",
        "companies_house_number": None,
        "vat_number": None,
        "duns": None,
        "ppon": None,
    }
    assert lines(event) == [
        ("1", "Needle 4mm", "120.0000", "EA", "50.0000", "6000.00", "LOCAL", "MP:12345678", "7560000012345"),
        ("2", "Wet tissues", "15.0000", "EA", "15.0000", "225.00", "LOCAL", "MP:56789123", "SItemNo011"),
    ]
    # The document's line 1 amount (6300.00) folds in a line charge and discount; the event's
    # total is quantity x net price, so 6225.00 rather than the document's 6525.00.
    assert event["total_net"] == "6225.00"
    model = validate_event("purchase-order", event)
    with pytest.raises(Rejection) as rejected:
        check_supported(model)
    assert rejected.value.kind == "unsupported"
    assert "NOK" in rejected.value.reason


def test_uc1_order_maps_every_line() -> None:
    [event] = events(run(FIXTURES / "UC1_Order.xml"))
    assert (event["entity_id"], event["entity_version"], event["status"]) == ("1", 1, "ISSUED")
    assert (event["order_date"], event["occurred_at"]) == ("2013-07-01", "2013-07-01T05:10:10.000Z")
    assert (event["currency"], event["contract_ref"]) == ("EUR", "C1")
    assert event["supplier"]["member_supplier_id"] == "0192:987654325"
    assert event["supplier"]["name"] == "The Supplier AB"
    # No CommodityClassification on these lines: LOCAL/UNCLASSIFIED, which the hub files under "unclassified".
    assert lines(event) == [
        ("1", "Brown sauce", "10.0000", "NAR", "4.0000", "40.00", "LOCAL", "UNCLASSIFIED", "05704066204093"),
        ("2", "White sauce", "5.0000", "NAR", "6.0000", "30.00", "LOCAL", "UNCLASSIFIED", "08722700575887"),
        ("3", "Pepper sauce", "15.0000", "NAR", "3.0000", "45.00", "LOCAL", "UNCLASSIFIED", "08722700577584"),
    ]
    assert event["total_net"] == "115.00"
    validate_event("purchase-order", event)


def test_real_change_then_cancellation_of_the_same_order() -> None:
    out = run(FIXTURES / "OrderChange_Example.xml", FIXTURES / "OrderCancellation_Example.xml")
    assert errors(out) == []
    amended, cancelled = events(out)
    assert (amended["entity_id"], amended["entity_version"], amended["status"]) == ("Order-1", 2, "AMENDED")
    # The original order was never seen, so the order date falls back to the change's own date.
    assert amended["order_date"] == "2022-02-01"
    assert amended["supplier"]["member_supplier_id"] == "0088:7302347231110"
    assert lines(amended) == [
        ("1", "Item 1", "5.0000", "NAR", "40.0000", "200.00", "LOCAL", "UNCLASSIFIED", None),
        ("2", "Item 2", "50.0000", "NAR", "6.0000", "300.00", "LOCAL", "UNCLASSIFIED", None),
    ]
    assert amended["total_net"] == "500.00"
    assert (cancelled["entity_id"], cancelled["entity_version"], cancelled["status"]) == (
        "Order-1",
        1_000_000_002,  # CANCELLED_BASE + the version it cancels: above anything a change can say
        "CANCELLED",
    )
    assert cancelled["occurred_at"] == "2022-02-01T00:00:00.000Z"
    assert lines(cancelled) == lines(amended)  # the cancellation carries the last full state
    assert cancelled["total_net"] == "500.00"
    assert cancelled["event_id"] != amended["event_id"]
    for event in (amended, cancelled):
        validate_event("purchase-order", event)


def test_cancellation_of_an_order_never_seen_is_a_clear_error() -> None:
    [error] = run(FIXTURES / "OrderCancellation_Example.xml")
    assert isinstance(error, RowError)
    assert error.file.endswith("OrderCancellation_Example.xml")
    assert error.column == "cac:OrderReference/cbc:ID"
    assert "OrderCancellation Cancellation-1 cancels order Order-1" in error.reason
    assert "never seen" in error.reason


def test_order_response_is_not_mapped_and_says_why() -> None:
    [error] = run(FIXTURES / "OrderResponse_Example.xml")
    assert isinstance(error, RowError)
    assert "OrderResponse" in error.reason
    assert "not a UBL document this adapter maps" in error.reason


# --- a UK order's life: order, change, cancellation -----------------------------------------

ORDER = SYNTHETIC / "uk_order.xml"
CHANGE = SYNTHETIC / "uk_order_change.xml"
CANCEL = SYNTHETIC / "uk_order_cancellation.xml"


def test_uk_order_identifiers_classifications_and_base_quantity(tmp_path: Path) -> None:
    [event] = events(run(ORDER, state_dir=tmp_path))
    assert (event["entity_id"], event["entity_version"], event["status"]) == ("PO-2025-0042", 1, "ISSUED")
    assert (event["order_date"], event["occurred_at"]) == ("2025-03-03", "2025-03-03T09:15:00.000Z")
    assert (event["currency"], event["contract_ref"]) == ("GBP", "NPCC-PPE-2024")
    assert event["supplier"] == {
        "member_supplier_id": "9932:GB123456789",  # "GB 123 4567 89" with its spaces dropped
        "name": "Safe Eyes Protective Ltd",
        "companies_house_number": "04336774",  # legal CompanyID GB-COH "4336774", zero-padded
        "vat_number": "GB123456789",
        "duns": "150483782",
        "ppon": None,
    }
    assert lines(event) == [
        # CPV (STI) preferred over the MP code; check digit dropped; GTIN before the buyer's code
        ("10", "Protective goggles, anti-fog", "250.0000", "EA", "4.1500", "1037.50", "CPV", "33735100",
         "05012345678900"),
        # 100.00 per BaseQuantity 3 -> 33.3333 each; 7 x 33.3333 = 233.3331 -> 233.33
        ("20", "Nitrile gloves, box of 100", "7.0000", "EA", "33.3333", "233.33", "UNSPSC", "46181504",
         "SE-GLV-100"),
        # 2.5 x 66.615 = 166.5375 -> 166.54 (half-up); no name, so the description
        ("30", "Absorbent granules", "2.5000", "KGM", "66.6150", "166.54", "ECLASS", "FNA123", None),
    ]  # fmt: skip
    assert event["total_net"] == "1437.37"
    check_supported(validate_event("purchase-order", event))


def test_uk_order_change_and_cancellation_carry_the_full_state(tmp_path: Path) -> None:
    out = run(ORDER, CHANGE, CANCEL, state_dir=tmp_path)
    assert errors(out) == []
    issued, amended, cancelled = events(out)
    assert [e["entity_version"] for e in (issued, amended, cancelled)] == [1, 2, CANCELLED_BASE + 2]
    assert [e["status"] for e in (issued, amended, cancelled)] == ["ISSUED", "AMENDED", "CANCELLED"]
    # The change restates neither the order date nor the contract: both come from the store.
    assert (amended["order_date"], amended["contract_ref"]) == ("2025-03-03", "NPCC-PPE-2024")
    assert amended["occurred_at"] == "2025-03-05T14:00:00.000Z"
    assert lines(amended) == [
        (
            "10",
            "Protective goggles, anti-fog",
            "300.0000",
            "EA",
            "4.1500",
            "1245.00",
            "CPV",
            "33735100",
            None,
        ),
        ("30", "Absorbent granules", "2.5000", "KGM", "66.6150", "166.54", "ECLASS", "FNA123", None),
        ("40", "Hi-vis tabard", "12.0000", "EA", "9.9900", "119.88", "CPV", "18143000", None),
    ]  # line 20 had LineStatusCode 2 (deleted)
    assert amended["total_net"] == "1531.42"
    assert cancelled["occurred_at"] == "2025-03-07T08:30:00.000Z"
    assert {k: v for k, v in cancelled.items() if k not in {"status", "entity_version", "occurred_at",
                                                           "event_id", "published_at"}} == {
        k: v for k, v in amended.items() if k not in {"status", "entity_version", "occurred_at", "event_id",
                                                     "published_at"}
    }  # fmt: skip
    for event in (issued, amended, cancelled):
        check_supported(validate_event("purchase-order", event))


def test_the_order_store_carries_state_between_runs(tmp_path: Path) -> None:
    first = events(run(ORDER, state_dir=tmp_path))
    second = events(run(CHANGE, state_dir=tmp_path))
    third = events(run(CANCEL, state_dir=tmp_path))
    assert [e["entity_version"] for e in first + second + third] == [1, 2, CANCELLED_BASE + 2]
    assert third[0]["status"] == "CANCELLED"
    assert third[0]["total_net"] == "1531.42"
    [path] = (tmp_path / "peppol" / MEMBER).glob("PO-2025-0042-*.json")
    record = json.loads(path.read_text())
    assert (record["state_version"], record["cancelled_by"]) == (2, "CAN-0042")
    assert record["cancelled_at"] == "2025-03-07T08:30:00.000Z"
    assert {key: entry["version"] for key, entry in record["documents"].items()} == {
        "Order:PO-2025-0042": 1,
        "OrderChange:CHG-0042-1": 2,
    }


@pytest.mark.parametrize("documents", [(ORDER, CHANGE, CANCEL), (ORDER, CANCEL, CHANGE)])
def test_a_resend_publishes_nothing_new(tmp_path: Path, documents: tuple[Path, ...]) -> None:
    def by_id(out: list[Outcome]) -> dict[str, dict[str, Any]]:
        return {e["event_id"]: {k: v for k, v in e.items() if k != "published_at"} for e in events(out)}

    first = by_id(run(*documents, state_dir=tmp_path))
    again = run(*documents, state_dir=tmp_path)
    assert errors(again) == []
    # Every event of the resend was published the first time, with the same content: duplicates
    # the hub drops. (A resent cancellation restates the order as it stands now.)
    assert by_id(again).items() <= first.items()
    assert max(e["entity_version"] for e in by_id(again).values()) == max(
        e["entity_version"] for e in first.values()
    )


def test_a_dry_run_keeps_its_state_in_memory(tmp_path: Path) -> None:
    assert events(run(ORDER, state_dir=tmp_path, dry_run=True))[0]["entity_version"] == 1
    [cancelled] = events(run(CANCEL, state_dir=tmp_path, dry_run=True))  # a separate call, as the SDK makes
    assert (cancelled["entity_version"], cancelled["status"]) == (CANCELLED_BASE + 1, "CANCELLED")
    assert not (tmp_path / "peppol").exists()


def test_a_change_arriving_after_the_cancellation_refreshes_the_cancelled_state(tmp_path: Path) -> None:
    # A drop folder read in name order gives "..._cancellation.xml" before "..._change.xml".
    out = run(ORDER, CANCEL, CHANGE, state_dir=tmp_path / "late")
    assert errors(out) == []
    issued, cancelled_first, cancelled_after = events(out)
    assert (issued["entity_version"], issued["status"]) == (1, "ISSUED")
    assert (cancelled_first["entity_version"], cancelled_first["status"]) == (CANCELLED_BASE + 1, "CANCELLED")
    assert cancelled_first["total_net"] == "1437.37"  # the order as it stood
    assert (cancelled_after["entity_version"], cancelled_after["status"]) == (CANCELLED_BASE + 2, "CANCELLED")
    assert cancelled_after["total_net"] == "1531.42"  # now with the change
    assert cancelled_after["occurred_at"] == "2025-03-07T08:30:00.000Z"  # still the cancellation's time
    # The final event is the same whichever way the documents came.
    in_order = events(run(ORDER, CHANGE, CANCEL, state_dir=tmp_path / "in-order"))[-1]
    assert cancelled_after == in_order | {"published_at": cancelled_after["published_at"]}


def test_a_second_cancellation_is_refused(tmp_path: Path) -> None:
    other = variant(tmp_path, "cancel2.xml", "<cbc:ID>CAN-0042</cbc:ID>", "<cbc:ID>CAN-0043</cbc:ID>", CANCEL)
    [error] = errors(run(ORDER, CANCEL, other, state_dir=tmp_path))
    assert "OrderCancellation CAN-0043: order PO-2025-0042 was already cancelled by CAN-0042" in error.reason


def test_two_documents_claiming_one_sequence_number_are_refused(tmp_path: Path) -> None:
    other = variant(
        tmp_path, "other.xml", "<cbc:ID>CHG-0042-1</cbc:ID>", "<cbc:ID>CHG-0042-X</cbc:ID>", CHANGE
    )
    [error] = errors(run(ORDER, CHANGE, other, state_dir=tmp_path))
    assert error.column == "cbc:SequenceNumberID"
    assert "would be version 2 of order PO-2025-0042, but OrderChange:CHG-0042-1 already is" in error.reason


def test_a_resent_order_with_other_content_is_refused(tmp_path: Path) -> None:
    edited = variant(
        tmp_path, "edited.xml", '<cbc:Quantity unitCode="EA">7<', '<cbc:Quantity unitCode="EA">8<'
    )
    edited = variant(tmp_path, "edited.xml", ">1437.37<", ">1470.70<", edited)
    edited = variant(tmp_path, "edited.xml", ">233.33<", ">266.66<", edited)
    [error] = errors(run(ORDER, edited, state_dir=tmp_path))
    assert "Order PO-2025-0042 was already mapped as version 1" in error.reason
    assert "different content" in error.reason


# --- business rules and safety -------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "column", "words"),
    [
        ("<cbc:ID>20</cbc:ID>", "<cbc:ID>10</cbc:ID>", "cac:OrderLine[ID=10]",
         ["Order PO-2025-0042", "line ID '10' appears more than once", "BII2-T01-R003"]),
        ('unitCode="EA">250<', 'unitCode="EA">-250<', "cac:OrderLine[ID=10]",
         ["Order PO-2025-0042, line 10", "quantity -250 is negative", "BII2-T01-R010"]),
        ('unitCode="EA">250<', 'unitCode="EA">0<', "cac:OrderLine[ID=10]",
         ["line 10", "quantity is 0"]),
        (">66.615<", ">-66.615<", "cac:OrderLine[ID=30]",
         ["Order PO-2025-0042, line 30", "net price -66.615 is negative", "BII2-T01-R011"]),
        (">1437.37<", ">1437.38<", "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount",
         ["header LineExtensionAmount 1437.38", "sum of the line amounts 1437.37", "BII2-T01-R014"]),
        ('currencyID="GBP">166.54<', 'currencyID="EUR">166.54<', "cbc:LineExtensionAmount",
         ["LineExtensionAmount is in EUR", "document currency is GBP", "BII2-T01-R009"]),
        ('<cbc:Quantity unitCode="KGM">', "<cbc:Quantity>", "cac:OrderLine[ID=30]",
         ["line 30", "no unitCode", "BII2-T01-R030"]),
        ('<cbc:BaseQuantity unitCode="EA">3<', '<cbc:BaseQuantity unitCode="BX">3<', "cac:OrderLine[ID=20]",
         ["line 20", "price is per 3 BX but the quantity is in EA"]),
        (">4336774<", ">11111111.0<",
         "cac:SellerSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",
         ["seller companies_house_number '11111111.0' rejected", "spreadsheet"]),
        (">150483782<", ">15048378<", "cac:SellerSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID",
         ["seller duns '15048378' rejected", "9 digits"]),
        ("<cbc:IssueDate>2025-03-03<", "<cbc:IssueDate>03/03/2025<", "cbc:IssueDate",
         ["'03/03/2025', not a date"]),
    ],
)  # fmt: skip
def test_broken_rules_name_the_document_and_the_line(
    tmp_path: Path, old: str, new: str, column: str, words: list[str]
) -> None:
    bad = variant(tmp_path, "bad.xml", old, new)
    out = run(bad, ORDER, state_dir=tmp_path)
    [error] = errors(out)
    assert error.file == str(bad)
    assert error.column == column
    for word in words:
        assert word in error.reason
    assert [e["entity_id"] for e in events(out)] == ["PO-2025-0042"]  # the good document still maps


def test_a_doctype_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE Order [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        + ORDER.read_text(encoding="utf-8").split("\n", 1)[1].replace("Example Constabulary", "&b;"),
        encoding="utf-8",
    )
    [error] = run(bomb)
    assert isinstance(error, RowError)
    assert "declares a DOCTYPE" in error.reason


def test_malformed_xml_is_a_row_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(ORDER.read_text(encoding="utf-8")[:900], encoding="utf-8")
    [error] = run(broken)
    assert isinstance(error, RowError)
    assert error.reason.startswith("not well-formed XML")


def test_a_directory_is_read_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name, source in (("1-order.xml", ORDER), ("2-change.xml", CHANGE), ("3-cancel.xml", CANCEL)):
        (folder / name).write_bytes(source.read_bytes())
    assert [e["status"] for e in events(run(folder, state_dir=tmp_path / "state"))] == [
        "ISSUED",
        "AMENDED",
        "CANCELLED",
    ]
