"""Spend CSV rows to purchase-order events: one transaction, one order.

The reading, in the order it happens:

1. decode the bytes (UTF-8 with or without BOM, else Windows-1252 - real files mix them);
2. find the header row among the first rows (titles above it are skipped and counted),
   matching each field's aliases with case, spaces and punctuation ignored;
3. read each row: blank rows and ``Total`` footers are skipped and counted; a row that
   cannot be read becomes a row error naming its line and column;
4. group rows into transactions: rows sharing a transaction number (qualified by the
   configured ``id_scope``) are the lines of one order, because spend files split one
   payment across cost lines; a row without a number is its own order, keyed by a hash
   of its content;
5. net credit notes against their transaction (see :func:`_net_credits`) and emit one
   event per transaction, or a row error for every row of a transaction that cannot be
   published whole - a partial order is never sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from adapters.base import Mapped, Outcome, RowError, Skipped
from adapters.csv.config import REQUIRED_FIELDS, CsvConfig, CsvField
from adapters.csv.parse import clean_text, header_key, parse_amount, parse_date

PENNY = Decimal("0.01")
REDACTED = "REDACTED"


@dataclass(frozen=True)
class SpendRow:
    """One readable data row, in canonical terms."""

    line: int
    values: dict[CsvField, str]
    day: date
    supplier_name: str
    supplier_id: str
    net: Decimal  # signed: a credit note is negative
    scheme: str
    code: str
    description: str
    raw: str


@dataclass(frozen=True)
class Header:
    """Where each field sits in the file."""

    line: int
    width: int
    index: dict[CsvField, int]
    names: dict[CsvField, str]  # the header text as the file spells it, for error messages


def decode(data: bytes, encoding: str) -> str:
    """The file's text: UTF-8 (a BOM is fine), else Windows-1252, else Latin-1."""
    if encoding != "auto":
        return data.decode(encoding)
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_csv(path: Path, member: str, cfg: CsvConfig) -> Iterator[Outcome]:
    """Every outcome of one CSV file, ordered by the line where each starts."""
    name = path.name
    try:
        text = decode(path.read_bytes(), cfg.encoding)
    except (OSError, UnicodeDecodeError, LookupError) as exc:
        yield RowError(name, None, None, f"cannot read the file: {exc}")
        return
    unreadable: list[tuple[int, Outcome]] = []
    records = list(_records(name, text, cfg.delimiter, unreadable))
    header_at = _find_header(records, cfg)
    if isinstance(header_at, RowError):
        yield RowError(name, header_at.line, header_at.column, header_at.reason, header_at.raw)
        return
    pos, header = header_at
    outcomes: list[tuple[int, Outcome]] = unreadable + [
        (line, Skipped(name, line, "above the header row")) for line, _, _ in records[:pos]
    ]
    rows: list[SpendRow] = []
    for line, cells, raw in records[pos + 1 :]:
        read = _read_row(name, line, cells, raw, header, cfg)
        if isinstance(read, SpendRow):
            rows.append(read)
        else:
            outcomes.append((line, read))
    for group in _group(rows, cfg):
        first = group.rows[0].line
        for out in _to_event(name, member, group, cfg):
            outcomes.append((out.line if isinstance(out, RowError) and out.line else first, out))
    outcomes.sort(key=lambda pair: pair[0])
    for _, out in outcomes:
        yield out


def _records(
    name: str, text: str, delimiter: str, unreadable: list[tuple[int, Outcome]]
) -> Iterator[tuple[int, list[str], str]]:
    """(first line number, cells, raw text) per CSV record; quoted newlines kept in one record.

    A record the csv module refuses (e.g. a field over its 128 KiB limit) is added to
    ``unreadable`` as that line's error, and reading goes on with the next record.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(cells)
        yield start, cells, buf.getvalue()


def _find_header(records: list[tuple[int, list[str], str]], cfg: CsvConfig) -> tuple[int, Header] | RowError:
    aliases = cfg.alias_keys()
    best: tuple[int, list[str]] | None = None
    for pos, (line, cells, raw) in enumerate(records[: cfg.header_search_rows]):
        index: dict[CsvField, int] = {}
        names: dict[CsvField, str] = {}
        for col, cell in enumerate(cells):
            field = aliases.get(header_key(cell))
            if field is None:
                continue
            if field in index:
                return RowError(
                    "",
                    line,
                    cell,
                    f"two columns read as {field}: {names[field]!r} and {clean_text(cell)!r}",
                    raw,
                )
            index[field], names[field] = col, clean_text(cell)
        if all(f in index for f in REQUIRED_FIELDS):
            return pos, Header(line, len(cells), index, names)
        if index and (best is None or len(index) > len(best[1])):
            best = (line, list(index))
    expected = "; ".join(f"{f}: {', '.join(repr(a) for a in cfg.columns[f])}" for f in REQUIRED_FIELDS)
    seen = f" (best candidate, line {best[0]}, had only {', '.join(best[1])})" if best else ""
    return RowError(
        "",
        best[0] if best else None,
        None,
        f"no header row in the first {cfg.header_search_rows} rows names the required columns{seen}; "
        f"accepted headers are {expected}. Nothing in this file was read.",
    )


_FOOTER_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _footer_re(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if patterns not in _FOOTER_CACHE:
        alts = "|".join(re.escape(p) for p in patterns)
        _FOOTER_CACHE[patterns] = re.compile(rf"^(?:{alts})\b", re.IGNORECASE)
    return _FOOTER_CACHE[patterns]


def _read_row(
    name: str, line: int, cells: list[str], raw: str, header: Header, cfg: CsvConfig
) -> SpendRow | RowError | Skipped:
    if not any(c.strip() for c in cells):
        return Skipped(name, line, "blank row")
    if any(c.strip() for c in cells[header.width :]):
        return RowError(
            name,
            line,
            None,
            f"row has {len(cells)} cells, the header {header.width}: an unquoted comma?",
            raw,
        )
    values: dict[CsvField, str] = {
        f: clean_text(cells[i]) if i < len(cells) else "" for f, i in header.index.items()
    }
    first = next((clean_text(c) for c in cells if c.strip()), "")
    if _footer_re(cfg.footer_patterns).match(first) and not _is_date(values["date"], cfg):
        return Skipped(name, line, f"footer line {first!r}")

    def err(field: CsvField | None, reason: str) -> RowError:
        return RowError(name, line, header.names.get(field) if field else None, reason, raw)

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
    return SpendRow(line, values, day, supplier, supplier_id, net, scheme, code, description, raw)


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


def _group(rows: list[SpendRow], cfg: CsvConfig) -> list[Group]:
    """Rows into transactions; credit notes join the transaction they reverse.

    A credit note is usually booked days after the payment, so it is matched by its
    transaction number - or the ``credit_reference`` column, where the file names the
    transaction credited - and the ``id_scope`` values other than the date.
    """
    groups: dict[str, Group] = {}
    seen: Counter[str] = Counter()
    credits: list[SpendRow] = []
    for row in rows:
        if row.net < 0 and (row.values.get("credit_reference") or row.values.get("transaction")):
            credits.append(row)
            continue
        key = _entity_id(row, cfg, seen)
        groups.setdefault(key, Group(key, [])).rows.append(row)
    by_loose: dict[tuple[str, ...], list[Group]] = {}
    for group in groups.values():
        for loose in {_loose_key(r, cfg) for r in group.rows}:
            by_loose.setdefault(loose, []).append(group)
    for row in credits:
        matches = by_loose.get(_loose_key(row, cfg, credit=True), [])
        if len(matches) == 1:
            matches[0].rows.append(row)
            matches[0].rows.sort(key=lambda r: r.line)
            continue
        key = _entity_id(row, cfg, seen)
        group = groups.setdefault(key, Group(key, []))
        group.rows.append(row)
        if len(matches) > 1:
            ids = ", ".join(g.entity_id for g in matches)
            group.problem = f"credit note at line {row.line} matches more than one transaction ({ids})"
    return sorted(groups.values(), key=lambda g: g.rows[0].line)


def _loose_key(row: SpendRow, cfg: CsvConfig, *, credit: bool = False) -> tuple[str, ...]:
    """Transaction number and id_scope without the date; a credit's own reference wins."""
    number = (credit and row.values.get("credit_reference")) or row.values.get("transaction", "")
    return (number, *(_scope_value(row, f) for f in cfg.id_scope if f != "date"))


def _short_hash(parts: list[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:10]


def _entity_id(row: SpendRow, cfg: CsvConfig, seen: Counter[str]) -> str:
    """The transaction number (qualified by ``id_scope``), else a stable hash of the row.

    Identical rows without a number are numbered (``-2``, ``-3``) so two equal payments stay
    two orders instead of collapsing into one as duplicates.
    """
    txn = row.values.get("transaction", "")
    if txn:
        if not cfg.id_scope:
            return txn
        scope = [_scope_value(row, f) for f in cfg.id_scope]
        return f"{txn}-{_short_hash(scope)}"
    content = _short_hash(
        [row.day.isoformat(), row.supplier_name.casefold(), f"{row.net:.4f}", row.code, row.description]
    )
    seen[content] += 1
    return f"row-{content}" + (f"-{seen[content]}" if seen[content] > 1 else "")


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
                r.raw,
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
    return [Mapped("purchase-order", event, f"{name}:{first.line}")]


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
