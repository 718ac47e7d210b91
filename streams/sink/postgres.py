"""``bluelight sink postgres``: keep one PostgreSQL table per view current from the view topics.

Each batch of view-topic records is applied in one transaction together with the offsets
it consumed (table ``<schema>.sink_offsets``), and the sink starts from those offsets, so a
crash at any point loses no change and applies none twice: the transaction either happened,
offsets included, or it did not. Keys are upserted, tombstones delete the key's row, and
records that cannot be read go to ``<schema>.sink_errors`` with the reason (nothing stops).
The tables are created on first run, and columns a newer view schema adds are added.
One sink writes a schema at a time (a PostgreSQL advisory lock says so).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg import sql

from bluelight.settings import KafkaConnection
from streams.sink.tables import (
    ERRORS_TABLE,
    META_COLUMNS,
    OFFSETS_TABLE,
    Batch,
    Message,
    Table,
    plan_batch,
    tables,
)

log = logging.getLogger(__name__)

POLL_MS = 1000
FETCH_WAIT_MS = 50
REPORT_EVERY_S = 10.0


class SinkError(RuntimeError):
    """A problem the sink cannot go on with, said so a person can fix it."""


@dataclass
class SinkStats:
    """What the sink has done since it started."""

    records: int = 0
    upserts: int = 0
    deletes: int = 0
    errors: int = 0
    batches: int = 0


# -- SQL ------------------------------------------------------------------------------------------------


def ddl(schema: str, layout: dict[str, Table]) -> list[sql.Composed]:
    """Statements creating the schema, the view tables (and columns added since) and the sink's own."""
    s = sql.Identifier(schema)
    out = [sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s)]
    for table in layout.values():
        name = sql.Identifier(schema, table.name)
        key = table.columns[0]
        out.append(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({} {} PRIMARY KEY)").format(
                name, sql.Identifier(key.name), sql.SQL(key.sql_type)
            )
        )
        extra = [(c.name, c.sql_type) for c in table.columns[1:]] + list(META_COLUMNS)
        for column, sql_type in extra:
            out.append(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    name, sql.Identifier(column), sql.SQL(sql_type)
                )
            )
    out.append(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (topic text, partition integer, next_offset bigint NOT NULL,"
            " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (topic, partition))"
        ).format(sql.Identifier(schema, OFFSETS_TABLE))
    )
    out.append(
        sql.SQL(
            'CREATE TABLE IF NOT EXISTS {} (topic text, partition integer, "offset" bigint, key text,'
            " error text NOT NULL, seen_at timestamptz NOT NULL DEFAULT now(),"
            ' PRIMARY KEY (topic, partition, "offset"))'
        ).format(sql.Identifier(schema, ERRORS_TABLE))
    )
    return out


def upsert_sql(schema: str, table: Table) -> sql.Composed:
    """INSERT ... ON CONFLICT (key) DO UPDATE of every column, jsonb cast from JSON text."""
    names = [c.name for c in table.columns] + ["_partition", "_offset"]
    values = [sql.SQL("%s::jsonb") if c.nested else sql.SQL("%s") for c in table.columns]
    values += [sql.SQL("%s"), sql.SQL("%s")]
    updates = [
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in names[1:]
    ] + [sql.SQL("_synced_at = now()")]
    return sql.SQL(
        "INSERT INTO {} ({}, _synced_at) VALUES ({}, now()) ON CONFLICT ({}) DO UPDATE SET {}"
    ).format(
        sql.Identifier(schema, table.name),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(values),
        sql.Identifier(table.key),
        sql.SQL(", ").join(updates),
    )


def delete_sql(schema: str, table: Table) -> sql.Composed:
    """DELETE the row of one key."""
    return sql.SQL("DELETE FROM {} WHERE {} = %s").format(
        sql.Identifier(schema, table.name), sql.Identifier(table.key)
    )


# -- the loop -------------------------------------------------------------------------------------------


class PostgresSink:
    """Consumes every view topic and applies each batch, offsets included, in one transaction."""

    def __init__(
        self,
        kafka: KafkaConnection,
        dsn: str,
        schema: str = "bluelight",
        batch_size: int = 500,
        report: Callable[[str], None] = log.info,
    ) -> None:
        self.kafka = kafka
        self.dsn = dsn
        self.schema = schema
        self.batch_size = batch_size
        self.report = report
        self.layout = tables()
        self.by_name = {t.name: t for t in self.layout.values()}
        self.stats = SinkStats()
        self._conn: psycopg.AsyncConnection | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        """Connect to PostgreSQL (creating the tables) and to Kafka at the stored offsets."""
        try:
            self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        except psycopg.Error as exc:
            raise SinkError(f"cannot connect to PostgreSQL ({exc}); check --dsn") from exc
        conn = self._conn
        locked = await (
            await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"bluelight-sink:{self.schema}"])
        ).fetchone()
        if not locked or not locked[0]:
            raise SinkError(f"another sink is already writing schema {self.schema!r}; stop it first")
        async with conn.transaction():
            for statement in ddl(self.schema, self.layout):
                await conn.execute(statement)
        stored = await self._stored_offsets()
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="bluelight-sink-postgres",
            # one fetch is in flight per broker: a fetch holding only caught-up partitions must
            # not keep the others waiting the default 500 ms (measured: 0.5 s per batch)
            fetch_max_wait_ms=FETCH_WAIT_MS,
            **self.kafka.to_aiokafka_kwargs(),
        )
        try:
            await self._consumer.start()
            tps = await self._partitions()
        except SinkError:
            raise
        except Exception as exc:
            raise SinkError(
                f"cannot read the view topics on {self.kafka.bootstrap} ({exc!r}); is Kafka running? "
                "Set --bootstrap (or BLUELIGHT_BOOTSTRAP) and, on a secured cluster, the SASL settings"
            ) from exc
        self._consumer.assign(tps)
        for tp in tps:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, offset)
        self.report(
            f"sink: {len(tps)} view-topic partitions into schema {self.schema!r} "
            f"({len(stored)} with stored offsets)"
        )

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of every view topic; a clear error when a view topic is missing."""
        from topologies.admin import connect

        names = sorted(self.layout)
        async with connect(self.kafka) as admin:
            found = await admin.topics(names, configs=False)
        missing = [n for n in names if n not in found or found[n].partitions == 0]
        if missing:
            raise SinkError(
                f"the view topics {', '.join(missing)} do not exist on {self.kafka.bootstrap}: "
                "start `bluelight worker` (or run `bluelight topology apply`) first"
            )
        return [TopicPartition(n, p) for n in names for p in range(found[n].partitions)]

    async def _stored_offsets(self) -> dict[tuple[str, int], int]:
        cur = await self._require_conn().execute(
            sql.SQL("SELECT topic, partition, next_offset FROM {}").format(
                sql.Identifier(self.schema, OFFSETS_TABLE)
            )
        )
        return {(t, p): o for t, p, o in await cur.fetchall()}

    async def step(self, timeout_ms: int = POLL_MS) -> int:
        """Consume one batch and apply it; returns how many records it held."""
        batches = await self._require_consumer().getmany(timeout_ms=timeout_ms, max_records=self.batch_size)
        messages = [
            Message(r.topic, r.partition, r.offset, r.key, r.value)
            for tp in sorted(batches, key=lambda tp: (tp.topic, tp.partition))
            for r in batches[tp]
        ]
        if not messages:
            return 0
        batch = plan_batch(messages, self.layout)
        await self.apply(batch)
        for error in batch.errors:
            log.warning(
                "sink: %s[%d] offset %d (key %r) skipped: %s",
                error.topic,
                error.partition,
                error.offset,
                error.key,
                error.error,
            )
        return batch.records

    async def apply(self, batch: Batch) -> None:
        """Write a batch's changes, errors and next offsets in one transaction."""
        conn = self._require_conn()
        async with conn.transaction(), conn.cursor() as cur:
            for name, changes in batch.changes.items():
                table = self.by_name[name]
                rows = [(*c.row, c.partition, c.offset) for c in changes.values() if c.row is not None]
                gone = [(c.key,) for c in changes.values() if c.row is None]
                if rows:
                    await cur.executemany(upsert_sql(self.schema, table), rows)
                if gone:
                    await cur.executemany(delete_sql(self.schema, table), gone)
                self.stats.upserts += len(rows)
                self.stats.deletes += len(gone)
            if batch.errors:
                await cur.executemany(
                    sql.SQL(
                        'INSERT INTO {} (topic, partition, "offset", key, error)'
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
                    ).format(sql.Identifier(self.schema, ERRORS_TABLE)),
                    [(e.topic, e.partition, e.offset, e.key, e.error) for e in batch.errors],
                )
            await cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (topic, partition, next_offset) VALUES (%s, %s, %s)"
                    " ON CONFLICT (topic, partition) DO UPDATE"
                    " SET next_offset = EXCLUDED.next_offset, updated_at = now()"
                ).format(sql.Identifier(self.schema, OFFSETS_TABLE)),
                [(t, p, o) for (t, p), o in sorted(batch.next_offsets.items())],
            )
        self.stats.records += batch.records
        self.stats.errors += len(batch.errors)
        self.stats.batches += 1

    async def lag(self) -> int:
        """Records on the view topics not yet applied."""
        consumer = self._require_consumer()
        tps = sorted(consumer.assignment())
        ends = await consumer.end_offsets(tps)
        behind = 0
        for tp in tps:
            behind += max(0, ends[tp] - await consumer.position(tp))
        return behind

    async def run(self, stop: asyncio.Event, exit_when_current: bool = False) -> SinkStats:
        """Apply batches until ``stop`` is set (or, with ``exit_when_current``, no record is left)."""
        last_report = time.monotonic()
        while not stop.is_set():
            taken = await self.step()
            # asking the broker for the end offsets costs a round trip: only near the end
            if exit_when_current and taken < self.batch_size and await self.lag() == 0:
                break
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                last_report = time.monotonic()
                s = self.stats
                self.report(
                    f"sink: {s.records} records in {s.batches} batches: "
                    f"{s.upserts} upserts, {s.deletes} deletes, {s.errors} skipped"
                )
        return self.stats

    async def close(self) -> None:
        """Disconnect from Kafka and PostgreSQL (the advisory lock goes with the session)."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._conn is not None:
            await self._conn.close()

    def _require_conn(self) -> psycopg.AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the sink is not started")
        return self._conn

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the sink is not started")
        return self._consumer
