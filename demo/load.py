"""The demo's load: publish the synthetic events, then watch the hub take them in.

Events go out in the generator's delivery order through one idempotent producer (acks=all),
keyed by entity id, as the exact bytes ``synthetic.wire_bytes`` gives (bad events are bad on
the wire on purpose). Kafka keeps order per partition and the key picks the partition, so
each entity's versions arrive in the order the generator's labels assume.

Taking in is measured against Kafka itself: the hub has taken everything in when, for every
member, member-activity's accepted + duplicates + rejected reaches the number of records ever
written to the member's input topics (earlier runs' included).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tqdm import tqdm

from bluelight.settings import HubSettings
from demo.balance import Counts, activity_by_member, taken_in
from demo.synthetic import SyntheticEvent, wire_bytes
from demo.worker import DemoError, DemoWorker, get, get_json, metric_total
from topologies.admin import connect
from topologies.naming import member_topic, member_topics, parse_member_topic

STALL_TIMEOUT_S = 90.0  # no progress for this long: something is wrong
POLL_S = 0.5


def sent_by_member(events: Sequence[SyntheticEvent]) -> dict[str, int]:
    """How many events go to each member's topics."""
    return dict(Counter(e.member for e in events))


async def publish(settings: HubSettings, events: Sequence[SyntheticEvent]) -> float:
    """Publish every event, a progress bar counting acknowledgements; returns the seconds taken."""
    began = time.monotonic()
    producer = AIOKafkaProducer(
        enable_idempotence=True,
        acks="all",
        linger_ms=10,
        client_id="bluelight-demo",
        **settings.kafka.to_aiokafka_kwargs(),
    )
    await producer.start()
    try:
        # Fetch every topic's metadata at once: learnt one topic at a time, as the first send
        # to each would, 165 topics cost seconds.
        topics = sorted({member_topic(e.member, e.family) for e in events})
        await asyncio.gather(*(producer.partitions_for(t) for t in topics))
        with tqdm(total=len(events), desc="  publishing", unit=" events", mininterval=0.5) as bar:
            futures = []
            for e in events:
                future = await producer.send(
                    member_topic(e.member, e.family), key=e.key.encode(), value=wire_bytes(e)
                )
                future.add_done_callback(lambda _f: bar.update(1))
                futures.append(future)
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.monotonic() - began


def activity(worker: DemoWorker) -> dict[str, Counts]:
    """The member-activity view as the worker serves it now."""
    return activity_by_member(get_json(f"{worker.base_url}/views/member-activity")["items"])


def wait_taken_in(worker: DemoWorker, held: Mapping[str, int]) -> float:
    """Until member-activity accounts for every record on the members' topics; DemoError on a stall."""
    began = last_change = time.monotonic()
    goal = sum(held.values())
    done = -1
    with tqdm(total=goal, desc="  taken in  ", unit=" events", mininterval=0.5) as bar:
        while True:
            worker.check_alive()
            now_done = taken_in(activity(worker), held)
            bar.update(now_done - bar.n)
            if now_done >= goal:
                return time.monotonic() - began
            now = time.monotonic()
            if now_done != done:
                done, last_change = now_done, now
            elif now - last_change > STALL_TIMEOUT_S:
                where = f"Its log: {worker.log}" if worker.log else "Look at the worker's own output."
                raise DemoError(
                    f"the hub has accounted for {done:,} of the {goal:,} records on the partners' topics "
                    f"and made no progress for {STALL_TIMEOUT_S:.0f} s. Is the worker at "
                    f"{worker.base_url} reading the same Kafka? {where} (look for errors from "
                    "ingest or the views stage)."
                )
            time.sleep(POLL_S)


def wait_views_written(worker: DemoWorker, quiet_s: float = 1.0, timeout: float = 20.0) -> None:
    """Until the worker has stopped writing view records for ``quiet_s`` (its flushes are done)."""
    deadline = time.monotonic() + timeout
    last, since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        answer = get(f"{worker.base_url}/metrics")
        if answer is None:
            return
        written = metric_total(answer[1].decode(), "bluelight_view_records_published_total")
        if written != last:
            last, since = written, time.monotonic()
        elif written > 0 and time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.25)


async def records_written(settings: HubSettings, topics: Sequence[str]) -> dict[str, int]:
    """Records ever written to each existing topic: its partitions' end offsets, summed.

    End offsets, not end minus start: retention and compaction remove records but not what
    was sent, and the hub's counts are of everything it was sent.
    """
    async with connect(settings.kafka) as admin:
        found = await admin.topics(list(topics), configs=False)
    tps = [TopicPartition(t, p) for t, state in found.items() for p in range(state.partitions)]
    if not tps:
        return {}
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False, client_id="bluelight-demo", **settings.kafka.to_aiokafka_kwargs()
    )
    await consumer.start()
    try:
        consumer.assign(tps)  # unassigned, end_offsets waits on metadata per topic: 17 s for 165 topics
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    out: dict[str, int] = dict.fromkeys(found, 0)
    for tp in tps:
        out[tp.topic] += ends[tp]
    return out


async def member_records(settings: HubSettings, members: Sequence[str]) -> dict[str, int]:
    """Records ever written to each member's input topics, all families together."""
    written = await records_written(settings, [t for m in members for t in member_topics(m)])
    out = dict.fromkeys(members, 0)
    for topic, n in written.items():
        parsed = parse_member_topic(topic)
        if parsed is not None and parsed.member in out:
            out[parsed.member] += n
    return out
