"""``bluelight views purge``: a wrongly published member's data leaves every view, on a running
worker, and the other members' data stays as it was."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from adapter_kafka import create_member_topics
from test_outsiders import send
from topology_support import BLUELIGHT, make_topology, purchase_order, running_worker, uid

from topologies.model import Member
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka


def involved(items: list[dict[str, object]], member: str) -> bool:
    return any(member in str(item.get("by_member", {})) for item in items)


def test_purge_takes_a_member_out_of_every_view(kafka_bootstrap: str, tmp_path: Path) -> None:
    u = uid()
    insider, outsider = f"t-{u}-in", f"t-{u}-out"
    topology = make_topology(tmp_path / "topology", [Member(id=insider, name="Insider", sector="police")])
    for member in (insider, outsider):
        asyncio.run(create_member_topics(kafka_bootstrap, member))
    orders = [
        (member_topic(m, "purchase-order"), purchase_order(m, f"PO-{i}"))
        for m in (insider, outsider)
        for i in range(3)
    ]
    asyncio.run(send(kafka_bootstrap, orders))
    env = {
        "BLUELIGHT_BOOTSTRAP": kafka_bootstrap,
        "BLUELIGHT_MEMBERS_ONLY": "false",  # as before the gate: the outsider gets in
        "BLUELIGHT_TOPOLOGY_DIR": str(topology),
    }
    with running_worker(env, tmp_path) as worker:
        for member in (insider, outsider):
            worker.wait_for(
                f"/views/member-activity/{member}",
                lambda status, body: status == 200 and body.get("accepted") == 3,
                timeout=400,
            )
        # category-spend comes from other partitions than member-activity: wait for it too
        worker.wait_for(  # the check below can fail
            "/views/category-spend",
            lambda status, body: status == 200
            and all(involved(body["items"], m) for m in (insider, outsider)),
            timeout=120,
        )

        cli = [BLUELIGHT, "views", "purge"]
        refused = subprocess.run([*cli, insider], env={**os.environ, **env}, capture_output=True, text=True)
        assert refused.returncode == 2 and "is a member of the topology" in refused.stderr

        done = subprocess.run([*cli, outsider], env={**os.environ, **env}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "ordered on 3 canonical partitions" in done.stdout

        worker.wait_for(f"/views/member-activity/{outsider}", lambda status, body: status == 404, timeout=120)
        for view in ("category-spend", "supplier-exposure", "price-benchmark"):
            worker.wait_for(
                f"/views/{view}",
                lambda status, body: status == 200 and not involved(body["items"], outsider),
                timeout=60,
            )
        status, mine = worker.get(f"/views/member-activity/{insider}")
        assert status == 200 and mine["accepted"] == 3, mine
        _, spend = worker.get("/views/category-spend")
        assert involved(spend["items"], insider), spend
    assert f"purging {outsider} from canonical partition" in worker.log.read_text()
