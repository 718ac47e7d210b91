"""The latest dead letters of every member, for its partner page.

A consumer without a group reads every dead-letter topic (by pattern, so a member added while
the hub runs is picked up) from the start and keeps each member's newest few rejects with the
reason, field and origin the headers carry (``streams/dlq.py``). Dead-letter topics hold only
what was rejected, so reading them whole is cheap; the full list is ``bluelight rejects``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer

from bluelight.settings import HubSettings
from streams import dlq
from topologies.naming import DLQ_PREFIX

log = logging.getLogger(__name__)

KEPT = 20  # per member
DLQ_PATTERN = rf"^{DLQ_PREFIX.replace('.', '[.]')}[a-z0-9][a-z0-9-]{{1,40}}[.]v1$"


class DeadLetters:
    """Each member's newest dead letters, newest first."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.by_member: dict[str, deque[dict[str, Any]]] = {}

    def put(self, topic: str, timestamp_ms: int, headers: tuple[tuple[str, bytes], ...]) -> None:
        """One dead-letter record as read from Kafka."""
        member = dlq.header(headers, dlq.MEMBER) or topic.removeprefix(DLQ_PREFIX).removesuffix(".v1")
        origin = dlq.header(headers, dlq.ORIGINAL_TOPIC)
        partition = dlq.header(headers, dlq.ORIGINAL_PARTITION)
        where = f"{origin}[{partition}]@{dlq.header(headers, dlq.ORIGINAL_OFFSET)}" if origin else ""
        letter = {
            "at": datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": dlq.header(headers, dlq.KIND) or "",
            "field": dlq.header(headers, dlq.FIELD) or "",
            "reason": dlq.header(headers, dlq.REASON) or "",
            "origin": where,
        }
        self.by_member.setdefault(member, deque(maxlen=self.kept)).append(letter)

    def latest(self, member: str) -> list[dict[str, Any]]:
        """The member's newest dead letters, newest first."""
        return list(reversed(self.by_member.get(member, ())))


class DeadLetterFeed:
    """Reads every dead-letter topic into :class:`DeadLetters` for the life of the worker."""

    def __init__(self, settings: HubSettings, letters: DeadLetters) -> None:
        self.settings = settings
        self.letters = letters
        self.consumer: AIOKafkaConsumer | None = None
        self.stopping = False

    async def start(self) -> None:
        """Connect and subscribe (no group: every worker reads every partition)."""
        self.consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,  # a new member's DLQ is read within seconds
            client_id="bluelight-dead-letters",
            **self.settings.kafka.to_aiokafka_kwargs(),
        )
        await self.consumer.start()
        self.consumer.subscribe(pattern=DLQ_PATTERN)

    async def run(self) -> None:
        """Read until stopped; a broker that is away only delays the pages' dead letters."""
        assert self.consumer is not None
        while not self.stopping:
            try:
                batches = await self.consumer.getmany(timeout_ms=1000, max_records=2000)
            except Exception:  # noqa: BLE001 - the views must not stop for this
                log.exception("dead letters: reading failed; trying again in 5 s")
                await asyncio.sleep(5)
                continue
            for tp, records in batches.items():
                for r in records:
                    self.letters.put(tp.topic, r.timestamp, tuple(r.headers))

    async def close(self) -> None:
        """Disconnect."""
        self.stopping = True
        if self.consumer is not None:
            await self.consumer.stop()
