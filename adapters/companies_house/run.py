"""Publish the statuses of known suppliers from a file or the live stream, resuming where it left off.

Known suppliers: the ``CH:`` keys of the supplier-exposure view topic (what the partners buy
from). Where it left off: the highest timepoint on the supplier-status topic, so a second run on
the same file, or a restart of the stream, sends nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiokafka import AIOKafkaProducer

from adapters.companies_house.records import RecordError, parse_line, status_event
from adapters.topic_read import read_to_end
from bluelight.settings import KafkaConnection
from schemas.status import encode_status, status_from_bytes
from topologies.naming import SUPPLIER_STATUS, ref_topic, view_topic

KNOWN_REFRESH_S = 60.0
MAX_ERRORS_SHOWN = 20


@dataclass
class Summary:
    """What a run read and did, for the closing lines."""

    lines: int = 0
    profiles: int = 0
    published: int = 0
    unknown: int = 0  # a company the hub does not know as a supplier
    older: int = 0  # at or below the last timepoint already published
    errors: list[tuple[int, str]] = field(default_factory=list)
    last_timepoint: int = 0

    def text(self) -> str:
        """A readable summary."""
        out = (
            f"read {self.lines:,} line(s), {self.profiles:,} company profile(s): "
            f"published {self.published:,} status event(s); {self.unknown:,} not a known supplier, "
            f"{self.older:,} already published (timepoint <= {self.last_timepoint:,}), "
            f"{len(self.errors):,} unreadable"
        )
        for line_no, reason in self.errors[:MAX_ERRORS_SHOWN]:
            out += f"\n  line {line_no}: {reason}"
        if len(self.errors) > MAX_ERRORS_SHOWN:
            out += f"\n  ... and {len(self.errors) - MAX_ERRORS_SHOWN} more"
        return out


async def known_suppliers(kafka: KafkaConnection) -> set[str]:
    """The Companies House keys of every supplier in the supplier-exposure view now."""
    known: set[str] = set()
    for record in await read_to_end(kafka, view_topic("supplier-exposure"), "bluelight-ch-known"):
        key = record.key.decode() if record.key else ""
        if not key.startswith("CH:"):
            continue
        if record.value is None:
            known.discard(key)
        else:
            known.add(key)
    return known


async def last_timepoint(kafka: KafkaConnection) -> int:
    """The highest timepoint already on the supplier-status topic (0: none)."""
    last = 0
    for record in await read_to_end(kafka, ref_topic(SUPPLIER_STATUS), "bluelight-ch-resume"):
        if record.value is not None:
            last = max(last, status_from_bytes(record.value).entity_version)
    return last


async def publish_lines(
    kafka: KafkaConnection,
    lines: AsyncIterator[str],
    *,
    dry_run: bool = False,
    refresh_s: float = KNOWN_REFRESH_S,
) -> Summary:
    """Turn each line into a status event for a known supplier and publish it (acks=all)."""
    summary = Summary(last_timepoint=await last_timepoint(kafka))
    known, refreshed = await known_suppliers(kafka), time.monotonic()
    producer = None
    if not dry_run:
        producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka.to_aiokafka_kwargs())
    if producer is not None:
        await producer.start()
    pending: list[asyncio.Future[object]] = []
    try:
        async for line in lines:
            summary.lines += 1
            try:
                profile = parse_line(line)
            except RecordError as exc:
                summary.errors.append((summary.lines, str(exc)))
                continue
            if profile is None:
                continue
            summary.profiles += 1
            if time.monotonic() - refreshed > refresh_s:
                known, refreshed = await known_suppliers(kafka), time.monotonic()
            if profile.timepoint <= summary.last_timepoint:
                summary.older += 1
            elif profile.supplier_key not in known:
                summary.unknown += 1
            else:
                value = encode_status(status_event(profile, datetime.now(UTC)))
                if producer is not None:
                    key = profile.supplier_key.encode()
                    pending.append(await producer.send(ref_topic(SUPPLIER_STATUS), value, key=key))
                summary.published += 1
        await asyncio.gather(*pending)  # every event acknowledged before the summary says so
    finally:
        if producer is not None:
            await producer.stop()
    return summary


async def file_lines(paths: Iterable[str]) -> AsyncIterator[str]:
    """The lines of one or more files, in order (a backfill, or a test's records)."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                yield line


async def stream_lines(url: str, key: str, timepoint: int) -> AsyncIterator[str]:
    """The live stream's lines from ``timepoint`` on (basic auth with the stream key as user)."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, params={"timepoint": str(timepoint)}, auth=aiohttp.BasicAuth(key, "")) as resp,
    ):
        if resp.status != 200:
            raise RuntimeError(f"{url} answered {resp.status}: {(await resp.text())[:200]}")
        async for raw in resp.content:
            yield raw.decode("utf-8", errors="replace")
