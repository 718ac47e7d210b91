"""Disk full on the broker while events flow: reported clearly, nothing lost, nothing counted twice.

Matrix row T13-ish (issue 13, row 2). The broker's only log dir is a small tmpfs of the test's
own. Kafka 4.x halts a broker whose only log dir fails ("Shutdown broker because all log dirs
... have failed", after java.io.IOException: No space left on device), so the test fills the
dir with a ballast file mid-stream and then checks: the broker's log names the cause; `kafka up`
on the still-full disk fails saying the log dir is full and what to do; the worker stays up and
/health degrades naming the broker; the CSV adapter exits 3 ("run again") with no checkpoint
past what was acknowledged. Then the ballast goes, the broker is restarted on its data, the
interrupted stream and the adapter's rerun complete, and every view equals the oracle.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from adapters.sdk.checkpoint import Checkpoint, CheckpointStore
from bluelight.settings import HubSettings, load_settings
from deploy import broker, process
from deploy.errors import BrokerStartError
from deploy.layout import Layout, running_pid
from schemas.serde import event_from_bytes
from tests import ports
from tests.hub_run import (
    BLUELIGHT,
    Worker,
    create_topics,
    partitions_of,
    publish,
    wait_for_quiet,
    wait_for_views,
)
from tests.oracle import Categories, Sent, expected_views, received_by_member
from tests.oracle_gen import DEFAULT_MEMBERS, Plan, generate, summary
from topologies.naming import member_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = ports.DISK_FULL
SEED = 13
MEMBERS = DEFAULT_MEMBERS
PLAN = Plan(members=MEMBERS, orders=40, contracts=12, suppliers=6, invalid_per_member=6)
RATE = 120.0
SIZE = "64m"
WORKER_ENV = {"BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "2"}
ROOT = Path(__file__).parent.parent.parent
CSV_FILE = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
CSV_CONFIG = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
CSV_MEMBER = "kent-police"


@pytest.fixture(scope="module")
def disk_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A formatted broker whose data dir is a tmpfs of SIZE; stopped, unmounted and wiped at the end."""
    state = tmp_path_factory.mktemp("disk-full-broker")
    settings = load_settings(state_dir=state)
    info = broker.ensure_up(settings, PORT)
    mounted = False
    data = Layout(state, PORT).data(info.nodes[0].node_id)
    try:
        assert info.managed and info.started, f"something already answers on {PORT}"
        broker.stop(settings, PORT, wipe=False)  # format on the real disk, then move onto the mount
        formatted = data.with_name("data.formatted")
        data.rename(formatted)
        data.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(data)], check=True)
        mounted = True
        subprocess.run(["cp", "-a", f"{formatted}/.", str(data)], check=True)
        broker.ensure_up(settings, PORT)
        yield state, data
    finally:
        broker.stop(settings, PORT, wipe=False)
        if mounted and subprocess.run(["umount", str(data)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(data)], check=False)
        broker.stop(settings, PORT, wipe=True)


@dataclass
class Outage:
    """What the test saw while the disk was full."""

    ballast: int = 0
    halted_after: float = 0.0
    broker_log: str = ""
    restart_while_full: str = ""
    csv_down: subprocess.CompletedProcess[str] | None = None
    checkpoint_down: Checkpoint | None = None
    health: dict[str, Any] = field(default_factory=dict)
    worker_alive_in_outage: bool = False
    restart_s: float = 0.0
    csv_live: subprocess.CompletedProcess[str] | None = None
    checkpoint_live: Checkpoint | None = None
    live_acked_on_topic: int = 0
    live_still_running: bool = False
    outage_s: float = 0.0


def fill(path: Path) -> int:
    """Write zeros to ``path`` until the filesystem is full; the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as out:
        try:
            while True:
                written += out.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == 28, exc
    return written


def csv_command(bootstrap: str, state: Path) -> list[str]:
    """`bluelight adapter csv` as a partner runs it (small batches: many checkpoints)."""
    args = ["--bootstrap", bootstrap, "--state-dir", str(state), "adapter", "csv", "--member", CSV_MEMBER]
    return [BLUELIGHT, *args, "--config", str(CSV_CONFIG), "--batch", "20", str(CSV_FILE)]


def run_csv(bootstrap: str, state: Path) -> subprocess.CompletedProcess[str]:
    """The adapter run to its end."""
    return subprocess.run(
        csv_command(bootstrap, state), capture_output=True, text=True, timeout=120, env={**os.environ}
    )


async def csv_sents(bootstrap: str, hub: HubSettings) -> list[Sent]:
    """The adapter's events as they landed on the member's topic, in offset order, for the oracle
    (the generator's own records on that topic are already in its list)."""
    topic = member_topic(CSV_MEMBER, "purchase-order")
    tps = await partitions_of(hub, [topic])
    assert tps, topic
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    out = []
    for r in records:
        if r.value is None or b"gla-sap" not in r.value:
            continue
        event = event_from_bytes(r.value, CSV_MEMBER, "purchase-order")
        if event.source_system == "gla-sap":
            out.append(
                Sent(CSV_MEMBER, "purchase-order", r.key, r.value, event, None, event.published_at, "csv")
            )
    return out


async def test_disk_full_is_reported_and_nothing_is_lost(
    disk_state: tuple[Path, Path], tmp_path: Path
) -> None:
    state, data = disk_state
    settings = load_settings(state_dir=state)
    layout = Layout(state, PORT)
    info = broker.ensure_up(settings, PORT)
    sent = generate(SEED, PLAN)
    n = len(sent)
    fill_at = n // 2
    print(f"\nseed {SEED}: {summary(sent)}; log dir a {SIZE} tmpfs, filled before record {fill_at}")
    await create_topics(info.hub_settings(), MEMBERS)
    worker = Worker(info.bootstrap, tmp_path / "worker-state", tmp_path / "worker.log", env=WORKER_ENV)
    worker.start()
    adapter_state = tmp_path / "adapter-state"
    live_state = tmp_path / "adapter-live-state"
    seen = Outage()

    async def nemesis(i: int) -> None:
        if i != fill_at:
            return
        t0 = time.monotonic()
        ballast = data / "ballast"
        live = subprocess.Popen(  # publishing while the disk fills
            csv_command(info.bootstrap, live_state), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        store = CheckpointStore(live_state, CSV_MEMBER, "csv")
        while store.load(CSV_FILE) is None and live.poll() is None and time.monotonic() - t0 < 20:
            await asyncio.sleep(0.02)  # fill once its first batch is acknowledged
        seen.ballast = await asyncio.to_thread(fill, ballast)
        pid = running_pid(layout, info.nodes[0].node_id)
        while pid is not None and process.alive(pid) and time.monotonic() - t0 < 60:
            await asyncio.sleep(0.2)
        seen.halted_after = time.monotonic() - t0
        seen.broker_log = process.log_tail(layout.log(info.nodes[0].node_id), 400)
        try:
            await asyncio.to_thread(broker.ensure_up, settings, PORT)
            seen.restart_while_full = "started"
        except BrokerStartError as exc:
            seen.restart_while_full = str(exc)[:1000]
        seen.csv_down = await asyncio.to_thread(run_csv, info.bootstrap, adapter_state)
        seen.checkpoint_down = CheckpointStore(adapter_state, CSV_MEMBER, "csv").load(CSV_FILE)
        while time.monotonic() - t0 < 40:
            status, body = await worker.aget("/health")
            if status == 503:
                seen.health = json.loads(body) if isinstance(body, str) else dict(body)
                break
            await asyncio.sleep(0.5)
        seen.worker_alive_in_outage = worker.alive()
        ballast.unlink()
        t1 = time.monotonic()
        await asyncio.to_thread(broker.ensure_up, settings, PORT)
        seen.restart_s = time.monotonic() - t1
        seen.live_still_running = live.poll() is None
        # an adapter connected when the broker halted waits for it (aiokafka retries; no deadline)
        out, err = await asyncio.to_thread(live.communicate, timeout=120)
        seen.csv_live = subprocess.CompletedProcess(live.args, live.returncode, out, err)
        seen.checkpoint_live = CheckpointStore(live_state, CSV_MEMBER, "csv").load(CSV_FILE)
        seen.outage_s = time.monotonic() - t0

    began = time.monotonic()
    try:
        await worker.wait_ready()
        await publish(info.bootstrap, sent, rate=RATE, before=nemesis)
        landed = await csv_sents(info.bootstrap, info.hub_settings())
        seen.live_acked_on_topic = len({s.key for s in landed})
        csv_live_up = await asyncio.to_thread(run_csv, info.bootstrap, live_state)
        csv_up = await asyncio.to_thread(run_csv, info.bootstrap, adapter_state)
        all_sent = sent + await csv_sents(info.bootstrap, info.hub_settings())
        await wait_for_quiet(worker, received_by_member(all_sent), timeout=180)
        expected = expected_views(all_sent, Categories(), PLAN.as_of)
        diffs = await wait_for_views(worker, expected, PLAN.as_of, timeout=30)
        alive = worker.alive()
    finally:
        worker.stop()
    print(
        f"ballast {seen.ballast // 1024} KiB; broker halted {seen.halted_after:.1f}s after the fill; "
        f"outage {seen.outage_s:.1f}s; restart on freed disk {seen.restart_s:.1f}s; "
        f"total {time.monotonic() - began:.0f}s"
    )
    log = seen.broker_log
    assert "No space left on device" in log and "all log dirs" in log, log[-3000:]
    assert "is full (No space left on device): free space" in str(seen.restart_while_full), seen[
        "restart_while_full"
    ]
    down = seen.csv_down
    assert down is not None
    assert down.returncode == 3, (down.returncode, down.stdout, down.stderr)
    assert "run the same command again to resume" in down.stderr and "Traceback" not in down.stderr
    assert seen.checkpoint_down is None or seen.checkpoint_down.position == 0
    live = seen.csv_live
    assert live is not None
    cp = seen.checkpoint_live
    print(
        f"adapter publishing as the disk filled: still running at the restart {seen.live_still_running}, "
        f"exit {live.returncode}, checkpoint at "
        f"{cp and cp.position} of 317, {seen.live_acked_on_topic} of its events on the topic after"
    )
    assert live.returncode in (0, 3), (live.returncode, live.stdout, live.stderr)
    if live.returncode == 3:
        assert "run the same command again to resume" in live.stderr and "Traceback" not in live.stderr
    # the checkpoint never runs ahead of what the broker kept
    assert cp is None or cp.position <= seen.live_acked_on_topic, (cp, seen.live_acked_on_topic)
    assert csv_live_up.returncode == 0, (csv_live_up.stdout, csv_live_up.stderr)
    health = seen.health
    assert any("Kafka broker" in r for r in health.get("reasons", [])), health
    assert seen.worker_alive_in_outage and alive and worker.starts == 1, worker.tail()
    assert csv_up.returncode == 0, (csv_up.stdout, csv_up.stderr)
    assert "317 events" in csv_up.stdout
    assert len({s.key for s in all_sent[len(sent) :]}) == 317, "adapter events missing from the topic"
    report = [f"{view}:\n" + "\n".join(lines) for view, lines in diffs.items()]
    assert not diffs, "views differ from the oracle after the disk filled:\n" + "\n".join(report)
