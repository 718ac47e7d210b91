"""``bluelight adapter csv | peppol | ocds``: the file adapters' commands.

Each command checks its options and config before any file is read, then hands the files
(or a drop folder) to :func:`adapters.cli_files_run.run_file_adapter`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click
import yaml

from adapters.base import FileAdapter
from adapters.cli_files_run import run_file_adapter
from adapters.cli_shared import check_member, load_policy
from bluelight.cli import settings_of
from bluelight.settings import HubSettings

# adapter name -> (reader "module:attribute", file patterns a directory or drop folder contributes)
FILE_ADAPTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "csv": ("adapters.csv:read", ("*.csv", "*.CSV")),
    "peppol": ("adapters.peppol:read", ("*.xml", "*.XML")),
    "ocds": ("adapters.ocds:read", ("*.json", "*.JSON")),
}


def _load_yaml(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.UsageError(f"{path}: cannot read the config: {exc}") from None
    if raw is not None and not isinstance(raw, dict):
        raise click.UsageError(f"{path}: expected a YAML mapping at the top")
    return raw


def _adapter_config(
    name: str, raw: dict[str, Any] | None, settings: HubSettings, dry_run: bool
) -> dict[str, Any] | None:
    """Check a config before any file is read, and give adapters the settings they expect."""
    if name == "csv":
        from adapters.csv.config import ConfigError, load_config

        try:
            load_config(raw)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        return raw
    # Adapters that keep their own memory (Peppol's order store) find it under the state dir.
    return {**(raw or {}), "state_dir": str(settings.state_dir), "dry_run": dry_run}


def _expand(paths: tuple[Path, ...], patterns: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for pat in patterns for p in path.glob(pat) if p.is_file()))
        else:
            out.append(path)
    return out


def _file_command(name: str, summary: str, examples: str) -> click.Command:
    target, patterns = FILE_ADAPTERS[name]

    @click.command(name=name, help=summary, epilog=examples)
    @click.option("--member", required=True, help="Your member id, e.g. kent-police.")
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The adapter's YAML config" + (" (required: the column mapping)." if name == "csv" else "."),
    )
    @click.option(
        "--dry-run", is_flag=True, help="Print the events as JSON lines instead; rejects on stderr."
    )
    @click.option(
        "--policy",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Sharing policy YAML: fields that never leave you.",
    )
    @click.option(
        "--rejects",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write rejected rows here (JSON lines) [default: <state-dir>/adapters/<member>/rejects/...].",
    )
    @click.option(
        "--watch",
        "watch_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Poll this drop folder and publish each new or changed file (Ctrl-C to stop).",
    )
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between polls of --watch.")
    @click.option("--batch", default=500, show_default=True, help="Events per acknowledged checkpoint.")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
    @click.pass_context
    def command(
        ctx: click.Context,
        member: str,
        config_path: Path | None,
        dry_run: bool,
        policy: Path | None,
        rejects: Path | None,
        watch_dir: Path | None,
        interval: float,
        batch: int,
        paths: tuple[Path, ...],
    ) -> None:
        settings = settings_of(ctx)
        member = check_member(member)
        if not paths and watch_dir is None:
            raise click.UsageError("give at least one PATH, or --watch DIR")
        if watch_dir is not None and dry_run:
            raise click.UsageError("--watch publishes; it cannot be combined with --dry-run")
        if name == "csv" and config_path is None:
            raise click.UsageError("the csv adapter needs --config (see adapters/csv/examples/)")
        if batch < 1:
            raise click.BadParameter("must be at least 1", param_hint="--batch")
        config = _adapter_config(name, _load_yaml(config_path), settings, dry_run)
        module, attr = target.split(":")
        reader: FileAdapter = getattr(importlib.import_module(module), attr)
        code = run_file_adapter(
            settings,
            name=name,
            reader=reader,
            member=member,
            config=config,
            policy=load_policy(policy),
            paths=_expand(paths, patterns),
            dry_run=dry_run,
            rejects_path=rejects,
            watch_dir=watch_dir,
            patterns=patterns,
            interval=interval,
            batch=batch,
        )
        ctx.exit(code)

    return command


FILE_COMMANDS: tuple[click.Command, ...] = (
    _file_command(
        "csv",
        """Publish spend CSV exports (one transaction -> one purchase order).

        The --config mapping names the accepted headers per field (case, spaces and
        punctuation ignored), the date order, whether amounts are net or gross, and
        how transactions are numbered. Each row becomes part of an event or a row error
        (file, line, column, reason) in the rejects file; blank and total lines are
        skipped and counted. Checkpoints let an interrupted run resume; an unchanged
        file is not published twice.
        """,
        """\b
Examples:
  bluelight adapter csv --member kent-police --config adapters/csv/examples/gla-sap.yaml --dry-run spend.csv
  bluelight adapter csv --member kent-police --config mapping.yaml spend-2024-*.csv
  bluelight adapter csv --member kent-police --config mapping.yaml --watch /srv/drop/kent

\b
Exit 0 all rows mapped; 1 some rows rejected (the rest published); 2 usage or config
error (a mapping that does not fit the file's header, a member not plugged in, a user
not authorised); 3 broker did not acknowledge (run again: it resumes from the checkpoint).""",
    ),
    _file_command(
        "peppol",
        """Publish Peppol BIS 3 ordering documents (UBL Order, OrderChange, OrderCancellation).

        PATH may be a file or a directory of *.xml documents, read in name order.
        """,
        """\b
Examples:
  bluelight adapter peppol --member kent-police --dry-run orders/
  bluelight adapter peppol --member kent-police Order-1001.xml OrderChange-1001-1.xml

\b
Exit 0 all documents mapped; 1 some rejected; 2 usage; 3 broker did not acknowledge.""",
    ),
    _file_command(
        "ocds",
        """Publish OCDS releases, release packages or record packages as contract and supplier events.

        PATH may be a file or a directory of *.json files.
        """,
        """\b
Examples:
  bluelight adapter ocds --member wiltshire-fire --dry-run release.json
  bluelight adapter ocds --member wiltshire-fire --watch /srv/drop/ocds

\b
Exit 0 all releases mapped; 1 some rejected; 2 usage; 3 broker did not acknowledge.""",
    ),
)
