"""The read-back helpers fail when there is nothing to read, rather than report "nothing found".

A check such as "nothing was published" or "every reject is in its DLQ" must not pass because
the helper looked at a topic that does not exist.
"""

from __future__ import annotations

import pytest
from adapter_kafka import end_offsets, new_member

from bluelight.settings import HubSettings
from tests.hub_run import read_dlqs
from topologies.naming import member_topic

pytestmark = pytest.mark.kafka


async def test_end_offsets_of_a_topic_that_does_not_exist_fail(kafka_bootstrap: str) -> None:
    with pytest.raises(AssertionError, match="has no partitions"):
        await end_offsets(kafka_bootstrap, member_topic(new_member(), "purchase-order"))


async def test_reading_dlqs_that_do_not_exist_fails(kafka_bootstrap: str) -> None:
    settings = HubSettings(bootstrap=kafka_bootstrap)
    with pytest.raises(AssertionError, match="no such DLQ topics"):
        await read_dlqs(settings, [new_member()])
