"""Drive a real hub from a test or the benchmark: its own broker, a worker process, publish, wait, read.

Used by tests/integration/test_oracle.py, tests/integration/test_sigkill.py and bench/. The
worker is the real ``bluelight worker`` command in a subprocess (so SIGKILL is a real crash);
records go in through one idempotent producer awaiting its sends in order, so each input
partition's offsets follow the order the oracle replays.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bluelight.settings import HubSettings, load_settings
from deploy import broker
from deploy.broker import BrokerInfo
from schemas.serde import decode_record
from tests.oracle import KEY_FIELD, VIEWS, Sent, diff_view, iso_z, normalise_served
from topologies.admin import connect
from topologies.apply import ensure_hub_topics, ensure_member_topics
from topologies.naming import FAMILIES, dlq_topic, member_topic, view_topic

BLUELIGHT = str(Path(sys.executable).with_name("bluelight"))

# DLQ header names of the hub (docs: streams/dlq.py): the kind and where the original was read.
DLQ_KIND = "kind"
DLQ_TOPIC = "original_topic"
DLQ_PARTITION = "original_partition"
DLQ_OFFSET = "original_offset"
DLQ_OMITTED = "omitted"  # a letter over 1,000,000 bytes leaves its value out (docs/streams.md)
MAX_LETTER_BYTES = 1_000_000


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the worker process -----------------------------------------------------------------------------


class Worker:
    """``bluelight worker`` as a child process in its own session, logging to a file."""

    def __init__(
        self,
        bootstrap: str,
        state_dir: Path,
        log: Path,
        http_port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.extra_env = env or {}
        self.state_dir = state_dir
        self.log = log
        self.http = f"127.0.0.1:{http_port or free_port()}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start (or restart) the worker; returns at once (see :meth:`wait_ready`)."""
        assert self.proc is None or self.proc.poll() is not None, "the worker is already running"
        env = {
            **os.environ,
            "BLUELIGHT_BOOTSTRAP": self.bootstrap,
            "BLUELIGHT_HTTP": self.http,
            "BLUELIGHT_STATE_DIR": str(self.state_dir),
            **self.extra_env,
        }
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== worker start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode())
            self.proc = subprocess.Popen(
                [BLUELIGHT, "worker", "--loglevel", "info"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the worker (a crash: no shutdown, no final commit) and reap it."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        with self.log.open("ab") as out:
            out.write(f"\n===== worker SIGKILLed at {time.strftime('%H:%M:%S')} =====\n".encode())

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it takes too long."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        """The process runs."""
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 60) -> str:
        """The end of the worker's log, for failure messages."""
        if not self.log.exists():
            return "(no worker log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, Any]:
        """GET a path of the worker's HTTP API: status and JSON (status 0: nothing answered)."""
        try:
            with urllib.request.urlopen(f"http://{self.http}{path}", timeout=timeout) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            return 0, str(exc)

    async def aget(self, path: str) -> tuple[int, Any]:
        """:meth:`get` off the event loop."""
        return await asyncio.to_thread(self.get, path)

    async def wait_ready(self, timeout: float = 120.0) -> float:
        """Wait until the views answer (200); returns the seconds it took."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if not self.alive():
                raise AssertionError(
                    f"the worker exited with {self.proc and self.proc.returncode}:\n{self.tail()}"
                )
            status, _ = await self.aget("/views/member-activity")
            if status == 200:
                return time.monotonic() - began
            await asyncio.sleep(0.25)
        raise AssertionError(f"the worker did not answer within {timeout:.0f}s:\n{self.tail()}")


# --- a process's resources and the worker's metrics -------------------------------------------------


def rss_mb(pid: int | None) -> float:
    """Resident set size of a process in MB (0 when it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU a process has used so far (0 when it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(worker: Worker) -> str:
    """The worker's /metrics page as text."""
    with urllib.request.urlopen(f"http://{worker.http}/metrics", timeout=10) as resp:  # noqa: S310
        return str(resp.read().decode())


def sample(text: str, name: str) -> float:
    """The value of the unlabelled sample ``name`` on a /metrics page."""
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


# --- topics and publishing ----------------------------------------------------------------------------


async def create_topics(settings: HubSettings, members: Sequence[str], timeout: float = 30.0) -> None:
    """The hub's topics and each member's input and DLQ topics, as the topology declares them;
    returns once every one shows in the cluster's metadata.

    Made before the worker starts: a worker that creates the hub topics itself on a fresh
    broker can look them up before the metadata has them and exit (seen on Kafka 4.1).
    """
    names = set(await ensure_hub_topics(settings))
    for member in members:
        await ensure_member_topics(settings, member)
        names |= {member_topic(member, f) for f in FAMILIES} | {dlq_topic(member)}
    began = time.monotonic()
    async with connect(settings.kafka) as admin:
        while True:
            missing = names - set(await admin.topics(sorted(names), configs=False))
            if not missing:
                return
            if time.monotonic() - began > timeout:
                raise AssertionError(f"topics still missing after {timeout:.0f}s: {sorted(missing)}")
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Placed:
    """Where a produced record landed."""

    topic: str
    partition: int
    offset: int


async def publish(
    bootstrap: str,
    sent: Sequence[Sent],
    *,
    rate: float | None = None,
    before: Callable[[int], Any] | None = None,
    window: int = 200,
) -> list[Placed]:
    """Produce every record in order; returns where each landed (same order as ``sent``).

    One idempotent producer (acks=all) keeps each partition in send order. ``rate`` paces the
    sends (records per second); ``before(i)`` is awaited (if it returns an awaitable) before
    record ``i`` is sent, e.g. to SIGKILL the worker at a chosen point. At most ``window``
    sends are in flight.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2, client_id="oracle"
    )
    await producer.start()
    placed: list[Placed | None] = [None] * len(sent)
    pending: list[tuple[int, asyncio.Future[Any]]] = []
    began = time.monotonic()

    async def drain(keep: int) -> None:
        while len(pending) > keep:
            i, fut = pending.pop(0)
            meta = await fut
            placed[i] = Placed(meta.topic, meta.partition, meta.offset)

    try:
        for i, s in enumerate(sent):
            if before is not None:
                maybe = before(i)
                if asyncio.iscoroutine(maybe):
                    await maybe
            if rate:
                delay = began + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            fut = await producer.send(member_topic(s.member, s.family), value=s.value, key=s.key)
            pending.append((i, fut))
            await drain(window)
        await drain(0)
    finally:
        await producer.stop()
    assert all(p is not None for p in placed)
    return [p for p in placed if p is not None]


# --- waiting and reading ------------------------------------------------------------------------------


def activity_received(body: dict[str, Any]) -> dict[str, int]:
    """received = accepted + duplicates + sum(rejected), per member, from a member-activity answer."""
    return {
        i["member_id"]: i["accepted"] + i["duplicates"] + sum(i["rejected"].values()) for i in body["items"]
    }


async def wait_for_quiet(worker: Worker, expected: dict[str, int], timeout: float) -> dict[str, int]:
    """Wait until member-activity has received exactly what was sent, per member.

    Fails with the per-member difference on timeout, or early when a member has received more
    than was sent for a while (a count that can never come back down).
    """
    began = time.monotonic()
    got: dict[str, int] = {}
    over_since: float | None = None
    while time.monotonic() - began < timeout:
        status, body = await worker.aget("/views/member-activity")
        if status == 200:
            got = activity_received(body)
            if got == expected:
                return got
            over = any(got.get(m, 0) > n for m, n in expected.items()) or set(got) - set(expected)
            if over:
                over_since = over_since or time.monotonic()
                if time.monotonic() - over_since > 15:
                    break
            else:
                over_since = None
        await asyncio.sleep(0.5)
    diff = {
        m: {"sent": expected.get(m, 0), "received": got.get(m, 0)}
        for m in sorted(set(expected) | set(got))
        if expected.get(m, 0) != got.get(m, 0)
    }
    raise AssertionError(
        f"member-activity did not balance with what was sent after {time.monotonic() - began:.0f}s: {diff}\n"
        f"worker log tail:\n{worker.tail()}"
    )


async def served_views(worker: Worker, as_of: date) -> dict[str, dict[str, Any]]:
    """Every view as the worker serves it (contract-pipeline for ``as_of``), timestamps normalised."""
    out = {}
    for view in VIEWS:
        path = f"/views/{view}" + (f"?as_of={as_of.isoformat()}" if view == "contract-pipeline" else "")
        status, body = await worker.aget(path)
        if status != 200:
            raise AssertionError(f"GET {path} answered {status}: {body}")
        out[view] = normalise_served(view, body)
    return out


async def wait_for_views(
    worker: Worker, expected: dict[str, dict[str, Any]], as_of: date, timeout: float
) -> dict[str, list[str]]:
    """Poll until every view equals the oracle or ``timeout``; the remaining differences per view."""
    began = time.monotonic()
    while True:
        served = await served_views(worker, as_of)
        diffs = {v: diff_view(expected[v], served[v], KEY_FIELD[v]) for v in VIEWS}
        diffs = {v: d for v, d in diffs.items() if d}
        if not diffs or time.monotonic() - began > timeout:
            return diffs
        await asyncio.sleep(1.0)


@dataclass(frozen=True)
class DeadLetterSeen:
    """One record read back from a member's DLQ."""

    dlq_member: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def origin(self) -> tuple[str, int, int] | None:
        """(topic, partition, offset) of the rejected input record, from the headers."""
        try:
            return (self.headers[DLQ_TOPIC], int(self.headers[DLQ_PARTITION]), int(self.headers[DLQ_OFFSET]))
        except (KeyError, ValueError):
            return None


async def partitions_of(settings: HubSettings, names: Sequence[str]) -> list[TopicPartition]:
    """Every partition of the named topics that exist."""
    async with connect(settings.kafka) as admin:
        found = await admin.topics(list(names), configs=False)
    return [TopicPartition(name, p) for name in names if name in found for p in range(found[name].partitions)]


async def read_dlqs(settings: HubSettings, members: Sequence[str]) -> list[DeadLetterSeen]:
    """Everything in the members' DLQ topics, from the beginning to the current end."""
    tps = await partitions_of(settings, [dlq_topic(m) for m in members])
    out: list[DeadLetterSeen] = []
    missing = {dlq_topic(m) for m in members} - {tp.topic for tp in tps}
    assert not missing, f"no such DLQ topics: {sorted(missing)}; reading them would find nothing either way"
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False, client_id="oracle-dlq", **settings.kafka.to_aiokafka_kwargs()
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        owner = {dlq_topic(m): m for m in members}
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    out.append(DeadLetterSeen(owner[tp.topic], r.key, r.value, headers))
    finally:
        await consumer.stop()
    return out


def check_dead_letters(
    sent: Sequence[Sent], placed: Sequence[Placed], seen: Sequence[DeadLetterSeen], *, exactly_once: bool
) -> list[str]:
    """Each rejected record is in its own member's DLQ with the right kind and its bytes unchanged;
    nothing else is. With ``exactly_once`` a rejected record appears once, else at least once."""
    problems: list[str] = []
    by_origin: dict[tuple[str, int, int], list[DeadLetterSeen]] = {}
    for d in seen:
        if d.origin is None:
            problems.append(f"DLQ record in {d.dlq_member}'s DLQ without origin headers: {d.headers}")
            continue
        by_origin.setdefault(d.origin, []).append(d)
    wanted: set[tuple[str, int, int]] = set()
    for s, p in zip(sent, placed, strict=True):
        origin = (p.topic, p.partition, p.offset)
        if s.reject is None:
            continue
        wanted.add(origin)
        found = by_origin.get(origin, [])
        if not found:
            problems.append(f"not dead-lettered: {s.note} ({p.topic}[{p.partition}]@{p.offset})")
            continue
        if exactly_once and len(found) > 1:
            problems.append(f"dead-lettered {len(found)} times: {s.note}")
        for d in found:
            if d.dlq_member != s.member:
                problems.append(f"{s.note}: landed in {d.dlq_member}'s DLQ, not {s.member}'s")
            if d.headers.get(DLQ_KIND) != s.reject:
                problems.append(f"{s.note}: DLQ kind {d.headers.get(DLQ_KIND)!r}, expected {s.reject!r}")
            if DLQ_OMITTED in d.headers:  # a letter too large to keep whole (streams/dlq.py)
                if size_sent(s) <= MAX_LETTER_BYTES - 4_096 or d.value is not None:
                    left_out = d.headers[DLQ_OMITTED]
                    problems.append(f"{s.note}: {size_sent(s):,} bytes dead-lettered without {left_out}")
            elif d.value != s.value or d.key != s.key:
                problems.append(f"{s.note}: DLQ record's key/value differ from what was sent")
    for origin, records in by_origin.items():
        if origin not in wanted:
            problems.append(
                f"DLQ record for an input that should not be rejected: {origin} {records[0].headers}"
            )
    return problems


def size_sent(s: Sent) -> int:
    """The bytes of a record's value and its key twice (the key is also a DLQ header)."""
    return len(s.value or b"") + 2 * len(s.key or b"")


# --- a broker of the test's own -------------------------------------------------------------------------


@contextmanager
def fresh_broker(state_dir: Path, port: int) -> Iterator[BrokerInfo]:
    """A new single-node broker on ``port`` with its data under ``state_dir``, wiped afterwards.

    The oracle needs a cluster holding only its own records (the shared dev broker has
    everyone's), so a broker already answering on ``port`` is an error, not something to reuse.
    """
    settings = load_settings(state_dir=state_dir)
    info = broker.ensure_up(settings, port)
    try:
        if not (info.managed and info.started):
            raise AssertionError(
                f"something already answers on 127.0.0.1:{port}; the oracle tests need a fresh broker there. "
                f"Stop it (`bluelight --state-dir <its state dir> kafka down --port {port}`) and rerun."
            )
        yield info
    finally:
        broker.stop(settings, port, wipe=True)


# --- the view topics -----------------------------------------------------------------------------------

_DECIMAL_TEXT = re.compile(r"^-?\d+\.\d+$")
# contract-pipeline on its topic is bucketed for the day it was published, not the test's as_of
_DATE_DEPENDENT = {"as_of", "expiring", "collaboration"}


def comparable(value: Any) -> Any:
    """A JSON item or a decoded Avro record in one comparable form: decimals (text or Decimal) as
    Decimal, dates as ISO text, instants as the oracle's ISO-Z text."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        return Decimal(value)
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


async def read_view_topics(settings: HubSettings) -> dict[str, dict[str, dict[str, Any]]]:
    """The latest record per key on every view topic (tombstones remove the key), decoded."""
    tps = await partitions_of(settings, [view_topic(v) for v in VIEWS])
    out: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VIEWS}
    view_of = {view_topic(v): v for v in VIEWS}
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False, client_id="oracle-views", **settings.kafka.to_aiokafka_kwargs()
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    key = (r.key or b"").decode()
                    if r.value is None:
                        out[view_of[tp.topic]].pop(key, None)
                    else:
                        out[view_of[tp.topic]][key] = decode_record(r.value).record
    finally:
        await consumer.stop()
    return out


def diff_view_topics(
    expected: dict[str, dict[str, Any]], topics: dict[str, dict[str, dict[str, Any]]]
) -> list[str]:
    """How the view topics differ from the oracle's items (contract-pipeline without its dated parts)."""
    out: list[str] = []
    for view in VIEWS:
        want = {str(i[KEY_FIELD[view]]): i for i in expected[view]["items"]}
        got = topics[view]
        for key in sorted(set(want) - set(got)):
            out.append(f"  {view}: key {key!r} missing from the view topic")
        for key in sorted(set(got) - set(want)):
            out.append(
                f"  {view}: key {key!r} on the view topic but not in the oracle (a missing tombstone?)"
            )
        for key in sorted(set(want) & set(got)):
            a = {
                k: v
                for k, v in comparable(want[key]).items()
                if view != "contract-pipeline" or k not in _DATE_DEPENDENT
            }
            b = {
                k: v
                for k, v in comparable(got[key]).items()
                if view != "contract-pipeline" or k not in _DATE_DEPENDENT
            }
            if a != b:
                fields = [f for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f)]
                out.append(
                    f"  {view}: key {key!r} differs in {fields}: expected {[a.get(f) for f in fields]}, "
                    f"on the topic {[b.get(f) for f in fields]}"[:1500]
                )
    return out


async def wait_for_view_topics(
    settings: HubSettings, expected: dict[str, dict[str, Any]], timeout: float
) -> list[str]:
    """Poll the view topics until they hold the oracle's items (or ``timeout``); the differences left."""
    began = time.monotonic()
    while True:
        diffs = diff_view_topics(expected, await read_view_topics(settings))
        if not diffs or time.monotonic() - began > timeout:
            return diffs
        await asyncio.sleep(1.0)
