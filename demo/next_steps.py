"""The demo's last words: where to look next, with commands that work as printed.

A root option (``--http``, ``--state-dir``) appears in the printed commands only when the
demo ran with a value that a fresh shell would not pick up by itself (neither the default
nor in the environment), so every line can be pasted as it is.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bluelight.settings import HubSettings
from demo.report import heading
from streams.web import today
from topologies.naming import VIEWS, dlq_topic, view_topic


@dataclass(frozen=True)
class Places:
    """What the demo knows about where things are."""

    settings: HubSettings
    base_url: str
    log: Path | None  # None: a worker the demo did not start
    topology_dir: Path
    records: Mapping[str, int]  # topic -> records held
    members: Sequence[str]
    day: date
    kafka_port: int | None  # None: a cluster the demo does not manage
    foreground: bool
    examples: Mapping[str, str] = field(default_factory=dict)  # view -> a key worth looking at


def _root_flag(settings: HubSettings, name: str, env: str) -> str:
    value = str(getattr(settings, name))
    default = HubSettings.model_fields[name].default
    if value == str(default) or os.environ.get(env) == value:
        return ""
    return f" --{name.replace('_', '-')} {shlex.quote(value)}"


def where_next(p: Places) -> list[str]:
    """The closing section: HTTP URLs, CLI examples, topics, the log, how to stop."""
    views_cli = "bluelight" + _root_flag(p.settings, "http", "BLUELIGHT_HTTP") + " views get"
    lines = heading("Where to look next")
    lines.append(f"  The overview page, in a browser: {p.base_url}/")
    lines.append("    (from there: categories where several partners' contracts end within a year,")
    lines.append("    shared suppliers, each category, supplier and partner, and search)")
    lines.append("  The views over HTTP (JSON):")
    lines += [f"    {p.base_url}/views/{view}" for view in VIEWS]
    if p.day != today():
        lines.append(f"    {p.base_url}/views/contract-pipeline?as_of={p.day.isoformat()}   (the demo's day)")
    lines.append(f"    {p.base_url}/views   (the list)    {p.base_url}/views/category-spend.csv   (CSV)")
    lines.append(f"    {p.base_url}/openapi.json   (the API described; docs/consumers.md)")
    lines.append(f"    {p.base_url}/metrics   (Prometheus)    {p.base_url}/health")
    lines.append("  On the command line:")
    names = f"BLUELIGHT_TOPOLOGY_DIR={shlex.quote(str(p.topology_dir))} "  # the demo partners' names
    lines.append(f"    {names}{views_cli.removesuffix(' get')} summary")
    lines.append(f"    {views_cli} category-spend --table --sort -total_net")
    lines.append(f"    {views_cli} category-spend")
    for view in ("supplier-exposure", "price-benchmark"):
        if view in p.examples:
            lines.append(f"    {views_cli} {view} {shlex.quote(p.examples[view])}")
    lines.append(f"    {views_cli} contract-pipeline --as-of {p.day.isoformat()}")
    lines.append(f"    {views_cli} member-activity {p.members[0]}")
    lines.append("  The view topics (compacted, Avro, keyed by the view's key; records written so far):")
    width = max(len(view_topic(v)) for v in VIEWS)
    lines += [f"    {view_topic(v):<{width}}  {p.records.get(view_topic(v), 0):>6,}" for v in VIEWS]
    dlqs = {m: p.records.get(dlq_topic(m), 0) for m in p.members}
    with_records = sorted((m for m, n in dlqs.items() if n), key=lambda m: (-dlqs[m], m))
    lines.append("  Dead letters (one topic per partner, which reads back what the hub rejected):")
    if with_records:
        first = with_records[0]
        lines.append(
            f"    {sum(dlqs.values()):,} records on {len(with_records)} partners' topics, "
            f"the most on {dlq_topic(first)} ({dlqs[first]})"
        )
    else:
        lines.append(f"    none so far, e.g. {dlq_topic(p.members[0])}")
    lines.append(f"  The demo's topology ({len(p.members)} synthetic partners; topologies/ is untouched):")
    bootstrap = _root_flag(p.settings, "bootstrap", "BLUELIGHT_BOOTSTRAP")
    lines.append(f"    bluelight{bootstrap} topology plan --dir {shlex.quote(str(p.topology_dir))}")
    if p.log is not None:
        lines.append(f"  Worker log: {p.log}")
    lines.append("  To stop:")
    if p.log is None:
        lines.append("    the worker was running before the demo; stop it where it was started")
    elif p.foreground:
        lines.append("    Ctrl-C stops the worker")
    else:
        lines.append("    the worker stops now (--exit)")
    if p.kafka_port is not None:
        port = "" if p.kafka_port == 9092 else f" --port {p.kafka_port}"
        state = _root_flag(p.settings, "state_dir", "BLUELIGHT_STATE_DIR")
        lines.append(f"    bluelight{state} kafka down{port}    stops Kafka (its data stays for next time)")
    return lines
