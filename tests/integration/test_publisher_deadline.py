"""A publisher whose broker stops fails its events within the delivery deadline and closes.

Regression for the hang found in reliability row 2 (disk full): aiokafka retries a produce with
no overall deadline, so an adapter connected to a broker that halted kept retrying for minutes
and never said why. Now every event's future fails with a PublishError that names the
deadline, and leaving the publisher does not wait for the broker either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sdk.publisher import CLOSE_DEADLINE_S, Publisher, PublishError
from deploy import broker
from deploy.info import BrokerInfo
from schemas.models import PurchaseOrder
from tests import ports
from tests.hub_run import create_topics, fresh_broker
from tests.unit.schema_examples import order

pytestmark = [pytest.mark.kafka]

PORT = ports.PUBLISH_DEADLINE
MEMBER = "kent-police"
DEADLINE_S = 4.0


@pytest.fixture
def deadline_broker(tmp_path: Path) -> Iterator[BrokerInfo]:
    with fresh_broker(tmp_path / "kafka", PORT) as info:
        yield info


def po(n: int) -> PurchaseOrder:
    return PurchaseOrder.model_validate(order(entity_id=f"PO-{n}", entity_version=1))


async def test_unacknowledged_events_fail_within_the_deadline(
    deadline_broker: BrokerInfo, tmp_path: Path
) -> None:
    settings = deadline_broker.hub_settings(state_dir=tmp_path / "kafka")
    await create_topics(settings, [MEMBER])
    async with Publisher(settings.kafka, "deadline-test", delivery_deadline=DEADLINE_S) as publisher:
        acked = await publisher.publish_all([po(1), po(2)])
        assert len(acked) == 2  # acknowledged while the broker runs

        broker.stop(settings, PORT)  # SIGTERM then SIGKILL: nothing answers any more
        began = time.monotonic()
        futures = [await publisher.send(po(n)) for n in range(3, 8)]
        results = await asyncio.wait_for(
            asyncio.gather(*futures, return_exceptions=True), DEADLINE_S + 30
        )
        failed_after = time.monotonic() - began
        assert all(isinstance(r, PublishError) for r in results), results
        assert all(f"within {DEADLINE_S:g} s" in str(r) for r in results), results
        assert failed_after < DEADLINE_S + 5, f"failed after {failed_after:.1f}s"
        closing = time.monotonic()
    assert time.monotonic() - closing < CLOSE_DEADLINE_S + 5
