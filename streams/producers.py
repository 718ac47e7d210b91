"""What to do when an idempotent producer breaks for good.

aiokafka's idempotent producer numbers each batch per partition. When a batch times out in
its accumulator (seen under heavy load on a shared machine), its sequence number is spent, so
the broker refuses every later batch as out of order, and the client never recovers by itself.
Ingest and the view publisher reconnect the producer (a new producer id, sequences from zero)
when they see one of these; whatever was written twice is recognised downstream (the source
and revision guards) or rewritten with the same value (the view topics are compacted).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId

BROKEN = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)


def broken(errors: Iterable[BaseException]) -> bool:
    """Whether any of ``errors`` leaves the producer unable to send again."""
    return any(isinstance(e, BROKEN) for e in errors)
