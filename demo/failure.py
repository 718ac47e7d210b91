"""The demo's last act: a supplier many partners use goes into administration.

The demo plays the national team: it feeds two Companies House records for the most shared
supplier (active, then in administration) through the real status adapter, waits for the hub's
national alert, and reads each exposed partner's own alert topic, as that partner would.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.alerts_cli import read_alerts
from adapters.companies_house.run import publish_lines
from bluelight.settings import HubSettings
from demo.worker import DemoError, DemoWorker, get_json
from topologies.naming import alert_topic

Item = dict[str, Any]
WAIT_S = 90.0


def most_shared(exposure: Sequence[Item]) -> Item | None:
    """The Companies House supplier the most partners depend on (ties: the largest exposure)."""
    ranked = sorted(
        (i for i in exposure if i["supplier_key"].startswith("CH:")),
        key=lambda i: (-len(i["members"]), -float(i["order_total"]) - float(i["live_contract_value"])),
    )
    return ranked[0] if ranked else None


def profiles(supplier: Item, timepoint: int, at: datetime) -> list[str]:
    """Two streaming-API records: the company active, then in administration."""
    number = supplier["supplier_key"].removeprefix("CH:")
    return [
        json.dumps(
            {
                "resource_kind": "company-profile",
                "data": {
                    "company_number": number,
                    "company_name": supplier["name"],
                    "company_status": status,
                },
                "event": {"timepoint": timepoint + i, "published_at": at.isoformat(), "type": "changed"},
            }
        )
        for i, status in enumerate(("active", "administration"))
    ]


async def _lines(lines: list[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


def fail_supplier(settings: HubSettings, worker: DemoWorker, exposure: Sequence[Item]) -> list[Item]:
    """Send the failure and return every alert it raised (the national one and the partners')."""
    supplier = most_shared(exposure)
    if supplier is None:
        raise DemoError("no supplier with a Companies House number in supplier-exposure")
    at = datetime.now(UTC).replace(microsecond=0)
    asyncio.run(publish_lines(settings.kafka, _lines(profiles(supplier, int(time.time() * 1000), at))))
    key = urllib.parse.quote(supplier["supplier_key"], safe="")
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    began = time.monotonic()
    while time.monotonic() - began < WAIT_S:
        found = [
            a
            for a in get_json(f"{worker.base_url}/alerts?supplier={key}")["alerts"]
            if a["status_at"] == stamp
        ]
        if found:
            break
        time.sleep(0.5)
    else:
        raise DemoError(f"no alert for {supplier['name']} after {WAIT_S:.0f}s; see the worker log")
    national = found[0]

    async def partners() -> list[Item]:
        topics = [alert_topic(m) for m in national["members"]]
        read = await asyncio.gather(*(read_alerts(settings.kafka, t) for t in topics))
        return [
            a
            for alerts in read
            for a in alerts
            if a["status_at"] == stamp and a["supplier_key"] == supplier["supplier_key"]
        ]

    return [national, *asyncio.run(partners())]
