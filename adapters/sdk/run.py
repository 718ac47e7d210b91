"""Running a file adapter: outcomes in, events published or printed, rejects written.

Per source file, in input order: a skipped line is counted; a row error is written to the
rejects file; a mapped event is prepared (envelope, validation, sharing policy) and sent,
or written to the rejects file with the hub's reason. Every ``batch`` events the run waits
for the broker's acknowledgements and only then writes the checkpoint, so the checkpoint
never claims more than the broker holds.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from adapters.base import ConfigMismatch, FileAdapter, Mapped, RowError, Skipped
from adapters.sdk.checkpoint import CheckpointStore, fingerprint
from adapters.sdk.envelope import utc_now
from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.prepare import prepare_encoded
from adapters.sdk.publisher import Ack, Outgoing, Publisher, PublishError
from adapters.sdk.sharing import SharingPolicy
from adapters.sdk.summary import SpendSummary
from schemas.models import family_of
from schemas.validate import Rejection
from topologies.naming import member_topic


@dataclass
class SourceReport:
    """What became of one input."""

    source: str
    events: int = 0  # acknowledged by the broker (or printed, in a dry run)
    rejected: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    resumed_from: int = 0  # outcomes already handled by an earlier run
    unchanged: bool = False  # completed before with the same content and mapping: not read again
    changed: bool = False  # a checkpoint existed for other content: read again from the top


@dataclass
class RunReport:
    """What became of every input of one run."""

    sources: list[SourceReport] = field(default_factory=list)
    partitions: dict[str, set[int]] = field(default_factory=dict)
    config_errors: int = 0  # files the mapping could not read at all (exit 2)

    @property
    def events(self) -> int:
        """Events published (or printed) in this run."""
        return sum(s.events for s in self.sources)

    @property
    def rejected(self) -> int:
        """Rows and events refused in this run."""
        return sum(s.rejected for s in self.sources)

    @property
    def skipped(self) -> Counter[str]:
        """Lines deliberately not read, by reason."""
        total: Counter[str] = Counter()
        for s in self.sources:
            total.update(s.skipped)
        return total


class RejectsFile:
    """Rejected rows as JSON lines (file, line, column, kind, reason, raw); created on the first.

    Without a path (a dry run) rejects are only shown on ``echo``.
    """

    def __init__(self, path: Path | None, echo: TextIO | None = None, echo_limit: int | None = 20) -> None:
        self.path = path
        self.count = 0
        self._echo = echo
        self._echo_limit = echo_limit
        self._fh: TextIO | None = None

    def write(self, error: RowError, kind: str = "row") -> None:
        """Record one reject (and show it, up to the echo limit)."""
        if self._fh is None and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        record = {
            "file": error.file,
            "line": error.line,
            "column": error.column,
            "kind": kind,
            "reason": error.reason,
            "raw": error.raw,
        }
        if self._fh is not None:
            self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1
        if self._echo is not None and (self._echo_limit is None or self.count <= self._echo_limit):
            print(f"rejected {error}", file=self._echo)
        elif self._echo is not None and self.count == (self._echo_limit or 0) + 1:
            print(f"... further rejects only in {self.path}", file=self._echo)

    def flush(self) -> None:
        """Make the rejects durable before a checkpoint says they were handled."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Close the file if one was opened."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class FileRun:
    """Everything one run of a file adapter needs; :meth:`source` handles one input."""

    reader: FileAdapter
    adapter: str
    member: str
    config: dict[str, Any] | None
    policy: SharingPolicy
    rejects: RejectsFile
    metrics: AdapterMetrics
    publisher: Publisher | None = None  # None: a dry run, events printed to ``out``
    checkpoints: CheckpointStore | None = None
    out: TextIO | None = None
    batch: int = 500
    progress: bool = False
    summary: SpendSummary | None = None  # per-code classification, rows read, total amount
    report: RunReport = field(default_factory=RunReport)
    _stamp: tuple[float, datetime] = (0.0, utc_now())  # published_at, refreshed every few ms

    async def sources(self, paths: list[Path]) -> RunReport:
        """Handle every path in order."""
        if self.publisher is None and self.checkpoints is None:
            await self._dry_run(paths)
            return self.report
        for path in paths:
            await self.source(path)
        return self.report

    async def _dry_run(self, paths: list[Path]) -> None:
        """All paths in one reader call, as adapters that carry state across files expect.

        (A publishing run reads file by file so each has its own checkpoint; adapters with
        memory, like Peppol's order store, persist it between those calls.)
        """
        reports = [SourceReport(source=str(p)) for p in paths]
        self.report.sources.extend(reports)
        by_name = {Path(r.source).name: r for r in reports} | {r.source: r for r in reports}
        for outcome in self.reader(paths, self.member, self.config):
            file = split_source(outcome.source)[0] if isinstance(outcome, Mapped) else outcome.file
            rep = by_name.get(file) or by_name.get(Path(file).name) or reports[0]
            await self._handle(outcome, rep, [])

    async def source(self, path: Path) -> SourceReport:
        """Publish (or print) one input, resuming from its checkpoint."""
        rep = SourceReport(source=str(path))
        self.report.sources.append(rep)
        fp = fingerprint(path.read_bytes(), self.adapter, self.config, self.policy.describe())
        start = 0
        if self.checkpoints is not None and (cp := self.checkpoints.load(path)) is not None:
            if cp.fingerprint != fp:
                rep.changed = True
            elif cp.complete:
                rep.unchanged = True
                return rep
            else:
                start = rep.resumed_from = cp.position
        pending: list[asyncio.Future[Ack]] = []
        # The batch before ``pending``, still awaiting acks: it is settled (and checkpointed) once
        # the next one is full, so the broker's round trip and the checkpoint's fsync overlap with
        # preparing the next batch instead of stopping the run for each batch.
        flying: tuple[list[asyncio.Future[Ack]], int, int | None] | None = None
        position, last_line = 0, None
        bar = tqdm(desc=path.name, unit=" rows", disable=not self.progress, leave=False)
        try:
            for outcome in self.reader([path], self.member, self.config):
                position += 1
                bar.update()
                if position <= start:
                    continue
                last_line = await self._handle(outcome, rep, pending) or last_line
                if len(pending) >= self.batch:
                    if flying is not None:
                        await self._settle(path, fp, *flying, complete=False, rep=rep)
                    flying, pending = (pending, position, last_line), []
            if flying is not None:
                await self._settle(path, fp, *flying, complete=False, rep=rep)
            await self._settle(path, fp, pending, position, last_line, complete=True, rep=rep)
        finally:
            bar.close()
        return rep

    async def _handle(
        self, outcome: Mapped | RowError | Skipped, rep: SourceReport, pending: list[asyncio.Future[Ack]]
    ) -> int | None:
        if isinstance(outcome, Skipped):
            kind = _reason_kind(outcome.reason)
            rep.skipped[kind] += 1
            if self.summary is not None and kind != ABOVE_HEADER:
                self.summary.rows_read += 1
            return outcome.line
        if self.summary is not None:
            self.summary.rows_read += outcome.rows if isinstance(outcome, Mapped) else 1
        if isinstance(outcome, RowError):
            config = isinstance(outcome, ConfigMismatch)
            self.report.config_errors += config
            self._reject(outcome, "config" if config else "row", "unknown", rep)
            return outcome.line
        file, line = split_source(outcome.source)
        try:
            event, value = prepare_encoded(
                outcome.family, outcome.event, self.member, policy=self.policy, now=self._now()
            )
        except Rejection as exc:
            self._reject(RowError(file, line, exc.field, exc.reason, ""), exc.kind, outcome.family, rep)
            return line
        if self.summary is not None:
            self.summary.add(event)
        if self.publisher is None:
            if self.out is not None:
                self.out.write(event.model_dump_json() + "\n")  # pydantic's own JSON: one pass, in Rust
            rep.events += 1
        else:
            # stamped just now, and encoded by prepare_encoded: sent as those bytes, not encoded again
            topic = member_topic(event.member_id, family_of(event))
            pending.append(await self.publisher.send_encoded(Outgoing(event, topic, value)))
        return line

    def _now(self) -> datetime:
        """The adapter's clock for published_at, read at most every 5 ms (it is per event otherwise)."""
        tick = time.monotonic()
        if tick - self._stamp[0] > 0.005:
            self._stamp = (tick, utc_now())
        return self._stamp[1]

    def _reject(self, error: RowError, kind: str, family: str, rep: SourceReport) -> None:
        self.rejects.write(error, kind)
        self.metrics.rejected.labels(self.member, family, self.adapter, kind).inc()
        rep.rejected += 1

    async def _settle(
        self,
        path: Path,
        fp: str,
        pending: list[asyncio.Future[Ack]],
        position: int,
        line: int | None,
        *,
        complete: bool,
        rep: SourceReport,
    ) -> None:
        """Wait for every pending ack, then (and only then) move the checkpoint."""
        if pending:
            try:
                acks = await asyncio.gather(*pending)
            except PublishError as exc:
                where = f"line {line}" if line is not None else "the start"
                raise PublishError(
                    f"{path.name}: {exc}; nothing after the last checkpoint ({where}) counts"
                ) from exc
            for ack in acks:
                self.report.partitions.setdefault(ack.topic, set()).add(ack.partition)
            rep.events += len(acks)
            pending.clear()
        self.rejects.flush()
        if self.checkpoints is not None and self.publisher is not None:
            self.checkpoints.save(path, fp, position, line, complete)


ABOVE_HEADER = "above the header row"  # a title line, not a row of data
_LINE_SUFFIX = re.compile(r"^(?P<file>.*):(?P<line>\d+)$")


def split_source(source: str) -> tuple[str, int | None]:
    """``"orders.csv:12"`` -> ``("orders.csv", 12)``; a source without a line keeps None."""
    m = _LINE_SUFFIX.match(source)
    if m is None:
        return source, None
    return m["file"], int(m["line"])


def _reason_kind(reason: str) -> str:
    # Skip reasons carry the line's text ("footer line 'Total'"); summaries count by kind.
    return reason.split(" '")[0].split(' "')[0]
