"""The hub running on the secured cluster with its own least-privilege user.

One worker (`bluelight worker`, as the topology's hub principal, not admin) serves both tests:
a member's payload that claims to be another member is dead-lettered as `tenant`, and a fire
service plugged in with `members add` while the worker runs shows up in the views without a
restart (the time it took is printed: run with -s to see it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr
from topology_support import (
    Worker,
    as_user,
    consume,
    make_topology,
    produce,
    purchase_order,
    running_worker,
    uid,
)

from bluelight.cli import cli
from bluelight.settings import HubSettings, KafkaConnection
from deploy.broker import BrokerInfo
from streams import dlq
from topologies import naming
from topologies.acl import member_user
from topologies.apply import apply_topology
from topologies.model import Member
from topologies.readers import READERS_FILE, new_token, token_sha256

pytestmark = [pytest.mark.kafka, pytest.mark.secure]
PICKUP_LIMIT_S = 30.0


@dataclass(frozen=True)
class LiveHub:
    worker: Worker
    settings: HubSettings  # admin, with this module's topology
    a: str
    b: str
    passwords: dict[str, str]
    tokens: dict[str, str]  # role -> bearer token (readers.yaml)

    def conn(self, member: str) -> KafkaConnection:
        return as_user(self.settings.kafka, member_user(member), self.passwords[member_user(member)])


@pytest.fixture(scope="module")
def live(secure_kafka: BrokerInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    u = uid()
    a, b, hub = f"t-{u}-police", f"t-{u}-other", f"hub-t-{u}"
    directory = make_topology(
        tmp_path_factory.mktemp("topology"),
        [Member(id=a, name="Force A", sector="police"), Member(id=b, name="Force B", sector="police")],
        hub_principal=hub,
    )
    settings = secure_kafka.hub_settings(topology_dir=directory)
    tokens = {"national": new_token(), f"member:{a}": new_token(), "subscriber": new_token()}
    readers = [
        {"name": role.replace(":", "-"), "role": role, "token_sha256": token_sha256(token)}
        for role, token in tokens.items()
    ]
    readers[2]["views"] = ["category-spend"]
    (directory / READERS_FILE).write_text(
        yaml.safe_dump({"member_views": ["category-spend"], "readers": readers}), encoding="utf-8"
    )
    _, result = asyncio.run(apply_topology(settings))
    env = {
        **secure_kafka.env,
        "BLUELIGHT_SASL_USERNAME": hub,
        "BLUELIGHT_SASL_PASSWORD": result.passwords[hub],
        "BLUELIGHT_TOPOLOGY_DIR": str(directory),
    }
    with running_worker(env, tmp_path_factory.mktemp("worker")) as worker:
        worker.token = tokens["national"]
        yield LiveHub(worker, settings, a, b, result.passwords, tokens)


def test_a_payload_claiming_another_member_is_dead_lettered_as_tenant(live: LiveHub) -> None:
    a = live.conn(live.a)
    forged = purchase_order(live.a, "PO-FORGED", claimed_member=live.b)
    offset = asyncio.run(produce(a, naming.member_topic(live.a, "purchase-order"), forged, key=b"PO-FORGED"))
    asyncio.run(
        produce(
            a, naming.member_topic(live.a, "purchase-order"), purchase_order(live.a, "PO-OK"), key=b"PO-OK"
        )
    )

    activity = live.worker.wait_for(
        f"/views/member-activity/{live.a}",
        lambda status, body: status == 200 and body["accepted"] == 1 and body["rejected"] == {"tenant": 1},
    )
    assert activity["member_id"] == live.a
    status, body = live.worker.get(f"/views/member-activity/{live.b}")
    assert status == 404, body  # nothing was counted for the member the payload claimed to be

    # A reads its own dead letter: the original bytes, kind `tenant`
    letters = asyncio.run(consume(a, naming.dlq_topic(live.a), naming.member_group_prefix(live.a) + "dlq"))
    assert len(letters) == 1
    (letter,) = letters
    assert letter.value == forged
    assert dlq.header(letter.headers, dlq.KIND) == "tenant"
    assert dlq.header(letter.headers, dlq.ORIGINAL_OFFSET) == str(offset)
    assert live.b in (dlq.header(letter.headers, dlq.REASON) or "")


def test_on_a_secured_cluster_each_token_sees_what_its_role_allows(live: LiveHub) -> None:
    w, a, b = live.worker, live.a, live.b
    own = w.wait_for(f"/views/member-activity/{a}", lambda status, _: status == 200)
    member, subscriber = live.tokens[f"member:{a}"], live.tokens["subscriber"]
    assert w.get("/views/category-spend", token="not-a-token")[0] == 401
    w.token = None
    try:
        status, body = w.get("/views/category-spend")
        assert status == 401 and "Bearer" in body["error"]  # no anonymous reads off the local demo
        assert w.get("/health")[0] == 200 and w.get("/metrics")[0] == 200  # open to scrapers
        assert w.get("/openapi.json")[0] == 200
        assert w.get(f"/views/member-activity/{a}", token=member) == (200, own)
        status, body = w.get(f"/views/member-activity/{b}", token=member)
        assert status == 403 and "own activity" in body["error"]
        status, listing = w.get("/views/member-activity", token=member)
        assert status == 200 and [i["member_id"] for i in listing["items"]] == [a]
        assert w.get("/views/category-spend.csv", token=member)[0] == 200  # allowed by member_views
        assert w.get("/views/price-benchmark", token=member)[0] == 403
        assert w.get("/views/category-spend", token=subscriber)[0] == 200
        assert w.get("/views/supplier-exposure", token=subscriber)[0] == 403  # not in its views
        assert w.get(f"/views/member-activity/{a}", token=subscriber)[0] == 403
        status, views = w.get("/views", token=subscriber)
        assert status == 200 and [v["view"] for v in views["views"]] == ["category-spend"]
    finally:
        w.token = live.tokens["national"]
    status, views = w.get("/views")
    assert [v["view"] for v in views["views"]] == list(naming.VIEWS)


def test_a_member_added_while_the_hub_runs_is_read_within_30_seconds(live: LiveHub) -> None:
    fire = f"t-{uid()}-fire"
    assert live.settings.topology_dir is not None
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "members",
            "--dir",
            str(live.settings.topology_dir),
            "add",
            fire,
            "--name",
            "Test Fire and Rescue",
            "--sector",
            "fire",
            "--json",
        ],  # fmt: skip
        env=_admin_env(live),
    )
    assert result.exit_code == 0, result.output
    added = time.monotonic()
    s = json.loads(result.output)
    conn = KafkaConnection(
        bootstrap=s["bootstrap_servers"],
        security_protocol=s["security_protocol"],
        sasl_mechanism=s["sasl_mechanism"],
        sasl_username=s["username"],
        sasl_password=SecretStr(s["password"]),
    )
    asyncio.run(produce(conn, s["topics"]["purchase-order"], purchase_order(fire, "PO-1"), key=b"PO-1"))
    published = time.monotonic()

    live.worker.wait_for(
        f"/views/member-activity/{fire}",
        lambda status, body: status == 200 and body["accepted"] == 1,
        timeout=PICKUP_LIMIT_S,
    )
    seen = time.monotonic()
    live.worker.wait_for(  # another view, from other partitions: it may land a moment later
        "/views/category-spend/ppe",
        lambda status, body: status == 200 and body["by_member"].get(fire) == "25.00",
        timeout=60,
    )
    print(
        f"\nnew member {fire}: `members add` took {added - started:.1f} s; its first event reached the "
        f"views {seen - published:.1f} s after publishing ({seen - started:.1f} s after the add began)"
    )
    assert seen - added < PICKUP_LIMIT_S


def _admin_env(live: LiveHub) -> dict[str, str]:
    k = live.settings
    return {
        "BLUELIGHT_BOOTSTRAP": k.bootstrap,
        "BLUELIGHT_SECURITY_PROTOCOL": k.security_protocol,
        "BLUELIGHT_SASL_MECHANISM": k.sasl_mechanism,
        "BLUELIGHT_SASL_USERNAME": k.sasl_username,
        "BLUELIGHT_SASL_PASSWORD": k.sasl_password.get_secret_value(),
    }
