"""``bluelight adapter webhook`` and ``webhook-token``: serve ERPs that push, and make their tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from adapters.cli_shared import check_member
from bluelight.cli import settings_of


@click.command(
    "webhook",
    epilog="""\b
Example:
  bluelight adapter webhook --config webhook.yaml
  curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       --data @order.json http://127.0.0.1:8085/events/purchase-order

\b
Config (YAML):
  listen: 127.0.0.1:8085
  max_body_bytes: 1048576
  members:
    - member: kent-police
      token_sha256: <sha256 hex of the token; make one with `bluelight adapter webhook-token`>
      source_system: kent-erp          # optional, used where an event has none
      policy: kent-sharing.yaml        # optional sharing policy""",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Webhook config YAML: listen address and each member's token hash.",
)
@click.option("--listen", help="host:port, overriding the config's listen.")
@click.pass_context
def webhook(ctx: click.Context, config_path: Path, listen: str | None) -> None:
    """Serve POST /events/<family> for ERPs that push canonical events.

    Each member authenticates with its own bearer token; the member comes from the
    token, never the body. A request (one event or a JSON array) is validated whole;
    202 is answered only after the broker acknowledged every event of it.
    """
    from adapters.webhook.config import WebhookConfigError, load_webhook_config
    from adapters.webhook.server import serve

    settings = settings_of(ctx)
    try:
        config = load_webhook_config(config_path)
    except WebhookConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if listen:
        config = config.with_listen(listen)
    try:
        asyncio.run(serve(config, settings, config_path.parent))
    except KeyboardInterrupt:
        pass


@click.command("webhook-token")
@click.option("--member", required=True, help="The member the token is for.")
def webhook_token(member: str) -> None:
    """Make a new random bearer token for a member, and the line for the webhook config.

    The token is printed once: give it to the member. Only its sha256 goes in the config.
    """
    from adapters.webhook.config import new_token, token_sha256

    member = check_member(member)
    token = new_token()
    click.echo(f"token (give to {member}, shown once): {token}")
    click.echo("webhook config entry:")
    click.echo(f"  - member: {member}\n    token_sha256: {token_sha256(token)}")
