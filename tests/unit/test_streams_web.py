"""The HTTP answers (status and JSON) and the CLI's URL building, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from streams.cli import view_url
from streams.facts import ContractFacts, Current, EntityRef
from streams.views.index import ViewIndex
from streams.views.member_activity import ActivityPart
from streams.web import item_answer, view_answer


def index() -> ViewIndex:
    idx = ViewIndex()
    facts = ContractFacts(
        True, "NAME:acme widgets", "Acme Widgets", "fleet", "Fleet", date(2027, 1, 1), None, Decimal(5)
    )
    idx.set_entity(
        b"c", Current(EntityRef("kent-police", "contract", "C/1"), 1, datetime(2026, 1, 1, tzinfo=UTC), facts)
    )
    idx.set_activity(b"c", "kent-police", ActivityPart(accepted=1))
    return idx


def test_view_listing_and_as_of() -> None:
    answer = view_answer(index(), "contract-pipeline", "2026-12-01", ready=True)
    assert answer.status == 200
    assert list(answer.body) == ["view", "as_of", "items"]
    assert answer.body["as_of"] == "2026-12-01"
    assert answer.body["items"][0]["expiring"]["within_6m"]["count"] == 1
    plain = view_answer(index(), "member-activity", None, ready=True)
    assert plain.status == 200 and "as_of" not in plain.body
    assert plain.body["items"][0]["member_id"] == "kent-police"


def test_items_and_errors() -> None:
    idx = index()
    found = item_answer(idx, "supplier-exposure", "NAME:acme widgets", None, ready=True)
    assert found.status == 200 and found.body["supplier_key"] == "NAME:acme widgets"
    missing = item_answer(idx, "supplier-exposure", "CH:00000001", None, ready=True)
    assert missing.status == 404 and "CH:00000001" in missing.body["error"]
    assert view_answer(idx, "nope", None, ready=True).status == 404
    bad = view_answer(idx, "contract-pipeline", "01/02/2026", ready=True)
    assert bad.status == 400 and "YYYY-MM-DD" in bad.body["error"]
    assert view_answer(idx, "category-spend", None, ready=False).status == 503


def test_keys_are_percent_encoded_in_urls() -> None:
    assert view_url("127.0.0.1:6066", "price-benchmark", "CPV:33735100|EA", None) == (
        "http://127.0.0.1:6066/views/price-benchmark/CPV%3A33735100%7CEA"
    )
    assert (
        view_url("h:1", "supplier-exposure", "NAME:a/b c", None)
        == "http://h:1/views/supplier-exposure/NAME%3Aa%2Fb%20c"
    )
    assert (
        view_url("h:1", "contract-pipeline", None, date(2027, 1, 1))
        == "http://h:1/views/contract-pipeline?as_of=2027-01-01"
    )


def test_views_get_names_the_url_when_no_worker_answers() -> None:
    import socket

    from click.testing import CliRunner

    from bluelight.cli import cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = CliRunner().invoke(cli, ["--http", f"127.0.0.1:{port}", "views", "get", "category-spend"])
    assert result.exit_code == 1
    assert f"http://127.0.0.1:{port}/views/category-spend" in result.output
    assert "is `bluelight worker` running?" in result.output


def test_as_of_outside_the_plausible_window_is_400_not_a_crash() -> None:
    idx = index()
    for far in ("9999-01-01", "0001-01-01", "1989-12-31", "2101-01-01"):
        for answer in (
            view_answer(idx, "contract-pipeline", far, ready=True),
            item_answer(idx, "contract-pipeline", "fleet", far, ready=True),
        ):
            assert answer.status == 400 and "outside the plausible window" in answer.body["error"], far
    assert view_answer(idx, "contract-pipeline", "2100-12-31", ready=True).status == 200
    assert view_answer(idx, "contract-pipeline", "x" * 100_000, ready=True).status == 400
