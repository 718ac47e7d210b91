"""One run of a file adapter from the command line: read, publish (or print), then summarise.

The run itself is the SDK's :class:`~adapters.sdk.run.FileRun`; this module gives it its
rejects file and checkpoints, watches a drop folder when asked, and prints what happened.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from adapters.base import FileAdapter
from adapters.cli_shared import EXIT_BROKER, EXIT_REJECTS, EXIT_USAGE, show_progress
from adapters.sdk.checkpoint import CheckpointStore
from adapters.sdk.envelope import utc_now
from adapters.sdk.metrics import default_metrics
from adapters.sdk.publisher import Publisher, PublishError, RefusedError
from adapters.sdk.run import FileRun, RejectsFile, SourceReport
from adapters.sdk.sharing import SharingPolicy
from adapters.sdk.summary import SpendSummary, classifier
from bluelight.settings import HubSettings


def run_file_adapter(
    settings: HubSettings,
    *,
    name: str,
    reader: FileAdapter,
    member: str,
    config: dict[str, Any] | None,
    policy: SharingPolicy,
    paths: list[Path],
    dry_run: bool,
    rejects_path: Path | None,
    watch_dir: Path | None,
    patterns: tuple[str, ...],
    interval: float,
    batch: int,
) -> int:
    """Run the adapter over ``paths`` (then ``watch_dir``), print a summary; the exit code."""
    if rejects_path is None and not dry_run:
        stamp = utc_now().strftime("%Y%m%dT%H%M%S")
        rejects_path = settings.state_dir / "adapters" / member / "rejects" / f"{name}-{stamp}.jsonl"
    rejects = RejectsFile(rejects_path, echo=sys.stderr, echo_limit=None if dry_run else 20)
    run = FileRun(
        reader=reader,
        adapter=name,
        member=member,
        config=config,
        policy=policy,
        rejects=rejects,
        metrics=default_metrics(),
        checkpoints=None if dry_run else CheckpointStore(settings.state_dir, member, name),
        out=sys.stdout,
        batch=batch,
        progress=show_progress(),
        summary=SpendSummary(classifier(member, (config or {}).get("categories"))),
    )
    summary_to = sys.stderr if dry_run else sys.stdout

    async def go() -> None:
        if dry_run:
            await run.sources(paths)
            return
        async with Publisher(settings.kafka, name) as publisher:
            run.publisher = publisher
            await run.sources(paths)
            if watch_dir is not None:
                from adapters.sdk.watch import watch

                async def one(path: Path) -> None:
                    before = len(run.report.sources)
                    await run.source(path)
                    _print_sources(run.report.sources[before:], summary_to)

                stop = asyncio.Event()  # SIGTERM (a service manager) ends it as cleanly as Ctrl-C
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
                print(f"watching {watch_dir} for {', '.join(patterns)} every {interval:g}s (Ctrl-C to stop)")
                await watch(watch_dir, patterns, one, interval=interval, stop=stop)

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        print("stopped; checkpoints hold everything acknowledged.", file=sys.stderr)
    except RefusedError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        rejects.close()
        return EXIT_USAGE
    except PublishError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        print("Acknowledged events are checkpointed; run the same command again to resume.", file=sys.stderr)
        _print_summary(run, dry_run, summary_to)
        rejects.close()
        return EXIT_BROKER
    rejects.close()
    _print_summary(run, dry_run, summary_to)
    if run.report.config_errors:
        return EXIT_USAGE
    return EXIT_REJECTS if run.report.rejected else 0


def _print_sources(sources: list[SourceReport], out: TextIO) -> None:
    for s in sources:
        if s.unchanged:
            print(f"  {s.source}: unchanged since its last complete run; not read again", file=out)
            continue
        skipped = ", ".join(f"{reason}: {n}" for reason, n in sorted(s.skipped.items()))
        notes = []
        if s.resumed_from:
            notes.append(f"resumed after {s.resumed_from} rows already acknowledged")
        if s.changed:
            notes.append("changed since the last run: read again from the top")
        print(
            f"  {s.source}: {s.events} events, {s.rejected} rejected, {sum(s.skipped.values())} skipped"
            + (f" ({skipped})" if skipped else "")
            + (f" [{'; '.join(notes)}]" if notes else ""),
            file=out,
        )


def _print_summary(run: FileRun, dry_run: bool, out: TextIO) -> None:
    report = run.report
    verb = "printed" if dry_run else "published"
    where = "; ".join(
        f"{topic} (partitions {', '.join(map(str, sorted(p)))})" for topic, p in report.partitions.items()
    )
    print(f"{run.adapter} for {run.member}" + (f" -> {where}" if where else "") + ":", file=out)
    _print_sources(report.sources, out)
    skipped = sum(report.skipped.values())
    line = f"total: {report.events} events {verb}, {report.rejected} rejected, {skipped} skipped"
    if report.rejected and run.rejects.path is not None:
        line += f"; rejects in {run.rejects.path}"
    print(line, file=out)
    if run.summary is not None:
        for text in run.summary.report("would land" if dry_run else "lands"):
            print(text, file=out)
