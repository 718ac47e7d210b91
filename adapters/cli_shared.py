"""What the ``bluelight publish`` and ``bluelight adapter ...`` commands share.

Exit codes (every command): 0 all published (or printed); 1 some rows or lines rejected
(``publish``: nothing published); 2 a usage or configuration error (a member that is not
plugged in, a user not authorised to write); 3 the broker did not
acknowledge (what was acknowledged is checkpointed; run again to resume).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapters.sdk.sharing import PolicyError, SharingPolicy
from topologies.naming import NamingError, check_member_id

EXIT_REJECTS = 1
EXIT_USAGE = 2  # click's own for usage errors; also a member not plugged in, or not authorised
EXIT_BROKER = 3


def check_member(value: str) -> str:
    """The --member value, checked as a member id (a usage error if it is not one)."""
    try:
        return check_member_id(value)
    except NamingError as exc:
        raise click.BadParameter(str(exc), param_hint="--member") from None


def load_policy(path: Path | None) -> SharingPolicy:
    """The --policy file's sharing policy (none withholds nothing); a usage error if it is wrong."""
    if path is None:
        return SharingPolicy()
    try:
        return SharingPolicy.load(path)
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from None


def show_progress() -> bool:
    """Progress bars only for a person watching (stderr a terminal), never in logs or pipes."""
    return sys.stderr.isatty()
