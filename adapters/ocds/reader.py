"""The OCDS adapter: release/record packages and bare releases -> contract and supplier events.

The releases of one process (ocid) can arrive in different files and runs (a Contracts
Finder search returns one package per day; Find a Tender's award release does not repeat
the tender). So every release read is added to the adapter's process memory (store.py,
under the state directory), and each process touched is compiled (merge.py) from all of its
releases and mapped from that full current state. Without a state directory only the
releases of the current call are compiled together.

Version: every event of a process carries ``entity_version = S * 1000 + min(n, 999)``, where
S is the newest release date in epoch seconds and n the number of releases compiled. A later
release always raises it; the same releases give the same number however they were packaged
(six releases, or a record whose compiledRelease lists six, give the same version and the
same event).

config keys: ``state_dir`` and ``dry_run`` (from the SDK), ``source_system`` (default:
"contracts-finder" for ocid prefix ocds-b5fd17, "find-a-tender" for ocds-h6vhtk, else "ocds"),
``multi_supplier`` ("split" | "first", see mapping.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from adapters.base import Mapped, Outcome, RowError
from adapters.ocds.mapping import MULTI_SUPPLIER_MODES, Body, MultiSupplier, Process, map_process
from adapters.ocds.merge import MergeError, compile_releases, release_moment
from adapters.ocds.packages import PackageError, ProcessInput, load
from adapters.ocds.store import ProcessMemory, ReleaseStore
from adapters.sdk.envelope import complete_envelope, iso_z

SOURCE_BY_PREFIX = {"ocds-b5fd17": "contracts-finder", "ocds-h6vhtk": "find-a-tender"}
DEFAULT_SOURCE_SYSTEM = "ocds"


def read(paths: list[Path], member: str, config: dict[str, Any] | None = None) -> Iterator[Outcome]:
    """Map every process found under ``paths`` (files, or directories of ``*.json``)."""
    config = config or {}
    mode = config.get("multi_supplier") or "split"
    if mode not in MULTI_SUPPLIER_MODES:
        raise ValueError(
            f"config multi_supplier is {mode!r}: expected one of {', '.join(MULTI_SUPPLIER_MODES)}"
        )
    mode = cast(MultiSupplier, mode)
    by_ocid: dict[str, list[ProcessInput]] = {}
    for path in _files(paths):
        try:
            inputs, problems = load(path)
        except PackageError as exc:
            yield RowError(file=str(path), line=None, column=exc.where, reason=exc.reason)
            continue
        except OSError as exc:
            yield RowError(file=str(path), line=None, column=None, reason=f"cannot read the file: {exc}")
            continue
        for bad in problems:
            yield RowError(file=str(path), line=None, column=bad.where, reason=bad.reason)
        for item in inputs:
            by_ocid.setdefault(item.ocid, []).append(item)
    store = ReleaseStore.for_member(config.get("state_dir"), member, persist=not config.get("dry_run"))
    seen: set[tuple[str, str, int]] = set()
    for ocid, inputs in by_ocid.items():
        source = ", ".join(dict.fromkeys(i.source for i in inputs))
        memory, undated = _remember(store.get(ocid), inputs)
        for release_source, problem in undated:
            yield RowError(
                file=release_source, line=None, column="date", reason=f"{problem}; release skipped"
            )
        if not memory.releases and memory.compiled is None:
            continue
        process = _compile(memory, mode)
        store.put(ocid, memory)
        source_system = str(config.get("source_system") or _source_system(ocid))
        for out in map_process(process):
            if not isinstance(out, Body):
                yield RowError(file=source, line=None, column=out.field, reason=f"{ocid}: {out.reason}")
                continue
            key = (out.family, str(out.event["entity_id"]), int(out.event["entity_version"]))
            if key in seen:
                continue  # the same supplier at the same version, named by two processes
            seen.add(key)
            body = {"member_id": member, "source_system": source_system, **out.event}
            event = complete_envelope(out.family, member, body, source_system=source_system)
            yield Mapped(out.family, event, source)


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        else:
            yield path


def _remember(
    known: ProcessMemory, inputs: list[ProcessInput]
) -> tuple[ProcessMemory, list[tuple[str, str]]]:
    """``known`` plus what this run read (new releases by id, a newer compiledRelease).

    Also returns the (file, reason) of each release refused because it has no usable date.
    """
    memory = ProcessMemory(dict(known.releases), known.compiled, known.compiled_count)
    undated: list[tuple[str, str]] = []
    for item in inputs:
        for release in item.releases:
            try:
                release_moment(release)
            except MergeError as exc:
                undated.append((item.source, str(exc)))
                continue
            memory.releases[str(release.get("id"))] = release  # a release met twice is one release
        if item.compiled is None:
            continue
        try:
            newer = memory.compiled is None or release_moment(item.compiled) >= release_moment(
                memory.compiled
            )
        except MergeError as exc:
            undated.append((item.source, f"compiledRelease: {exc}"))
            continue
        if newer:
            memory.compiled, memory.compiled_count = item.compiled, item.compiled_count
    return memory, undated


def _compile(memory: ProcessMemory, mode: MultiSupplier) -> Process:
    """The process's compiled release and version, from everything remembered of it."""
    base = memory.compiled
    pending = list(memory.releases.values())
    if base is not None:
        since = release_moment(base)
        pending = [r for r in pending if release_moment(r) > since]  # older ones are in the compiled release
    compiled = compile_releases(pending, base)
    newest = release_moment(compiled)
    count = (memory.compiled_count if base is not None else 0) + len(pending)
    version = int(newest.timestamp()) * 1000 + min(count, 999)
    return Process(release=compiled, version=version, occurred_at=iso_z(newest), multi_supplier=mode)


def _source_system(ocid: str) -> str:
    for prefix, name in SOURCE_BY_PREFIX.items():
        if ocid.startswith(prefix):
            return name
    return DEFAULT_SOURCE_SYSTEM
