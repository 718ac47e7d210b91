"""``bluelight alerts``: a member reads the supplier alerts sent to it (or the national team, all).

Reads ``bluelight.alerts.<member>.v1`` with the member's own credentials (Read on its own alert
topic is all the topology grants it), or ``bluelight.alerts.national.v1`` with ``--national``.
A replay after a crash may have sent an alert twice; it has the same ``alert_id`` and is shown once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from aiokafka.errors import KafkaError

from adapters.cli_shared import EXIT_BROKER, check_member
from adapters.topic_read import read_to_end
from bluelight.cli import settings_of
from bluelight.settings import KafkaConnection
from topologies.naming import NATIONAL_ALERTS, alert_topic


@click.command(
    epilog="""\b
Examples:
  bluelight alerts --member kent-police
  bluelight --env-file kent.env alerts --member kent-police --json   # a secured cluster
  bluelight alerts --national                                          # the national team

\b
Each alert: the supplier and its new status (administration, liquidation, ...), your exposure
(order total, live contract value, categories), your live contracts with it, and up to five
alternative suppliers per category. Exit 0 listed; 2 usage; 3 the broker could not be read.""",
)
@click.option("--member", help="Your member id, e.g. kent-police.")
@click.option("--national", is_flag=True, help="The national alerts (everyone's exposure).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def alerts(ctx: click.Context, member: str | None, national: bool, as_json: bool) -> None:
    """List the supplier alerts sent to a member: who failed, your exposure, the alternatives."""
    if (member is None) == (not national):
        raise click.UsageError("give --member M or --national (one of them)")
    topic = NATIONAL_ALERTS if national else alert_topic(check_member(member or ""))
    settings = settings_of(ctx)
    try:
        found = asyncio.run(read_alerts(settings.kafka, topic))
    except (KafkaError, TimeoutError, OSError) as exc:
        click.echo(
            f"bluelight: cannot read {topic} on {settings.bootstrap}: {exc!r}. Is the broker up, and are "
            "these the member's credentials (--env-file)?",
            err=True,
        )
        ctx.exit(EXIT_BROKER)
    if as_json:
        for alert in found:
            click.echo(json.dumps(alert, ensure_ascii=False))
        return
    click.echo("\n\n".join(render(a) for a in found) if found else f"no alerts in {topic}")


async def read_alerts(kafka: KafkaConnection, topic: str) -> list[dict[str, Any]]:
    """The alerts of a topic, oldest first, each ``alert_id`` once."""
    seen: dict[str, dict[str, Any]] = {}
    for record in await read_to_end(kafka, topic, "bluelight-alerts"):
        if record.value is not None:
            body = json.loads(record.value)
            seen.setdefault(body["alert_id"], body)
    return list(seen.values())


def render(alert: dict[str, Any]) -> str:
    """An alert as a few lines a person reads."""
    was = f" (was {alert['previous_status']})" if alert.get("previous_status") else ""
    who = alert["member_id"] or "national: " + ", ".join(alert.get("members", []))
    lines = [
        f"{alert['status_at']}  {alert['name']} [{alert['supplier_key']}] is in {alert['status']}{was}",
        f"  exposed: {who}; orders £{alert['order_total']}, live contracts £{alert['live_contract_value']}",
    ]
    for c in alert["contracts"]:
        owner = f"{c['member_id']} " if "member_id" in c else ""
        lines.append(f"  contract {owner}{c['entity_id']}: £{c['value']}, ends {c['end_date']}")
    for category, others in alert["alternatives"].items():
        lines.append(f"  {category}: alternatives {', '.join(others) if others else '(none on record)'}")
    return "\n".join(lines)
