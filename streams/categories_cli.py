"""``bluelight categories``: ask the reference data where a code lands, and why.

No broker, no worker: the answers come straight from the reference files in
streams/reference/ (or ``--reference DIR``, to try a change before shipping it). Only
``publish`` talks to the cluster: it sends a partner's own map to the reference topic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from bluelight.settings import HubSettings, KafkaConnection
from streams.categories import (
    SCHEMES,
    Reference,
    ReferenceDataError,
    encode_partner_map,
    load_reference,
    local_map_from,
    map_classification,
)
from topologies.naming import NamingError, check_member_id, ref_topic

F = TypeVar("F", bound=Callable[..., Any])
# between a map and its reclassify orders: every ingest has read the map and written what it
# had classified with the old one (it reads the reference topic on every poll)
RECLASSIFY_AFTER_S = 5.0


def _reference_option(command: F) -> F:
    return click.option(
        "--reference",
        "reference_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Read reference data from this directory instead of the hub's own (streams/reference).",
    )(command)


def _json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def _load(reference_dir: Path | None) -> Reference:
    try:
        return load_reference(reference_dir)
    except ReferenceDataError as exc:
        raise click.ClickException(f"reference data is not valid: {exc}") from None


CATEGORIES_EXAMPLES = """\b
Examples:
  bluelight categories map CPV 35815100-1
  bluelight categories map LOCAL MG-FLEET --member kent-police
  bluelight categories list --json"""


@click.group("categories", epilog=CATEGORIES_EXAMPLES)
def categories() -> None:
    """The national category taxonomy and how classification codes map into it.

    Every order line and contract lands in one national category: CPV, UNSPSC and ECLASS
    codes by the longest matching prefix in the national maps, LOCAL codes through the
    member's own map. A code that matches nothing lands in `unclassified`.
    """


def _scheme(ctx: click.Context, param: click.Parameter, value: str) -> str:
    name = value.strip().upper()
    if name not in SCHEMES:
        raise click.BadParameter(f"unknown scheme {value!r}: expected one of {', '.join(SCHEMES)}")
    return name


@categories.command("map", short_help="Where a code lands, and the rule that put it there.")
@click.argument("scheme", callback=_scheme, metavar="SCHEME")
@click.argument("code")
@click.option("--member", help="The member whose LOCAL code this is (required for LOCAL).")
@_json_option
@_reference_option
def map_command(
    scheme: str, code: str, member: str | None, as_json: bool, reference_dir: Path | None
) -> None:
    """Show the national category of CODE in SCHEME (CPV, UNSPSC, ECLASS or LOCAL), and the rule.

    CPV codes may carry their check digit (33735100-7 or 337351007); it is ignored.
    """
    if scheme == "LOCAL" and member is None:
        raise click.UsageError("LOCAL codes belong to one member: pass --member, e.g. --member kent-police")
    reference = _load(reference_dir)
    match = map_classification(scheme, code, member, reference=reference)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "scheme": scheme,
                    "code": code,
                    "member": member,
                    "category": match.category,
                    "name": match.name,
                    "rule": match.rule,
                    "reference_version": reference.version,
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"category: {match.category}")
    click.echo(f"name:     {match.name}")
    click.echo(f"rule:     {match.rule}")


@categories.command("list", short_help="The national categories.")
@_json_option
@_reference_option
def list_command(as_json: bool, reference_dir: Path | None) -> None:
    """List the national categories (id, name and, with --json, description)."""
    reference = _load(reference_dir)
    items = list(reference.categories.values())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "reference_version": reference.version,
                    "categories": [{"id": c.id, "name": c.name, "description": c.description} for c in items],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    width = max(len("ID"), *(len(c.id) for c in items))
    click.echo(f"{'ID':<{width}}  NAME")
    for c in items:
        click.echo(f"{c.id:<{width}}  {c.name}")
    click.echo(f"\n{len(items)} categories (reference v{reference.version})")


@categories.command("check", short_help="Validate the reference data files.")
@_reference_option
def check_command(reference_dir: Path | None) -> None:
    """Validate the reference data and summarise it (run after editing the files)."""
    reference = _load(reference_dir)
    click.echo(f"reference v{reference.version} in {reference.directory}: OK")
    click.echo(f"  {len(reference.categories)} categories")
    for scheme, rules in reference.schemes.items():
        click.echo(f"  {scheme}: {len(rules)} prefix rules")
    for member, local in reference.local.items():
        click.echo(
            f"  LOCAL {member} v{local.version}: {len(local.codes)} codes, {len(local.prefixes)} prefixes"
        )


PUBLISH_EXAMPLES = """\b
Examples:
  bluelight categories publish --member surrey-police surrey-mapping.yaml
  bluelight --env-file admin.secret.env categories publish --member surrey-police map.yaml"""


@categories.command(
    "publish", short_help="Send a partner's own code map to the hub.", epilog=PUBLISH_EXAMPLES
)
@click.option("--member", required=True, help="The member whose LOCAL codes the map classifies.")
@click.option(
    "--no-reclassify",
    is_flag=True,
    help="Only classify the next events; leave what the hub already holds where it landed.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def publish_command(ctx: click.Context, member: str, file: Path, no_reclassify: bool) -> None:
    """Publish MEMBER's LOCAL code -> national category map to the hub's reference topic.

    FILE is the member's CSV mapping (its `categories:` section) or a file holding only that
    section ({version, codes, prefixes}). The running worker puts it in force for the next
    events without a restart; a later publication needs a higher version. Then, unless
    --no-reclassify, it orders the workers to place the member's orders and contracts already
    held again with the map (docs/categories.md). On a secured cluster the hub's admin runs it
    (members may not write reference data).
    """
    import asyncio

    from bluelight.cli import settings_of

    section = _map_section(file)
    try:
        check_member_id(member)
        local = local_map_from(
            member,
            int(section.get("version", 1)),
            section.get("codes") or {},
            section.get("prefixes") or {},
            load_reference(),
        )
    except (ValueError, NamingError) as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    codes, prefixes = section.get("codes") or {}, section.get("prefixes") or {}
    value = encode_partner_map(member, local.version, codes, prefixes)
    settings = settings_of(ctx)
    asyncio.run(_send_map(settings.kafka, member, value))
    click.echo(
        f"published {member}'s map v{local.version} ({len(local.codes)} codes, {len(local.prefixes)} "
        f"prefixes) to {ref_topic('categories')}; the worker applies it to the next events"
    )
    if no_reclassify:
        return
    # events ingest classified with the old map, and not yet written, are written by then
    time.sleep(RECLASSIFY_AFTER_S)
    written = asyncio.run(_reclassify(settings, member, value.decode()))
    click.echo(
        f"ordered the workers to place {member}'s orders and contracts already held again with it "
        f"({written} canonical partitions); the views move as each worker applies the order"
    )


async def _reclassify(settings: HubSettings, member: str, partner_map: str) -> int:
    from aiokafka.errors import KafkaError

    from streams.canonical import ReclassifyRecord
    from streams.orders import send_orders

    try:
        return await send_orders(settings, lambda p, n, now: ReclassifyRecord(member, p, n, partner_map, now))
    except KafkaError as exc:
        raise click.ClickException(
            f"the map is published, but the reclassify orders could not be written: {exc}. Run "
            "the same command again (a map of the same version is taken once; the orders are harmless)."
        ) from exc


def _map_section(file: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.UsageError(f"{file}: cannot read: {exc}") from None
    if not isinstance(raw, dict):
        raise click.UsageError(f"{file}: expected a YAML mapping")
    section = raw.get("categories", raw if ("codes" in raw or "prefixes" in raw) else None)
    if not isinstance(section, dict):
        raise click.UsageError(
            f"{file}: no `categories:` section; the shape: "
            'categories: {version: 1, codes: {"542320": estates-fm}, prefixes: {"5420": estates-fm}}'
        )
    return section


async def _send_map(kafka: KafkaConnection, member: str, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from topologies.admin import connect

    topic = ref_topic("categories")
    try:
        async with connect(kafka) as admin:  # metadata without auto-create
            if topic not in await admin.topics([topic], configs=False):
                raise click.ClickException(f"{topic} does not exist: run `bluelight topology apply` first")
        producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka.to_aiokafka_kwargs())
        await producer.start()
        try:
            await (await producer.send(topic, value=value, key=member.encode()))
        finally:
            await producer.stop()
    except KafkaError as exc:
        raise click.ClickException(
            f"could not publish to {topic}: {type(exc).__name__}: {exc} (on a secured cluster, "
            "run it as the hub's admin: `bluelight --env-file admin.secret.env categories publish ...`)"
        ) from exc
