"""``bluelight categories``: ask the reference data where a code lands, and why.

No broker, no worker: the answers come straight from the reference files in
streams/reference/ (or ``--reference DIR``, to try a change before shipping it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from streams.categories import SCHEMES, Reference, ReferenceDataError, load_reference, map_classification

F = TypeVar("F", bound=Callable[..., Any])


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
