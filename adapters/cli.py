"""``bluelight publish`` and ``bluelight adapter ...``: partners' ways onto their topics.

Every command ends in the same SDK (adapters/sdk): events are validated as the hub will,
the partner's sharing policy is applied, and the idempotent producer waits for the broker.
The file adapters' commands live in adapters/cli_files.py, the webhook's in
adapters/webhook/cli.py; exit codes are in adapters/cli_shared.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from tqdm import tqdm

from adapters.cli_files import FILE_ADAPTERS, FILE_COMMANDS
from adapters.cli_shared import (
    EXIT_BROKER,
    EXIT_REJECTS,
    EXIT_USAGE,
    check_member,
    load_policy,
    show_progress,
)
from adapters.companies_house.cli import companies_house
from adapters.jsonl import check_file
from adapters.sdk.publisher import Ack, Publisher, PublishError, RefusedError
from adapters.webhook.cli import webhook, webhook_token
from bluelight.cli import settings_of
from bluelight.settings import HubSettings
from schemas.models import Event
from topologies.naming import FAMILIES, Family, member_topic

# --- publish ------------------------------------------------------------------------------------


@click.command(
    epilog="""\b
Examples:
  bluelight publish --member kent-police --family purchase-order orders.jsonl
  bluelight publish --member kent-police --family contract --policy kent-sharing.yaml contracts.jsonl

\b
Each line is one event in the JSON form of events.md (spec field names). member_id,
event_id and source_system may be left out: they are filled with --member, the
deterministic id (uuid5 of member/family/entity_id/entity_version) and "jsonl";
published_at is always set at publish time. Exit 0 published; 1 invalid lines (nothing
published); 2 usage; 3 broker did not acknowledge (safe to run again).""",
)
@click.option("--member", required=True, help="Your member id, e.g. kent-police; events must claim it.")
@click.option("--family", required=True, type=click.Choice(FAMILIES), help="The family of every line.")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sharing policy YAML: fields withheld before sending (see docs/adapters.md).",
)
@click.option("--source-system", default="jsonl", show_default=True, help="Used where a line has none.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def publish(
    ctx: click.Context, member: str, family: Family, policy: Path | None, source_system: str, file: Path
) -> None:
    """Validate canonical events in a JSON-lines FILE, then publish them all.

    Every line is checked first, as the hub will check it (schema, rules such as line
    totals, GBP, your member id). One invalid line - reported as FILE:LINE: field: reason -
    and nothing from the file is published. Otherwise all events go to your topic for
    --family, keyed by entity_id, and the command waits for the broker to acknowledge each.
    """
    member = check_member(member)
    settings = settings_of(ctx)
    checked = check_file(file, family, member, policy=load_policy(policy), source_system=source_system)
    if checked.errors:
        for error in checked.errors[:100]:
            click.echo(str(error), err=True)
        if len(checked.errors) > 100:
            click.echo(f"... and {len(checked.errors) - 100} more", err=True)
        click.echo(
            f"{file.name}: {len(checked.errors)} invalid line(s) of "
            f"{len(checked.errors) + len(checked.events)}; nothing from this file was published.",
            err=True,
        )
        ctx.exit(EXIT_REJECTS)
    topic = member_topic(member, family)
    if not checked.events:
        click.echo(f"{file.name}: no events (only blank lines); nothing to publish to {topic}.")
        return
    try:
        acks = asyncio.run(_publish_events(settings, [e for _, e in checked.events]))
    except RefusedError as exc:
        click.echo(f"{file.name}: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    except PublishError as exc:
        click.echo(f"{file.name}: {exc}", err=True)
        click.echo(
            "Events the broker acknowledged are on the topic; publishing the file again is safe.", err=True
        )
        ctx.exit(EXIT_BROKER)
    partitions = sorted({a.partition for a in acks})
    click.echo(
        f"published {len(acks)} {family} event(s) from {file.name} to {topic} "
        f"(partition{'s' if len(partitions) > 1 else ''} {', '.join(map(str, partitions))}); "
        "all acknowledged."
    )


async def _publish_events(settings: HubSettings, events: list[Event]) -> list[Ack]:
    async with Publisher(settings.kafka, "jsonl") as publisher:
        outgoing = [publisher.encode(event) for event in events]  # all encoded before any is sent
        for topic in sorted({out.topic for out in outgoing}):
            await publisher.partitions(topic)
        futures: list[asyncio.Future[Ack]] = []
        for out in tqdm(outgoing, desc="sending", unit=" events", disable=not show_progress(), leave=False):
            futures.append(await publisher.send_encoded(out))
        return list(await asyncio.gather(*futures))


# --- adapter ------------------------------------------------------------------------------------


class AdapterGroup(click.Group):
    """Lists the adapters in a fixed order, file adapters first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The subcommands in the order --help shows them."""
        return [*FILE_ADAPTERS, "webhook", "webhook-token", "companies-house"]


ADAPTER_HELP = """Turn ERP exports, Peppol orders or OCDS releases into canonical events.

File adapters (csv, peppol, ocds) read files or a drop folder; `webhook` serves ERPs that
push. All of them validate every event as the hub will, apply your sharing policy, and
publish with an idempotent producer that waits for the broker's acknowledgement.
`companies-house` (the national team's) brings the registered status of known suppliers.
"""


@click.group(
    cls=AdapterGroup, help=ADAPTER_HELP, commands=[*FILE_COMMANDS, webhook, webhook_token, companies_house]
)
def adapter() -> None:
    """The ``bluelight adapter`` group."""
