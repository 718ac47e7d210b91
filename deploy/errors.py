"""Errors the deploy commands turn into a message and an exit code (never a traceback)."""

from __future__ import annotations


class DeployError(Exception):
    """Something the user can act on; ``exit_code`` is what ``bluelight kafka`` exits with."""

    exit_code = 1


class PrerequisiteError(DeployError):
    """Java 17+ or Maven is missing: nothing was started."""

    exit_code = 2


class BrokerStartError(DeployError):
    """A broker process died or never became ready; the message ends with its log tail."""
