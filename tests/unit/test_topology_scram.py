"""SCRAM requests aiokafka lacks: wire layout and the client-side salting."""

from __future__ import annotations

import base64
import hashlib
import hmac
from io import BytesIO

from topologies import scram


def test_salted_password_matches_rfc7677_vector() -> None:
    # RFC 7677 section 3: user "user", password "pencil", this salt, 4096 iterations. The
    # client proof in the RFC follows from SaltedPassword; recompute it to check ours.
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    salted = scram.salted_password("pencil", salt, 4096, "SCRAM-SHA-256")
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    auth_message = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    assert base64.b64encode(proof) == b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="


def test_upsertion_never_carries_the_password() -> None:
    user, mech, iterations, salt, salted = scram.upsertion("member-x", "s3cret-password", "SCRAM-SHA-512")
    assert (user, mech, iterations, len(salt)) == ("member-x", 2, scram.ITERATIONS, 32)
    assert salted == scram.salted_password("s3cret-password", salt, iterations, "SCRAM-SHA-512")
    assert b"s3cret-password" not in salted


def test_alter_request_encodes_as_flexible_v0() -> None:
    request = scram.AlterUserScramCredentials([("u", 2, 8192, b"salt", b"pw")], [("old", 1)])
    struct = request.build(scram.AlterUserScramCredentialsRequest_v0)
    data = struct.encode()
    # compact arrays store length+1; strings too; every struct ends with an empty tag buffer
    assert data == (
        b"\x02" + b"\x04old" + b"\x01" + b"\x00"
        + b"\x02" + b"\x02u" + b"\x02" + (8192).to_bytes(4, "big") + b"\x05salt" + b"\x03pw" + b"\x00"
        + b"\x00"
    )  # fmt: skip
    decoded = scram.AlterUserScramCredentialsRequest_v0.decode(BytesIO(data))
    assert decoded.upsertions[0][:5] == ("u", 2, 8192, b"salt", b"pw")


def test_describe_all_users_is_a_null_array() -> None:
    struct = scram.DescribeUserScramCredentials(None).build(scram.DescribeUserScramCredentialsRequest_v0)
    assert struct.encode() == b"\x00\x00"
    named = scram.DescribeUserScramCredentials(["ab"]).build(scram.DescribeUserScramCredentialsRequest_v0)
    assert named.encode() == b"\x02\x03ab\x00\x00"
