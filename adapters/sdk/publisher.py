"""The one way adapters put events on a member's topics.

An idempotent producer with ``acks=all``: the broker drops the producer's own retries, and
an acknowledgement means every in-sync replica has the event. Events are keyed by
``entity_id`` so every version of an entity lands on one partition, in order. Callers get a
future per event and must not record progress (checkpoints, HTTP 202) before it resolves.

Every future resolves: aiokafka retries a produce with no overall deadline (a broker that
halted on a full disk kept an adapter retrying for minutes, saying only "Unable connect to
node"), so an event not acknowledged within ``DELIVERY_DEADLINE_S`` fails with a PublishError
that says so, and closing waits at most ``CLOSE_DEADLINE_S`` for what is still in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from adapters.sdk.envelope import utc_now
from adapters.sdk.metrics import AdapterMetrics, default_metrics
from bluelight.settings import KafkaConnection
from schemas.models import Event, family_of
from schemas.serde import encode_event
from topologies.naming import member_topic, parse_member_topic

TOPIC_WAIT_SECONDS = 15.0
DELIVERY_DEADLINE_S = 120.0  # Kafka's own delivery.timeout.ms default
CLOSE_DEADLINE_S = 10.0


@dataclass(frozen=True)
class Ack:
    """Where the broker put one event."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Outgoing:
    """An event encoded for its topic, not yet sent."""

    event: Event
    topic: str
    value: bytes


class PublishError(RuntimeError):
    """The broker refused or did not acknowledge; what was not acknowledged was not published."""


class RefusedError(PublishError):
    """Running again will not help: the member is not plugged in, or this user may not write.

    Commands exit 2 (a usage or configuration error) for it, not 3 ("run again").
    """


UNKNOWN_TOPIC = 3  # Kafka's UNKNOWN_TOPIC_OR_PARTITION
TOPIC_AUTHORIZATION_FAILED = 29


class Publisher:
    """Sends events to their member's topics; use ``async with Publisher(...) as pub``.

    Events must already be prepared (adapters.sdk.prepare), which checked that each names
    the member it is sent for; the topic is the one of the event's ``member_id``.
    """

    def __init__(
        self,
        kafka: KafkaConnection,
        adapter: str,
        *,
        metrics: AdapterMetrics | None = None,
        producer_options: dict[str, Any] | None = None,
        delivery_deadline: float = DELIVERY_DEADLINE_S,
    ) -> None:
        self.adapter = adapter
        self.delivery_deadline = delivery_deadline
        self.metrics = metrics or default_metrics()
        self._producer = AIOKafkaProducer(
            **kafka.to_aiokafka_kwargs(),
            client_id=f"bluelight-adapter-{adapter}",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            **(producer_options or {}),
        )
        self._checked: dict[str, frozenset[int]] = {}
        self._user = kafka.sasl_username

    async def __aenter__(self) -> Publisher:
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise PublishError(f"cannot reach the Kafka cluster: {exc}") from exc
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await asyncio.wait_for(self._producer.stop(), CLOSE_DEADLINE_S)
        except TimeoutError:
            pass  # unacknowledged events already failed their futures; the process may end

    async def partitions(self, topic: str) -> frozenset[int]:
        """The partitions of ``topic``, with a clear error when it does not exist."""
        if topic not in self._checked:
            await self._check_topic(topic)
            try:
                found = await asyncio.wait_for(self._producer.partitions_for(topic), TOPIC_WAIT_SECONDS)
            except (TimeoutError, KafkaError) as exc:
                raise PublishError(
                    f"topic {topic} is not available ({type(exc).__name__}); is the member plugged in? "
                    "Run `bluelight members add` (or `bluelight topology apply`) first"
                ) from exc
            self._checked[topic] = frozenset(found)
        return self._checked[topic]

    async def _check_topic(self, topic: str) -> None:
        """RefusedError unless ``topic`` exists and this user may see it.

        Asked with auto-creation off: the producer's own metadata request would let a dev
        broker (auto.create.topics.enable) create the topic of a member never plugged in,
        and publishing as that member would then succeed (docs/topology.md, "Who gets in").
        """
        client = self._producer.client
        request = MetadataRequest([topic], allow_auto_topic_creation=False)
        try:
            asked = client.send(client.get_random_node(), request)
            response = await asyncio.wait_for(asked, TOPIC_WAIT_SECONDS)
        except (TimeoutError, KafkaError) as exc:
            raise PublishError(f"cannot read the metadata of {topic}: {type(exc).__name__} {exc}") from exc
        [found] = [t for t in response.to_object()["topics"] if t["topic"] == topic] or [{"error_code": 3}]
        user = self._user or "this connection"
        if found["error_code"] == TOPIC_AUTHORIZATION_FAILED:
            raise RefusedError(
                f"not authorised: {user} may not write to {topic}. Publish with the member's own "
                "settings (--env-file <member>.env, written by `bluelight members add --env-file`)"
            )
        if found["error_code"] == UNKNOWN_TOPIC:
            parsed = parse_member_topic(topic)
            member = parsed.member if parsed is not None else topic
            raise RefusedError(
                f"{member} is not a member of this hub: topic {topic} does not exist (nothing was "
                "created). Plug the member in first: `bluelight members add` or `bluelight topology apply`"
            )
        if found["error_code"]:
            raise PublishError(f"topic {topic}: Kafka error {found['error_code']}")

    def encode(self, event: Event, *, stamp: bool = True) -> Outgoing:
        """``event`` stamped ``published_at`` now and encoded, ready to send (EncodeError if not).

        ``stamp=False`` when the caller has just stamped it. Encode every event of a request
        or file first, then send: an event that cannot be encoded is then found before
        anything of the batch has left.
        """
        stamped = event.model_copy(update={"published_at": utc_now()}) if stamp else event
        return Outgoing(event, member_topic(event.member_id, family_of(event)), encode_event(stamped))

    async def send(self, event: Event, *, stamp: bool = True) -> asyncio.Future[Ack]:
        """Queue ``event``; the future resolves on the broker's ack."""
        await self.partitions(member_topic(event.member_id, family_of(event)))
        return await self.send_encoded(self.encode(event, stamp=stamp))

    async def send_encoded(self, out: Outgoing) -> asyncio.Future[Ack]:
        """Queue an encoded event; the future resolves on the broker's ack."""
        event, topic = out.event, out.topic
        family = family_of(event)
        await self.partitions(topic)
        try:
            sent = await self._producer.send(topic, value=out.value, key=event.entity_id.encode())
        except KafkaError as exc:
            raise PublishError(f"could not queue {family} {event.entity_id}: {exc}") from exc
        loop = asyncio.get_running_loop()
        ack: asyncio.Future[Ack] = loop.create_future()
        labels = (event.member_id, family, self.adapter)

        def expire() -> None:
            if not ack.done():
                ack.set_exception(
                    PublishError(
                        f"the broker did not acknowledge {family} {event.entity_id} within "
                        f"{self.delivery_deadline:g} s: is the Kafka cluster up (`bluelight kafka status`)? "
                        "Run again once it is"
                    )
                )

        deadline = loop.call_later(self.delivery_deadline, expire)

        def settle(done: asyncio.Future[Any]) -> None:
            deadline.cancel()
            if ack.done():
                return
            if done.cancelled():
                ack.set_exception(PublishError(f"{family} {event.entity_id}: send cancelled"))
            elif (error := done.exception()) is not None:
                ack.set_exception(
                    PublishError(f"the broker did not acknowledge {family} {event.entity_id}: {error}")
                )
            else:
                meta = done.result()
                self.metrics.published.labels(*labels).inc()
                ack.set_result(Ack(meta.topic, meta.partition, meta.offset))

        sent.add_done_callback(settle)
        return ack

    async def publish_all(self, events: Iterable[Event]) -> list[Ack]:
        """Encode every event and check every topic, then send all and wait for every ack, in order."""
        outgoing = [self.encode(event) for event in events]
        for topic in sorted({out.topic for out in outgoing}):
            await self.partitions(topic)
        futures = [await self.send_encoded(out) for out in outgoing]
        return list(await asyncio.gather(*futures))

    async def flush(self) -> None:
        """Send whatever is buffered now."""
        await self._producer.flush()
