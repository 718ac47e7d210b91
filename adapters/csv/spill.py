"""Grouping a spend file's rows into transactions without holding the file in memory.

A transaction's rows can be anywhere in the file (GLA sorts by amount, credit notes come
weeks later), so grouping needs every row. Rows go to a temporary SQLite file as they are
read; SQLite then numbers, matches and orders them on disk, and the groups come back one at
a time in the order of their first row. Memory stays at SQLite's page cache plus one group,
whatever the file's size (docs/adapters.md, "Large files").
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

CACHE_KIB = 32 * 1024  # SQLite's page cache: the bound on what grouping keeps in memory
_BATCH = 5000

_SCHEMA = """
CREATE TABLE rows (line INTEGER PRIMARY KEY, credit INTEGER, txn TEXT, content TEXT,
                   loose TEXT, cloose TEXT, data BLOB);
CREATE TABLE outs (seq INTEGER PRIMARY KEY, line INTEGER, data BLOB);
"""


class Spill:
    """A temporary SQLite file of one CSV's rows; ``with Spill() as s``, deleted on exit."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bluelight-csv-", dir=directory)
        self.db = sqlite3.connect(Path(self._dir.name) / "rows.sqlite", isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            f"cache_size=-{CACHE_KIB}",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")
        self._rows: list[tuple[Any, ...]] = []
        self._outs: list[tuple[int, bytes]] = []

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.db.close()
        self._dir.cleanup()

    # --- writing, while the file is read --------------------------------------------------------

    def add_row(
        self,
        line: int,
        *,
        credit: bool,
        txn: str | None,
        content: str | None,
        loose: str,
        credit_loose: str | None,
        data: Any,
    ) -> None:
        """One readable row: its grouping keys, and the row itself (pickled)."""
        blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        self._rows.append((line, int(credit), txn, content, loose, credit_loose, blob))
        if len(self._rows) >= _BATCH:
            self._flush()

    def add_outcome(self, line: int, data: Any) -> None:
        """A skipped line or a row error, kept in line order."""
        self._outs.append((line, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)))
        if len(self._outs) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", self._rows)
        self.db.executemany("INSERT INTO outs (line, data) VALUES (?, ?)", self._outs)
        self._rows.clear()
        self._outs.clear()

    # --- grouping, once the whole file is in --------------------------------------------------------

    def group(self) -> tuple[Iterator[tuple[str, list[Any]]], dict[str, str]]:
        """The groups in order of their first line (id, rows in line order), and their problems.

        The rules are those of ``mapping._group``: a row that is not a credit note joins
        the transaction named by its number (``txn``), or by the hash of its content,
        numbered ``-2``, ``-3``... when identical rows repeat; a credit note joins the one
        transaction whose loose key matches its own, else becomes its own transaction
        (with a problem when several matched).
        """
        self._flush()
        db = self.db
        db.executescript(
            """
            CREATE TABLE nc AS
              SELECT line, content, loose,
                     COALESCE(txn, 'row-' || content ||
                              CASE WHEN rn > 1 THEN '-' || rn ELSE '' END) AS grp
              FROM (SELECT line, txn, content, loose,
                           ROW_NUMBER() OVER (PARTITION BY content ORDER BY line) AS rn
                    FROM rows WHERE credit = 0);
            CREATE INDEX nc_loose ON nc (loose, grp);
            CREATE TABLE cr (line INTEGER PRIMARY KEY, grp TEXT);
            """
        )
        problems: dict[str, str] = {}
        seen: dict[str, int] = {}
        credits = db.execute("SELECT line, txn, content, cloose FROM rows WHERE credit = 1 ORDER BY line")
        assigned: list[tuple[int, str]] = []
        for line, txn, content, cloose in credits.fetchall():  # credit notes are few
            matches = [g for (g,) in db.execute("SELECT DISTINCT grp FROM nc WHERE loose = ?", (cloose,))]
            if len(matches) == 1:
                assigned.append((line, matches[0]))
                continue
            if txn is not None:
                grp = txn
            else:
                if content not in seen:
                    (seen[content],) = db.execute(
                        "SELECT COUNT(*) FROM nc WHERE content = ?", (content,)
                    ).fetchone()
                seen[content] += 1
                grp = f"row-{content}" + (f"-{seen[content]}" if seen[content] > 1 else "")
            assigned.append((line, grp))
            if len(matches) > 1:
                ids = ", ".join(sorted(matches, key=_first_line_of(db)))
                problems[grp] = f"credit note at line {line} matches more than one transaction ({ids})"
        db.executemany("INSERT INTO cr VALUES (?, ?)", assigned)
        db.executescript(
            """
            CREATE TABLE assign AS SELECT line, grp FROM nc UNION ALL SELECT line, grp FROM cr;
            CREATE TABLE firsts AS SELECT grp, MIN(line) AS first FROM assign GROUP BY grp;
            CREATE INDEX firsts_grp ON firsts (grp);
            """
        )
        return self._groups(), problems

    def _groups(self) -> Iterator[tuple[str, list[Any]]]:
        cursor = self.db.execute(
            """SELECT a.grp, r.data FROM assign a JOIN firsts f ON f.grp = a.grp
               JOIN rows r ON r.line = a.line ORDER BY f.first, a.line"""
        )
        current: str | None = None
        rows: list[Any] = []
        for grp, blob in cursor:
            if grp != current:
                if current is not None:
                    yield current, rows
                current, rows = grp, []
            rows.append(pickle.loads(blob))  # noqa: S301 - our own temp file
        if current is not None:
            yield current, rows

    def outcomes(self) -> Iterator[tuple[int, Any]]:
        """Skipped lines and row errors, in line order."""
        self._flush()
        for line, blob in self.db.execute("SELECT line, data FROM outs ORDER BY seq"):
            yield line, pickle.loads(blob)  # noqa: S301 - our own temp file


def _first_line_of(db: sqlite3.Connection) -> Any:
    def first(grp: str) -> int:
        (line,) = db.execute("SELECT MIN(line) FROM nc WHERE grp = ?", (grp,)).fetchone()
        return int(line)

    return first
