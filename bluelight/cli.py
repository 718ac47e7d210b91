"""The ``bluelight`` command: one entry point, each area's commands loaded on first use.

Subcommands live beside the code they drive (``deploy/cli.py``, ``streams/cli.py``...);
this module only names them, so ``bluelight --help`` stays fast and an area's imports
(faust, aiokafka) are paid only by the commands that need them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click
from pydantic import ValidationError

from bluelight.settings import HubSettings, load_settings

# command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "kafka": "deploy.cli:kafka",
    "topology": "topologies.cli:topology",
    "members": "topologies.cli:members",
    "worker": "streams.cli:worker",
    "views": "streams.cli:views",
    "sink": "streams.sink.cli:sink",
    "categories": "streams.categories_cli:categories",
    "demo": "demo.command:demo",
    "publish": "adapters.cli:publish",
    "adapter": "adapters.cli:adapter",
    "rejects": "adapters.rejects_cli:rejects",
    "alerts": "adapters.alerts_cli:alerts",
}

SHORT_HELP: dict[str, str] = {
    "kafka": "Run a real Apache Kafka (KRaft) on 127.0.0.1: up, down, status.",
    "topology": "Reconcile topics, configs, users and ACLs with topologies/.",
    "members": "Plug a new partner in, or list the members.",
    "worker": "Run the stream processors with the HTTP API and /metrics.",
    "views": "Print a national view as JSON.",
    "sink": "Keep a PostgreSQL table per view current, for BI tools.",
    "categories": "Show where a classification code lands in the national taxonomy.",
    "demo": "The whole hub on this machine with realistic synthetic partners.",
    "publish": "Validate canonical events in a JSON-lines file and publish them.",
    "adapter": "Turn ERP exports, Peppol orders or OCDS releases into canonical events.",
    "rejects": "Read your rejected events (kind, reason, field, origin), fix and replay them.",
    "alerts": "Read the supplier alerts sent to you: who failed, your exposure, alternatives.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they are run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, in the order of the table above."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module now that it is needed."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the table, so `--help` imports nothing heavy."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, SHORT_HELP[name]) for name in COMMANDS])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="BLUELIGHT_ENV_FILE",
    help="Read BLUELIGHT_* settings from this KEY=VALUE file (e.g. the one `kafka up --secure` or "
    "`members add --env-file` writes). Flags beat it; it beats exported variables; conflicts are warned.",
)
@click.option("--bootstrap", help="Kafka bootstrap servers [env BLUELIGHT_BOOTSTRAP; 127.0.0.1:9092].")
@click.option("--http", "http_addr", help="The worker's HTTP address [env BLUELIGHT_HTTP; 127.0.0.1:6066].")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Local state and checkpoints [env BLUELIGHT_STATE_DIR; ~/.local/state/bluelight].",
)
@click.version_option(package_name="bluelight-hub")
@click.pass_context
def cli(
    ctx: click.Context,
    env_file: Path | None,
    bootstrap: str | None,
    http_addr: str | None,
    state_dir: Path | None,
) -> None:
    """BlueLight: one national view of emergency-services procurement, fed by each partner's ERP.

    Start with `bluelight demo`, or `bluelight kafka up` then `bluelight worker`.
    """
    try:
        ctx.obj = load_settings(
            env_file, warn=lambda text: click.echo(text, err=True), bootstrap=bootstrap, http=http_addr,
            state_dir=state_dir,
        )  # fmt: skip
    except ValidationError as exc:
        raise click.UsageError(settings_problem(exc)) from None


def settings_problem(exc: ValidationError) -> str:
    """Which settings are wrong and why, named as users set them (BLUELIGHT_* variables)."""
    lines = ["bad settings:"]
    for error in exc.errors(include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        lines.append(f"  BLUELIGHT_{name}={error.get('input')!r}: {error['msg']}")
    lines.append("Fix them in the environment, the --env-file file or the flags.")
    return "\n".join(lines)


def settings_of(ctx: click.Context) -> HubSettings:
    """The settings loaded by the root command, for any subcommand."""
    root = ctx.find_root()
    settings = root.obj
    if not isinstance(settings, HubSettings):  # a subcommand invoked outside `bluelight`
        settings = load_settings()
        root.obj = settings
    return settings


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="bluelight")
