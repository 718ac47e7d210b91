"""Every producer of the worker waits for all in-sync replicas (acks=all), whatever the environment says.

Regression: faust lets an exported ``PRODUCER_ACKS`` beat the settings it is given, so a
``PRODUCER_ACKS=1`` meant for some other program made the worker's changelog and contribution
writes leader-only; a leader SIGKILLed before its followers copied them loses them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluelight.settings import HubSettings
from streams.app import ACKS_ALL, build_hub, faust_settings


def test_faust_producer_acks_all_is_stated() -> None:
    assert faust_settings(HubSettings(), 3)["producer_acks"] == ACKS_ALL


def test_the_worker_builds_with_acks_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRODUCER_ACKS", raising=False)
    hub = build_hub(HubSettings(state_dir=tmp_path))
    assert hub.app.conf.producer_acks == ACKS_ALL


def test_regression_producer_acks_from_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUCER_ACKS", "1")
    with pytest.raises(ValueError, match="unset PRODUCER_ACKS"):
        build_hub(HubSettings(state_dir=tmp_path))
