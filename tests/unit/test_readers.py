"""Who may see what: the pure decision over readers.yaml, and loading it."""

from __future__ import annotations

from pathlib import Path

import pytest

from topologies.naming import VIEWS
from topologies.readers import (
    Access,
    Reader,
    decide,
    is_local_plaintext,
    load_access,
    new_token,
    resource,
    token_sha256,
    visible_views,
)

TOKENS = {"national": new_token(), "member:kent-police": new_token(), "subscriber": new_token()}


def access(local: bool = False, anonymous: bool = True) -> Access:
    readers = [Reader(name=r, role=r, token_sha256=token_sha256(t)) for r, t in TOKENS.items()]
    readers[2] = Reader(
        name="bi",
        role="subscriber",
        token_sha256=token_sha256(TOKENS["subscriber"]),
        views=("category-spend", "member-activity"),
    )
    return Access(
        allow_anonymous_on_local_plaintext=anonymous,
        member_views=("category-spend",),
        readers=tuple(readers),
        local_plaintext=local,
    )


def bearer(role: str) -> str:
    return f"Bearer {TOKENS[role]}"


def test_open_paths_need_no_token_and_others_do_off_the_local_demo() -> None:
    for path in ("/health", "/metrics", "/openapi.json"):
        assert decide(access(), path, None).status == 200
    assert decide(access(), "/views/category-spend", None).status == 401
    assert decide(access(), "/views/category-spend", "Bearer nope").status == 401
    assert decide(access(), "/views/category-spend", "Basic abc").status == 401
    demo = decide(access(local=True), "/views/category-spend", None)
    assert demo.status == 200 and "plaintext" in demo.notice
    assert decide(access(local=True, anonymous=False), "/views", None).status == 401
    assert (
        decide(access(local=True), "/views", "Bearer wrong").status == 401
    )  # a bad token is never anonymous


def test_national_reads_everything() -> None:
    for path in (
        "/views",
        "/views/member-activity/essex-police",
        "/views/price-benchmark.csv",
        "/partners/x",
    ):
        assert decide(access(), path, bearer("national")).status == 200, path


def test_a_member_reads_its_own_activity_and_the_allowed_national_views() -> None:
    a, token = access(), bearer("member:kent-police")
    assert decide(a, "/views/member-activity/kent-police", token).status == 200
    assert decide(a, "/views/member-activity/essex-police", token).status == 403
    listing = decide(a, "/views/member-activity", token)
    assert listing.status == 200 and listing.only_member == "kent-police"
    assert decide(a, "/views/member-activity.csv", token).only_member == "kent-police"
    assert decide(a, "/views/category-spend", token).status == 200
    assert decide(a, "/views/category-spend/fleet", token).status == 200
    assert decide(a, "/views/price-benchmark", token).status == 403
    assert decide(a, "/dead-letters/essex-police", token).status == 403
    assert visible_views(a, token) == ("category-spend", "member-activity")


def test_a_subscriber_reads_its_views_only() -> None:
    a, token = access(), bearer("subscriber")
    assert decide(a, "/views/category-spend.csv", token).status == 200
    assert decide(a, "/views/member-activity/kent-police", token).status == 200
    assert decide(a, "/views/supplier-exposure", token).status == 403
    assert decide(a, "/partners/kent-police", token).status == 403
    assert visible_views(a, token) == ("category-spend", "member-activity")
    assert visible_views(access(local=True), None) == VIEWS


def test_paths_are_read_as_encoded() -> None:
    assert resource("/views/price-benchmark/CPV%3A1%7CEA") == ("view", "price-benchmark", "CPV:1|EA")
    assert resource("/views/member-activity%2Fx") == ("view", "member-activity/x", None)
    assert resource("/views") == ("list", None, None)


def test_only_a_loopback_plaintext_cluster_is_local() -> None:
    assert is_local_plaintext("PLAINTEXT", "127.0.0.1:9092,localhost:9093,[::1]:9094")
    assert not is_local_plaintext("PLAINTEXT", "127.0.0.1:9092,kafka.example:9092")
    assert not is_local_plaintext("SASL_PLAINTEXT", "127.0.0.1:9092")


def test_readers_yaml_is_checked(tmp_path: Path) -> None:
    shipped = load_access(Path(__file__).resolve().parents[2] / "topologies", local_plaintext=True)
    assert shipped.readers == () and shipped.allow_anonymous_on_local_plaintext
    (tmp_path / "readers.yaml").write_text("readers:\n  - {name: x, role: admin, token_sha256: abc}\n")
    with pytest.raises(ValueError, match="readers.yaml") as exc:
        load_access(tmp_path, local_plaintext=False)
    assert "national, subscriber or member" in str(exc.value) and "64 lower-case hex" in str(exc.value)
    h = token_sha256("t")
    (tmp_path / "readers.yaml").write_text(
        f"readers:\n  - {{name: a, role: national, token_sha256: {h}}}\n"
        f"  - {{name: b, role: subscriber, token_sha256: {h}}}\n"
    )
    with pytest.raises(ValueError, match="share a token"):
        load_access(tmp_path, local_plaintext=False)
    assert load_access(tmp_path / "none", local_plaintext=False).readers == ()
