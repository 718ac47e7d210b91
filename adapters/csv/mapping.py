"""Spend CSV rows to purchase-order events: one transaction, one order.

The reading, in the order it happens:

1. decode the bytes (UTF-8 with or without BOM, else Windows-1252 - real files mix them);
2. find the header row among the first rows (titles above it are skipped and counted),
   matching each field's aliases with case, spaces and punctuation ignored;
3. read each row: blank rows and ``Total`` footers are skipped and counted; a row that
   cannot be read becomes a row error naming its line and column;
4. group rows into transactions (on disk, :mod:`adapters.csv.spill`, so a file of any size
   reads in bounded memory): rows sharing a transaction number (qualified by the
   configured ``id_scope``) are the lines of one order, because spend files split one
   payment across cost lines; a row without a number is its own order, keyed by a hash
   of its content;
5. net credit notes against their transaction (see :func:`_net_credits`) and emit one
   event per transaction, or a row error for every row of a transaction that cannot be
   published whole - a partial order is never sent.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import heapq
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, NamedTuple

from adapters.base import ConfigMismatch, Mapped, Outcome, RowError, Skipped
from adapters.csv.config import REQUIRED_FIELDS, CsvConfig, CsvField
from adapters.csv.parse import clean_text, header_key, parse_amount, parse_date
from adapters.csv.spill import Spill

PENNY = Decimal("0.01")
REDACTED = "REDACTED"


class SpendRow(NamedTuple):
    """One readable data row, in canonical terms (a tuple: it is spilled to disk and back)."""

    line: int
    values: dict[CsvField, str]
    day: date
    supplier_name: str
    supplier_id: str
    net: Decimal  # signed: a credit note is negative
    scheme: str
    code: str
    description: str
    cells: list[str]


@dataclass(frozen=True)
class Header:
    """Where each field sits in the file."""

    line: int
    width: int
    index: dict[CsvField, int]
    names: dict[CsvField, str]  # the header text as the file spells it, for error messages
    found: tuple[str, ...] = ()  # the file's own header cells, for error messages


def decode(data: bytes, encoding: str) -> str:
    """The file's text: UTF-8 (a BOM is fine), else Windows-1252, else Latin-1."""
    return data.decode(sniff_encoding([data], encoding))


def sniff_encoding(chunks: Iterable[bytes], encoding: str) -> str:
    """The codec the whole file decodes with: UTF-8 (BOM allowed), else Windows-1252, else Latin-1.

    Reads ``chunks`` once with incremental decoders, so a large file is never held whole.
    """
    if encoding != "auto":
        codecs.lookup(encoding)  # LookupError for an unknown name, before any row is read
        return encoding
    decoders = {c: codecs.getincrementaldecoder(c)() for c in ("utf-8-sig", "cp1252")}
    for chunk in chunks:
        for codec, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del decoders[codec]
        if not decoders:
            return "latin-1"
    for codec, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[codec]
    return next(iter(decoders), "latin-1")


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def read_csv(path: Path, member: str, cfg: CsvConfig) -> Iterator[Outcome]:
    """Every outcome of one CSV file, ordered by the line where each starts.

    The file is streamed: rows go to a temporary SQLite file (:mod:`adapters.csv.spill`)
    and come back grouped into transactions, so memory does not grow with the file.
    """
    name = path.name
    try:
        codec = sniff_encoding(_chunks(path), cfg.encoding)
    except (OSError, LookupError) as exc:
        yield RowError(name, None, None, f"cannot read the file: {exc}")
        return
    with Spill() as spill:
        try:
            with path.open(encoding=codec, newline="") as fh:
                unreadable: list[tuple[int, Outcome]] = []
                read = _read_into(spill, name, _records(name, fh, cfg.delimiter, unreadable), cfg)
                for line, out in unreadable:
                    spill.add_outcome(line, out)
        except (OSError, UnicodeDecodeError) as exc:
            yield RowError(name, None, None, f"cannot read the file: {exc}")
            return
        if isinstance(read, RowError):
            yield read
            return
        above, header = read
        for line in above:
            yield Skipped(name, line, "above the header row")
        yield from _merged(name, member, spill, header, cfg)


def _read_into(
    spill: Spill, name: str, records: Iterator[tuple[int, list[str]]], cfg: CsvConfig
) -> tuple[list[int], Header] | RowError:
    """Find the header, then spill every row below it; the lines above it and the header."""
    head = list(itertools.islice(records, cfg.header_search_rows))
    header_at = _find_header(head, cfg)
    if isinstance(header_at, RowError):
        return ConfigMismatch(name, header_at.line, header_at.column, header_at.reason, header_at.raw)
    pos, header = header_at
    footer = _footer_re(cfg.footer_patterns)
    for line, cells in itertools.chain(head[pos + 1 :], records):
        row = _read_row(name, line, cells, header, cfg, footer)
        if isinstance(row, SpendRow):
            _spill_row(spill, row, cfg)
        else:
            spill.add_outcome(line, row)
    return [line for line, _ in head[:pos]], header


def _spill_row(spill: Spill, row: SpendRow, cfg: CsvConfig) -> None:
    values = row.values
    credit = row.net < 0 and bool(values.get("credit_reference") or values.get("transaction"))
    txn = _txn_id(row, cfg)
    content = None if txn is not None else _content_hash(row)
    spill.add_row(
        row.line,
        credit=credit,
        txn=txn,
        content=content,
        loose="\x1f".join(_loose_key(row, cfg)),
        credit_loose="\x1f".join(_loose_key(row, cfg, credit=True)) if credit else None,
        data=_flat(row),
    )


def _flat(row: SpendRow) -> tuple[Any, ...]:
    """The row as plain str/int values: what pickles fastest (Decimal and date do not)."""
    return (*row[:2], row.day.toordinal(), *row[3:5], str(row.net), *row[6:])


def _unflat(flat: tuple[Any, ...]) -> SpendRow:
    line, values, day, name, sid, net, scheme, code, description, cells = flat
    day_, amount = date.fromordinal(day), Decimal(net)
    return SpendRow(line, values, day_, name, sid, amount, scheme, code, description, cells)


def _merged(name: str, member: str, spill: Spill, header: Header, cfg: CsvConfig) -> Iterator[Outcome]:
    """Events and row errors of the groups, merged by line with the skipped and bad rows."""
    groups, problems = spill.group()
    outs = spill.outcomes()
    pending: list[tuple[int, int, Outcome]] = []  # a heap: outcomes not yet due, by line
    seq = itertools.count()
    next_out = next(outs, None)

    def due(before: float) -> Iterator[Outcome]:
        nonlocal next_out
        while next_out is not None and next_out[0] < before:
            heapq.heappush(pending, (next_out[0], next(seq), next_out[1]))
            next_out = next(outs, None)
        while pending and pending[0][0] < before:
            yield heapq.heappop(pending)[2]

    for entity_id, flat in groups:
        rows = [_unflat(r) for r in flat]
        first = rows[0].line
        yield from due(first)
        group = Group(entity_id, rows, problems.get(entity_id))
        for out in _to_event(name, member, group, cfg):
            line = out.line if isinstance(out, RowError) and out.line else first
            heapq.heappush(pending, (line, next(seq), out))
    yield from due(math.inf)


def _records(
    name: str, lines: Iterable[str], delimiter: str, unreadable: list[tuple[int, Outcome]]
) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; quoted newlines kept in one record.

    A record the csv module refuses (e.g. a field over its 128 KiB limit) is added to
    ``unreadable`` as that line's error, and reading goes on with the next record.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            unreadable.append((last + 1, RowError(name, last + 1, None, f"not readable as CSV: {exc}")))
            last = reader.line_num
            continue
        start = last + 1
        last = reader.line_num
        yield start, cells


def raw_text(cells: list[str], delimiter: str) -> str:
    """A record as the file would write it, for the rejects file (made only for a reject)."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(cells)
    return buf.getvalue()


def _find_header(records: list[tuple[int, list[str]]], cfg: CsvConfig) -> tuple[int, Header] | RowError:
    aliases = cfg.alias_keys()
    best: tuple[int, list[str], list[str]] | None = None  # line, fields found, the row's cells
    for pos, (line, cells) in enumerate(records[: cfg.header_search_rows]):
        index: dict[CsvField, int] = {}
        names: dict[CsvField, str] = {}
        for col, cell in enumerate(cells):
            field = aliases.get(header_key(cell))
            if field is None:
                continue
            if field in index:
                return ConfigMismatch(
                    "",
                    line,
                    cell,
                    f"two columns read as {field}: {names[field]!r} and {clean_text(cell)!r}",
                    raw_text(cells, cfg.delimiter),
                )
            index[field], names[field] = col, clean_text(cell)
        if all(f in index for f in REQUIRED_FIELDS):
            return pos, Header(line, len(cells), index, names, tuple(clean_text(c) for c in cells))
        if index and (best is None or len(index) > len(best[1])):
            best = (line, list(index), cells)
    if best is None:  # nothing looked like a header: show the first row that has anything in it
        first = next(((line, cells) for line, cells in records if any(c.strip() for c in cells)), None)
        best = (first[0], [], first[1]) if first else None
    missing = [f for f in REQUIRED_FIELDS if best is None or f not in best[1]]
    accepted = "; ".join(f"{f}: {', '.join(repr(a) for a in cfg.columns[f])}" for f in missing)
    own = (
        f"; the file's own headers (line {best[0]}) are "
        + ", ".join(repr(clean_text(c)) for c in best[2] if c.strip())
        if best
        else "; the file has no rows"
    )
    fix = f"columns.{missing[0]}" if missing else "columns"
    return ConfigMismatch(
        "",
        best[0] if best else None,
        None,
        f"no header row in the first {cfg.header_search_rows} rows names the required column(s) "
        f"{', '.join(missing)} (the mapping accepts {accepted}){own}. Add the file's name for it to "
        f"{fix} in the mapping. Nothing in this file was read.",
    )


_FOOTER_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _footer_re(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if patterns not in _FOOTER_CACHE:
        alts = "|".join(re.escape(p) for p in patterns)
        _FOOTER_CACHE[patterns] = re.compile(rf"^(?:{alts})\b", re.IGNORECASE)
    return _FOOTER_CACHE[patterns]


def _read_row(
    name: str, line: int, cells: list[str], header: Header, cfg: CsvConfig, footer: re.Pattern[str]
) -> SpendRow | RowError | Skipped:
    if not any(c.strip() for c in cells):
        return Skipped(name, line, "blank row")
    if any(c.strip() for c in cells[header.width :]):
        return RowError(
            name,
            line,
            None,
            f"row has {len(cells)} cells, the header {header.width}: an unquoted comma?",
            raw_text(cells, cfg.delimiter),
        )
    values: dict[CsvField, str] = {
        f: clean_text(cells[i]) if i < len(cells) else "" for f, i in header.index.items()
    }
    first = next((clean_text(c) for c in cells if c.strip()), "")
    if footer.match(first) and not _is_date(values["date"], cfg):
        return Skipped(name, line, f"footer line {first!r}")

    def err(field: CsvField | None, reason: str) -> RowError:
        column = header.names.get(field) if field else None
        return RowError(name, line, column, reason, raw_text(cells, cfg.delimiter))

    try:
        day = parse_date(values["date"], cfg.dates)
    except ValueError as exc:
        return err("date", str(exc))
    try:
        amount = parse_amount(values["amount"])
    except ValueError as exc:
        return err("amount", str(exc))
    net = amount
    if cfg.amount_basis == "gross":
        if "irrecoverable_vat" in values and values["irrecoverable_vat"]:
            try:
                net = amount - parse_amount(values["irrecoverable_vat"])
            except ValueError as exc:
                return err("irrecoverable_vat", str(exc))
        elif cfg.vat_rate is not None:
            net = (amount / (1 + cfg.vat_rate)).quantize(PENNY, rounding=ROUND_HALF_UP)
        else:
            return err(
                "irrecoverable_vat", "amounts are gross but this row has no irrecoverable VAT to subtract"
            )
    supplier = values["supplier"]
    if not supplier:
        return err(
            "supplier", "supplier is empty (a withheld supplier should say so, e.g. 'Redacted Personal Data')"
        )
    redacted = any(p.casefold() in supplier.casefold() for p in cfg.redaction.patterns)
    if redacted and cfg.redaction.action == "reject":
        return err("supplier", f"supplier is redacted ({supplier!r}) and this mapping rejects redacted rows")
    supplier_id = values.get("supplier_id", "")
    if redacted:  # a redacted payee's id can identify them as surely as the name
        supplier, supplier_id = REDACTED, REDACTED
    elif not supplier_id:
        supplier_id = supplier
    elif supplier_id in cfg.one_off_supplier_ids:
        supplier_id = f"{supplier_id}:{supplier}"
    scheme, code_field = "LOCAL", cfg.classification.code
    if cfg.classification.cpv and values.get(cfg.classification.cpv):
        scheme, code_field = "CPV", cfg.classification.cpv
    code = local_code(values.get(code_field, ""))
    if not code:
        return err(code_field, f"no classification: {header.names.get(code_field, code_field)} is empty")
    description = " / ".join(values[f] for f in cfg.description if values.get(f)) or code
    return SpendRow(line, values, day, supplier, supplier_id, net, scheme, code, description, cells)


def _is_date(text: str, cfg: CsvConfig) -> bool:
    try:
        parse_date(text, cfg.dates)
    except ValueError:
        return False
    return True


_DASHES = re.compile(r"\s+-\s*|\s*-\s+")


def local_code(text: str) -> str:
    """A partner's expense type as a LOCAL code, spacing made regular; case kept.

    So ``SERVICES -OTHER`` and ``SERVICES\u00a0- OTHER`` are the code ``SERVICES - OTHER``.
    """
    return _DASHES.sub(" - ", clean_text(text))


@dataclass
class Group:
    """The rows of one transaction."""

    entity_id: str
    rows: list[SpendRow]
    problem: str | None = None  # why the transaction cannot be published, found while grouping


def _loose_key(row: SpendRow, cfg: CsvConfig, *, credit: bool = False) -> tuple[str, ...]:
    """Transaction number and id_scope without the date; a credit's own reference wins."""
    number = (credit and row.values.get("credit_reference")) or row.values.get("transaction", "")
    return (number, *(_scope_value(row, f) for f in cfg.id_scope if f != "date"))


def _short_hash(parts: list[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:10]


def _txn_id(row: SpendRow, cfg: CsvConfig) -> str | None:
    """The transaction number qualified by ``id_scope``; None for a row without a number."""
    txn = row.values.get("transaction", "")
    if not txn:
        return None
    if not cfg.id_scope:
        return txn
    return f"{txn}-{_short_hash([_scope_value(row, f) for f in cfg.id_scope])}"


def _content_hash(row: SpendRow) -> str:
    """The key of a row without a number: a hash of its content.

    The spill numbers identical rows (``-2``, ``-3``) so two equal payments stay two orders
    instead of collapsing into one as duplicates.
    """
    return _short_hash(
        [row.day.isoformat(), row.supplier_name.casefold(), f"{row.net:.4f}", row.code, row.description]
    )


def _scope_value(row: SpendRow, field: CsvField) -> str:
    if field == "date":
        return row.day.isoformat()
    if field == "supplier":
        return row.supplier_name.casefold()
    return row.values.get(field, "").casefold()


def _to_event(name: str, member: str, group: Group, cfg: CsvConfig) -> list[Outcome]:
    rows = group.rows

    def reject_all(reason: str) -> list[Outcome]:
        lines = ", ".join(str(r.line) for r in rows)
        return [
            RowError(
                name,
                r.line,
                None,
                f"{reason} (transaction {group.entity_id}, lines {lines}); not published",
                raw_text(r.cells, cfg.delimiter),
            )
            for r in rows
        ]

    if group.problem:
        return reject_all(group.problem)
    suppliers = sorted({r.supplier_name for r in rows})
    if len(suppliers) > 1:
        return reject_all(
            f"one transaction number with different suppliers ({'; '.join(suppliers)}): the number is "
            "not unique here - add supplier and date to id_scope in the mapping"
        )
    days = sorted({r.day for r in rows if r.net >= 0})  # a credit note may come days later
    if len(days) > 1:
        return reject_all(
            f"one transaction number on different dates ({', '.join(d.isoformat() for d in days)}): "
            "add date to id_scope in the mapping"
        )
    version = 1
    if "version" in cfg.columns:
        versions = {r.values.get("version", "") for r in rows}
        if len(versions) != 1 or not next(iter(versions)).isdigit() or int(next(iter(versions))) < 1:
            return reject_all(
                f"version must be one positive whole number per transaction, found {sorted(versions)}"
            )
        version = int(next(iter(versions)))
    netted = _net_credits(rows)
    if isinstance(netted, str):
        return reject_all(netted)
    status, lines = netted
    first = next((r for r in rows if r.net >= 0), rows[0])
    changed = max(r.day for r in rows)  # the state is as of the latest row, a credit note's day
    event: dict[str, Any] = {
        "member_id": member,
        "source_system": cfg.source_system,
        "entity_id": group.entity_id,
        "entity_version": version,
        "occurred_at": f"{changed.isoformat()}T00:00:00.000Z",
        "status": status,
        "order_date": first.day.isoformat(),
        "currency": cfg.currency,
        "supplier": {"member_supplier_id": first.supplier_id, "name": first.supplier_name},
        "contract_ref": None,
        "lines": [_line(r, amount, cfg, note) for r, amount, note in lines],
        "total_net": str(sum((_penny(a) for _, a, _ in lines), Decimal("0.00"))),
    }
    return [Mapped("purchase-order", event, f"{name}:{first.line}", rows=len(rows))]


def _penny(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def _line(row: SpendRow, amount: Decimal, cfg: CsvConfig, note: str) -> dict[str, Any]:
    return {
        "line_id": str(row.line),
        "description": row.description + note,
        "quantity": "1",
        "unit": cfg.unit,
        "unit_price": str(amount),
        "line_total": str(_penny(amount)),
        "classification": {"scheme": row.scheme, "code": row.code},
        "item_id": None,
    }


def _net_credits(rows: list[SpendRow]) -> tuple[str, list[tuple[SpendRow, Decimal, str]]] | str:
    """Status and lines of a transaction, or why it cannot be published.

    An order line cannot be negative, so a credit note (negative row) is netted against the
    spend of the same transaction on the same classification code:

    - no credit: ``ISSUED``, one line per row;
    - credits that cancel the whole transaction: ``CANCELLED``, keeping the original lines
      (views count no cancelled order);
    - credits that reduce it: ``AMENDED``, each credited code one line with the net amount;
    - a credit with nothing to net against in this file (no original row, another code, or
      more than was spent): every row of the transaction is rejected, naming the credit.
    """
    credits = [r for r in rows if r.net < 0]
    if not credits:
        return "ISSUED", [(r, r.net, "") for r in rows]
    spend = [r for r in rows if r.net >= 0]
    if not spend:
        where = ", ".join(f"line {r.line} ({r.net})" for r in credits)
        return (
            f"credit note without its original transaction in this file ({where}): an order line cannot be "
            "negative, so a credit is published only netted against the spend it reverses"
        )
    by_code: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        by_code[(r.scheme, r.code)] = by_code.get((r.scheme, r.code), Decimal(0)) + r.net
    for r in credits:
        if not any(s.scheme == r.scheme and s.code == r.code for s in spend):
            return (
                f"credit note at line {r.line} ({r.net}) is on {r.scheme} code {r.code!r}, "
                "which has no spend in this transaction"
            )
    for (scheme, code), total in by_code.items():
        if total < 0:
            return f"credit notes on {scheme} code {code!r} exceed the spend they reverse (net {total})"
    if all(total == 0 for total in by_code.values()):
        return "CANCELLED", [(r, r.net, "") for r in spend]
    credited = {(r.scheme, r.code) for r in credits}
    out: list[tuple[SpendRow, Decimal, str]] = []
    done: set[tuple[str, str]] = set()
    for r in spend:
        key = (r.scheme, r.code)
        if key not in credited:
            out.append((r, r.net, ""))
        elif key not in done and by_code[key] > 0:
            done.add(key)
            credit_lines = ", ".join(str(c.line) for c in credits if (c.scheme, c.code) == key)
            out.append((r, by_code[key], f" (net of credit at line {credit_lines})"))
    return "AMENDED", out
