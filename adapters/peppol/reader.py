"""The Peppol adapter: UBL Order / OrderChange / OrderCancellation files -> purchase-order events.

Documents are taken in the order given (a directory contributes its ``*.xml`` files in name
order). Versions follow the order's life, whatever order the documents arrive in:

- an Order is version 1 (or its SequenceNumberID, if it carries one);
- an OrderChange with SequenceNumberID n is version n + 1 and restates the whole order;
- an OrderCancellation is version ``CANCELLED_BASE`` (10^9) + the version of the state it
  cancels, carrying that full state with status CANCELLED. Nothing follows a cancellation
  in Peppol ordering, so it outranks any change; a change that arrives after it (a drop
  folder read in name order puts "cancellation" before "change") refreshes the cancelled
  state and gives a new CANCELLED event one version higher. The final event is then the
  same whatever the arrival order.

The adapter-side order store (state.py) remembers what it needs between runs; a resend of
the same document gives the same version and content.

config keys: ``state_dir`` (where the order store lives; in memory for one call when absent),
``dry_run`` (read the store but never write it), ``source_system`` (default "peppol"),
``companies_house_schemes`` (legal CompanyID schemeIDs that mean a Companies House number).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from adapters.base import Mapped, Outcome, RowError
from adapters.peppol.mapping import UblDocument, order_body, read_document
from adapters.peppol.state import OrderRecord, OrderStore, digest
from adapters.peppol.ubl import DocumentError, parse
from adapters.sdk.envelope import complete_envelope, iso_z
from topologies.naming import Family

FAMILY: Family = "purchase-order"
DEFAULT_SOURCE_SYSTEM = "peppol"
# Cancellation versions start here, above any version an OrderChange sequence number gives.
CANCELLED_BASE = 1_000_000_000


def read(paths: list[Path], member: str, config: dict[str, Any] | None = None) -> Iterator[Outcome]:
    """Map every Peppol ordering document under ``paths``, in order."""
    config = config or {}
    store = OrderStore.for_member(config.get("state_dir"), member, persist=not config.get("dry_run"))
    source_system = str(config.get("source_system") or DEFAULT_SOURCE_SYSTEM)
    for path in _files(paths):
        try:
            kind, root = parse(path.read_bytes())
            doc = read_document(kind, root, config)
            event = _next_event(doc, store, member, source_system)
        except DocumentError as exc:
            yield RowError(file=str(path), line=None, column=exc.where, reason=exc.reason)
            continue
        except OSError as exc:
            yield RowError(file=str(path), line=None, column=None, reason=f"cannot read the file: {exc}")
            continue
        yield Mapped(FAMILY, complete_envelope(FAMILY, member, event, source_system=source_system), str(path))


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.glob("*.xml"))
        else:
            yield path


def _next_event(doc: UblDocument, store: OrderStore, member: str, source_system: str) -> dict[str, Any]:
    """The event this document makes, with the store brought up to date."""
    record = store.get(doc.order_id)
    if doc.kind == "OrderCancellation":
        return _cancel(doc, record, store)
    if doc.kind == "Order":
        version = doc.sequence or 1
        status, order_date = "ISSUED", doc.issue_date
    else:
        assert doc.sequence is not None  # read_document insists on it for an OrderChange
        version = doc.sequence + 1
        status = "AMENDED"
        # An OrderChange restates the order but not the day it was first placed.
        known = record.state["order_date"] if record is not None else None
        order_date = date.fromisoformat(known) if known else (doc.referenced_order_date or doc.issue_date)
    if version >= CANCELLED_BASE:
        raise DocumentError(
            "cbc:SequenceNumberID",
            f"{doc.label}: SequenceNumberID {doc.sequence} is beyond what the adapter versions "
            f"(it must stay below {CANCELLED_BASE - 1})",
        )
    contract_ref = doc.contract_ref or (record.state.get("contract_ref") if record is not None else None)
    event: dict[str, Any] = {
        "member_id": member,
        "source_system": source_system,
        "entity_id": doc.order_id,
        "entity_version": version,
        "occurred_at": iso_z(doc.issued_at),
        **order_body(doc, status, order_date, contract_ref),
    }
    record = _remember(store, doc, record, version, event)
    if record.documents[f"{doc.kind}:{doc.document_id}"]["emitted"] != version:
        # It brought news to an order already cancelled: the cancellation, restated with it.
        return _as_cancelled(event, record)
    return event  # the current state, or a stale version the hub will ignore


def _remember(
    store: OrderStore, doc: UblDocument, record: OrderRecord | None, version: int, event: dict[str, Any]
) -> OrderRecord:
    key = f"{doc.kind}:{doc.document_id}"
    entry: dict[str, Any] = {"version": version, "digest": digest(event), "emitted": version}
    if record is None:
        record = OrderRecord(version, event, documents={key: entry})
        store.put(doc.order_id, record)
        return record
    seen = record.documents.get(key)
    if seen is not None:
        if (seen["version"], seen["digest"]) != (version, entry["digest"]):
            raise DocumentError(
                None,
                f"{doc.label} was already mapped as version {seen['version']} of order {doc.order_id} with "
                "different content; a correction needs a new OrderChange with a higher SequenceNumberID",
            )
        return record  # a resend: same version, same content
    claimed = record.document_for_version(version)
    if claimed is not None:
        raise DocumentError(
            "cbc:SequenceNumberID",
            f"{doc.label} would be version {version} of order {doc.order_id}, "
            f"but {claimed} already is; each change needs its own SequenceNumberID",
        )
    if version > record.state_version and record.cancelled_by is not None:
        entry["emitted"] = CANCELLED_BASE + version
    documents = {**record.documents, key: entry}
    if version > record.state_version:
        record = replace(record, state_version=version, state=event, documents=documents)
    else:
        # Arrived after a later version: published as the stale version it is, state unchanged.
        record = replace(record, documents=documents)
    store.put(doc.order_id, record)
    return record


def _cancel(doc: UblDocument, record: OrderRecord | None, store: OrderStore) -> dict[str, Any]:
    """The order's last full state, CANCELLED, at a version no change can reach."""
    if record is None:
        raise DocumentError(
            "cac:OrderReference/cbc:ID",
            f"{doc.label} cancels order {doc.order_id}, which this adapter has never seen (no Order or "
            f"OrderChange for it in this run or in the order store, {store.where()}); a cancellation carries "
            "no lines, so there is no full state to publish - send the order's documents first",
        )
    if record.cancelled_by == doc.document_id:
        return cancelled_event(record)  # a resend of the cancellation already applied
    if record.cancelled_by is not None:
        raise DocumentError(
            None, f"{doc.label}: order {doc.order_id} was already cancelled by {record.cancelled_by}"
        )
    record = replace(record, cancelled_by=doc.document_id, cancelled_at=iso_z(doc.issued_at))
    store.put(doc.order_id, record)
    return cancelled_event(record)


def cancelled_event(record: OrderRecord) -> dict[str, Any]:
    """The CANCELLED event of a cancelled order: its live state, ``CANCELLED_BASE`` versions up."""
    return _as_cancelled(record.state, record)


def _as_cancelled(state: dict[str, Any], record: OrderRecord) -> dict[str, Any]:
    return {
        **state,
        "status": "CANCELLED",
        "entity_version": CANCELLED_BASE + int(state["entity_version"]),
        "occurred_at": record.cancelled_at,
    }
