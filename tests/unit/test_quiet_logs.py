"""The retried coordinator lookup on a fresh broker is not an ERROR in the worker's log."""

from __future__ import annotations

import logging

import pytest

from streams import quiet


def test_coordinator_not_available_is_info_and_other_errors_stay(caplog: pytest.LogCaptureFixture) -> None:
    quiet.install()
    quiet.install()  # idempotent
    log = logging.getLogger(quiet.COORDINATOR_LOGGER)
    with caplog.at_level(logging.INFO, logger=quiet.COORDINATOR_LOGGER):
        log.error("Group Coordinator Request failed: %s", "[Error 15] GroupCoordinatorNotAvailableError")
        log.error("Group Coordinator Request failed: %s", "[Error 30] GroupAuthorizationFailedError")
    first, second = caplog.records
    assert first.levelname == "INFO"
    assert "normal while the broker creates __consumer_offsets" in first.getMessage()
    assert "[Error 15]" in first.getMessage()
    assert second.levelname == "ERROR"
    assert len(log.filters) == 1
