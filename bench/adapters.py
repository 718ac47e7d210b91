"""How fast the CSV adapter is, and how much memory it holds, beside a raw loop over the same file.

Run by hand (not a test): ``.venv/bin/python -m bench.adapters`` from the repo root. It

1. writes a GLA-shaped SAP spend export of N rows (``--rows``; real rows of
   tests/fixtures/csv/odileeds_gla_london_2013-P07.csv with new document numbers, a fifth of the
   documents split over two cost lines), and a larger one (``--big-rows``) for memory alone;
2. dry run: ``bluelight adapter csv --dry-run`` to /dev/null, against a raw loop (csv.reader,
   each row as a JSON dict, to /dev/null);
3. publish: starts a broker of its own on a free port (data in a temp dir, wiped at the end),
   then ``bluelight adapter csv`` publishes to it, against a raw loop (csv.reader, each row as
   JSON, an idempotent acks=all aiokafka producer, every ack awaited) into a topic of the
   same partitions.

Each side runs as its own process, so its peak RSS (``ru_maxrss`` from ``wait4``) and its CPU
time (user + system) are its own; rows/s is rows in the file / wall time of that process,
start-up included, and rows per CPU second is what a shared, busy machine distorts least. Prints a table
and rewrites the "Adapters" section of docs/benchmarks.md (``--no-doc`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.throughput import free_port_pair
from tests.hub_run import create_topics, fresh_broker

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "fixtures" / "csv" / "odileeds_gla_london_2013-P07.csv"
MAPPING = ROOT / "adapters" / "csv" / "examples" / "gla-sap.yaml"
DOC = ROOT / "docs" / "benchmarks.md"
MEMBER = "bench-adapter"
HEADER = ["Vendor ID", "Vendor Name", "Cost Element", "Expenditure Account Code Description",
          "Document No", "Amount", "Clearing Date"]  # fmt: skip
BEGIN, END = "<!-- adapters:begin -->", "<!-- adapters:end -->"

RAW_DRY = """
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as fh, open(os.devnull, "w") as out:
    rows = csv.reader(fh)
    header = next(rows)
    for cells in rows:
        out.write(json.dumps(dict(zip(header, cells))) + "\\n")
"""

RAW_PUBLISH = """
import asyncio, csv, json, sys
from aiokafka import AIOKafkaProducer

async def main() -> None:
    producer = AIOKafkaProducer(bootstrap_servers=sys.argv[2], enable_idempotence=True, acks="all",
                                linger_ms=5)
    await producer.start()
    try:
        pending = []
        with open(sys.argv[1], newline="", encoding="utf-8") as fh:
            rows = csv.reader(fh)
            header = next(rows)
            for cells in rows:
                pending.append(await producer.send(sys.argv[3], json.dumps(dict(zip(header, cells))).encode(),
                                                   key=cells[4].encode()))
                if len(pending) >= 500:
                    await asyncio.gather(*pending)
                    pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()

asyncio.run(main())
"""


@dataclass
class Measured:
    """One process's run."""

    what: str
    rows: int
    seconds: float
    peak_mb: float
    cpu_seconds: float  # user + system of the process: what contention on a shared machine hides

    @property
    def rate(self) -> float:
        """Rows per second of wall time."""
        return self.rows / self.seconds


def write_csv(path: Path, rows: int, seed: int = 14) -> None:
    """A GLA-shaped export: real rows, new document numbers, one date per document."""
    with SOURCE.open(encoding="utf-8", newline="") as fh:
        real = list(csv.reader(fh))[1:]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        written, doc = 0, 5_100_000_000
        while written < rows:
            doc += 1
            base = real[rng.randrange(len(real))]
            day = f"2013-10-{rng.randint(1, 28):02d}"
            for part in range(1 if rng.random() < 0.8 else 2):
                line = real[rng.randrange(len(real))] if part else base
                amount = f"{abs(float(line[5])) / 7 + 1:.2f}"
                out.writerow([base[0], base[1], line[2], line[3], str(doc), amount, day])
                written += 1


def measure(what: str, rows: int, argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``argv`` with stdout to /dev/null; wall time and the process's own peak RSS."""
    began = time.monotonic()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(argv, stdout=devnull, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - began
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{what}: exit {code}\n{err.decode(errors='replace')[-2000:]}")
    return Measured(what, rows, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def adapter_argv(path: Path, state: Path, *, dry_run: bool) -> list[str]:
    """``bluelight adapter csv`` over ``path``."""
    return [
        str(Path(sys.executable).parent / "bluelight"), "--state-dir", str(state), "adapter", "csv",
        "--member", MEMBER, "--config", str(MAPPING), *(["--dry-run"] if dry_run else []), str(path),
    ]  # fmt: skip


def run(args: argparse.Namespace, tmp: Path) -> list[Measured]:
    """Every measurement, in the order of the table."""
    small, big = tmp / "spend.csv", tmp / "spend-big.csv"
    write_csv(small, args.rows)
    out = [
        measure("raw loop: csv.reader -> json.dumps -> /dev/null", args.rows, [sys.executable, "-c",
                "import os\n" + RAW_DRY, str(small)]),  # fmt: skip
        measure("adapter csv --dry-run -> /dev/null", args.rows, adapter_argv(small, tmp / "s1", dry_run=True)),  # noqa: E501
    ]
    if args.big_rows:
        write_csv(big, args.big_rows)
        argv = adapter_argv(big, tmp / "s2", dry_run=True)
        out.append(measure("adapter csv --dry-run (large file)", args.big_rows, argv))
    if args.no_publish:
        return out
    port = args.port or free_port_pair()
    with fresh_broker(tmp / "broker", port) as info:
        settings = info.hub_settings()
        asyncio.run(create_topics(settings, [MEMBER]))
        from topologies.naming import member_topic

        topic = member_topic(MEMBER, "purchase-order")
        env = {**os.environ, **info.env}
        out.append(
            measure("raw loop: csv.reader -> aiokafka acks=all", args.rows,
                    [sys.executable, "-c", RAW_PUBLISH, str(small), info.bootstrap, topic], env)
        )  # fmt: skip
        argv = adapter_argv(small, tmp / "s3", dry_run=False)
        out.append(measure("adapter csv -> broker", args.rows, argv, env))
    return out


def table(results: list[Measured]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| run | rows | seconds | rows/s | CPU s | rows per CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results:
        per_cpu = m.rows / m.cpu_seconds if m.cpu_seconds else 0.0
        lines.append(
            f"| {m.what} | {m.rows:,} | {m.seconds:.1f} | {m.rate:,.0f} | {m.cpu_seconds:.1f} | "
            f"{per_cpu:,.0f} | {m.peak_mb:.0f} |"
        )
    return "\n".join(lines)


def document(results: list[Measured], args: argparse.Namespace) -> None:
    """Rewrite the Adapters section of docs/benchmarks.md between its markers."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"{BEGIN}\n{when}; {os.cpu_count()} cores, load average {load} at the end; "
        f"Python {platform.python_version()}. Command: `.venv/bin/python -m bench.adapters "
        f"--rows {args.rows} --big-rows {args.big_rows}`.\n\n{table(results)}\n{END}"
    )
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text += f"\n## Adapters\n\n{body}\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    """Parse arguments, run, print and (unless --no-doc) record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the timed file")
    parser.add_argument("--big-rows", type=int, default=1_000_000, help="rows in the memory file (0: skip)")
    parser.add_argument("--port", type=int, default=0, help="broker port (default: a free pair from 9496)")
    parser.add_argument("--no-publish", action="store_true", help="dry runs only: no broker")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-adapters-") as tmp:
        results = run(args, Path(tmp))
    print(table(results))
    if not args.no_doc:
        document(results, args)


if __name__ == "__main__":
    main()
