"""The spend-CSV adapter: each member's export, mapped by its own YAML config.

``read(paths, member, config)`` implements :class:`adapters.base.FileAdapter`; the mapping
itself is in :mod:`adapters.csv.mapping`, the config in :mod:`adapters.csv.config`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapters.base import Outcome
from adapters.csv.config import CsvConfig, load_config
from adapters.csv.mapping import read_csv

__all__ = ["CsvConfig", "load_config", "read"]


def read(paths: list[Path], member: str, config: dict[str, Any] | None) -> Iterator[Outcome]:
    """Map every spend CSV in ``paths`` with the member's mapping ``config``."""
    cfg = load_config(config)
    for path in paths:
        yield from read_csv(path, member, cfg)
