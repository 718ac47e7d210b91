"""Log records that alarm without cause, told at the level they deserve.

aiokafka logs ``Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError``
at ERROR while a broker is still creating ``__consumer_offsets`` (a fresh broker, the first
seconds of a restart), then retries and succeeds. A worker's first log lines should not
show an ERROR for that: it is logged at INFO, saying what it means. Any other coordinator
error, or this one when it is not retriable, keeps its level.
"""

from __future__ import annotations

import logging

COORDINATOR_LOGGER = "aiokafka.consumer.group_coordinator"
_NOT_YET = "GroupCoordinatorNotAvailableError"


class CoordinatorNotYet(logging.Filter):
    """Turns the retried coordinator lookup's ERROR into an INFO that says it is normal."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Let the record through, at INFO if it is the not-yet-available lookup."""
        if record.levelno == logging.ERROR and _NOT_YET in record.getMessage():
            record.msg = (
                "consumer group coordinator not available yet (normal while the broker creates "
                "__consumer_offsets); retrying: %s"
            )
            record.args = (record.args[0],) if isinstance(record.args, tuple) and record.args else ("",)
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def install() -> None:
    """Attach the filter to aiokafka's group-coordinator logger (idempotent)."""
    logger = logging.getLogger(COORDINATOR_LOGGER)
    if not any(isinstance(f, CoordinatorNotYet) for f in logger.filters):
        logger.addFilter(CoordinatorNotYet())
