"""The governed tables, and the one seam through which they are written: write, audit, publish.

Bronze and quarantine are Apache Iceberg tables (``bronze.<source>``, ``quarantine.<source>``) in
the catalog of :mod:`creditlake.catalog`, partitioned by the as-of date that delivered them
(``ingest_date``). A date's data is written in three steps, and only the last one makes it
visible to anything downstream:

1. **write** (:meth:`Lake.stage_partition`): the date's partition is replaced on an audit branch
   (``audit_<date>``) started from the published state, in one Iceberg commit whose snapshot
   summary carries the as-of date, batch id, source file, content hash and counts. ``main`` (what
   readers read) does not move;
2. **audit**: the quality gate reads the staged partition (:meth:`Lake.partition_files` of the
   staged snapshot) and records its verdict in the ledger (:mod:`creditlake.ledger`);
3. **publish** (:meth:`Lake.publish`): ``main`` is moved to the staged snapshot, one atomic
   catalog update. It refuses if ``main`` moved since the stage (another writer published in
   between), so a publish never drops someone else's data.

A process killed at any point leaves ``main`` exactly as it was or exactly as published: every
step is a single catalog commit, and files written by a commit that never happened are invisible
(unreferenced by any snapshot).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from creditlake.maintenance import expire_history, keep_record_table_small, lineage
from creditlake.sources import PARTITION_COLUMN

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from creditlake.settings import Settings

log = logging.getLogger(__name__)

#: Namespaces of the governed tables.
BRONZE = "bronze"
QUARANTINE = "quarantine"
#: The platform's own records (the delivery ledger, gate results).
LEDGER_NAMESPACE = "lake"
NAMESPACES = (BRONZE, QUARANTINE, LEDGER_NAMESPACE)
#: The warehouse table where ``orchestration.dbt.pin_bronze`` records which snapshot of each lake
#: table the warehouse's bronze views read (training logs it as the model's lineage).
PINNED_SNAPSHOTS_TABLE = "lake.pinned_snapshots"
#: The published state every reader reads.
MAIN = "main"
#: Rows per Arrow chunk handed to one Iceberg append: bounds the writer's memory.
CHUNK_ROWS = 500_000
#: Snapshot-summary keys this platform writes (``creditlake.`` prefixed, next to Iceberg's own).
PROPERTY_PREFIX = "creditlake."
#: Commits that lost a race with another writer are retried this many times.
COMMIT_ATTEMPTS = 8


class LakeError(RuntimeError):
    """A lake operation that cannot go on (a stale stage, a retyped column, a missing table)."""


def parse_date(value: str | dt.date, setting: str = "date") -> dt.date:
    """A ``yyyy-mm-dd`` date, or a clear error naming what was wrong."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{setting} {value!r} is not a date in yyyy-mm-dd form") from None


def audit_branch(as_of_date: dt.date) -> str:
    """The branch a date's data is staged on until its gate passes."""
    return f"audit_{as_of_date.isoformat()}"


@dataclass(frozen=True)
class Staged:
    """A date's partition written on an audit branch, not yet published."""

    table: str
    as_of_date: dt.date
    branch: str
    snapshot_id: int
    rows: int = 0


@dataclass(frozen=True)
class DataFile:
    """One data file of a partition, as a reader needs it."""

    path: str
    rows: int

    @property
    def local_path(self) -> str | None:
        """The file's path on this machine, or None if it lives in object storage."""
        return self.path.removeprefix("file://") if self.path.startswith(("file:", "/")) else None


def nullable(schema: pa.Schema) -> pa.Schema:
    """Iceberg tables written through pyiceberg want every Arrow field nullable."""
    import pyarrow as pa

    return pa.schema([field.with_nullable(True) for field in schema])


def with_partition(chunk: pa.Table, as_of_date: dt.date) -> pa.Table:
    """``chunk`` with its ``ingest_date`` column, checked or added.

    pyiceberg does not check that rows written by an overwrite match its filter; a row of another
    date written into this date's partition would survive the next replace of either date. So
    the column is added here when missing, and refused when it holds any other date.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if PARTITION_COLUMN not in chunk.column_names:
        column = pa.array([as_of_date] * chunk.num_rows, pa.date32())
        return chunk.append_column(PARTITION_COLUMN, column)
    values = chunk.column(PARTITION_COLUMN).cast(pa.date32())
    others = chunk.num_rows - pc.sum(pc.equal(values, pa.scalar(as_of_date, pa.date32()))).as_py()
    if chunk.num_rows and others:
        raise LakeError(
            f"{others} row(s) staged for {as_of_date} carry another {PARTITION_COLUMN}: "
            "a partition replace may only write its own date"
        )
    return chunk.set_column(chunk.column_names.index(PARTITION_COLUMN), PARTITION_COLUMN, values)


def rechunk(tables: Iterable[pa.Table], rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Re-cut a stream of tables into pieces of at most ``rows`` rows, holding one piece."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    held = 0
    for table in tables:
        for batch in table.to_batches(max_chunksize=rows):
            pending.append(batch)
            held += batch.num_rows
            if held >= rows:
                yield pa.Table.from_batches(pending)
                pending, held = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def parquet_chunks(
    paths: Iterable[str], schema: pa.Schema | None = None, columns: list[str] | None = None
) -> Iterator[pa.Table]:
    """Parquet files (e.g. a Spark job's output) as a stream of Arrow tables, batch by batch.

    ``columns`` are read (default: all, or the schema's names) and take the schema's names, in
    order: a file may hold more columns than the table, under other names.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if columns is None and schema is not None:
        columns = schema.names
    for path in paths:
        handle = pq.ParquetFile(path)
        for batch in handle.iter_batches(batch_size=CHUNK_ROWS, columns=columns):
            table = pa.Table.from_batches([batch])
            if schema is not None:
                table = table.rename_columns(schema.names).cast(schema)
            yield table


class Lake:
    """The governed tables of one catalog. Build it with :meth:`from_settings`."""

    def __init__(self, catalog: Catalog, snapshot_retention: int | None = None) -> None:
        self.catalog = catalog
        #: Published snapshots a table keeps readable (``Settings.snapshot_retention``); ``None``
        #: keeps every one.
        self.snapshot_retention = snapshot_retention

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        from creditlake.catalog import open_catalog

        return cls(open_catalog(settings), settings.snapshot_retention)

    # Tables -------------------------------------------------------------------------------------
    def exists(self, table: str) -> bool:
        return self.catalog.table_exists(table)

    def load(self, table: str) -> Table:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self.catalog.load_table(table)
        except NoSuchTableError:
            raise LakeError(f"table {table} is not in the lake catalog") from None

    def ensure_table(self, table: str, schema: pa.Schema, partitioned: bool = True) -> Table:
        """The table, created on first use; new columns are added (additive schema evolution).

        A column whose type changed is refused, naming it: readers of the old rows would read
        the new ones wrongly. A new table gets an empty first snapshot on ``main``, because
        Iceberg only lets a branch start from an existing snapshot.
        """
        from pyiceberg.exceptions import (
            NamespaceAlreadyExistsError,
            NoSuchTableError,
            TableAlreadyExistsError,
        )

        namespace = table.split(".", 1)[0]
        schema = nullable(schema)
        try:  # one catalog round trip for the usual case: the table exists
            existing = self.catalog.load_table(table)
        except NoSuchTableError:
            existing = None
        if existing is None:
            # Only when missing: a deployment's databases are provisioned (infra/terraform), and
            # its roles may not create one, not even one that exists.
            if not self.catalog.namespace_exists(namespace):
                with contextlib.suppress(NamespaceAlreadyExistsError):
                    self.catalog.create_namespace(namespace)
            try:  # table, partition spec and first snapshot in one catalog commit
                with self.catalog.create_table_transaction(
                    table, schema=schema, properties=table_properties(partitioned)
                ) as creation:
                    if partitioned:
                        with creation.update_spec() as spec:
                            spec.add_identity(PARTITION_COLUMN)
                    creation.append(
                        schema.empty_table(),
                        snapshot_properties={f"{PROPERTY_PREFIX}operation": "create"},
                    )
            except TableAlreadyExistsError:  # another process created it first
                return self.ensure_table(table, schema, partitioned)
            log.info("created lake table %s", table)
            return self.catalog.load_table(table)
        if self._evolve(existing, schema):
            return self.catalog.load_table(table)
        return existing

    def _evolve(self, table: Table, schema: pa.Schema) -> list[str]:
        current = table.schema().as_arrow()
        known = {field.name: field.type for field in current}
        retyped = [
            f"{field.name} ({known[field.name]} -> {field.type})"
            for field in schema
            if field.name in known and not _same_type(known[field.name], field.type)
        ]
        if retyped:
            raise LakeError(
                f"{table.name()[-1]}: column type changed for {', '.join(retyped)}; "
                "a retyped column needs a new column name or a migration"
            )
        added = [field.name for field in schema if field.name not in known]
        if added:
            with table.update_schema() as update:
                update.union_by_name(schema)
            log.warning("%s: schema evolved, new column(s) %s", ".".join(table.name()), added)
        return added

    # Write ---------------------------------------------------------------------------------------
    def stage_partition(
        self,
        table: str,
        as_of_date: dt.date,
        chunks: Iterable[pa.Table],
        schema: pa.Schema,
        properties: dict[str, str],
        chunk_rows: int = CHUNK_ROWS,
    ) -> Staged:
        """Replace ``as_of_date``'s partition on the date's audit branch, in one commit.

        The branch is (re)started from ``main``, so a re-run of a date replaces its earlier stage.
        ``properties`` go into the snapshot summary, prefixed with ``creditlake.``. Rows are
        written ``chunk_rows`` at a time (bounded memory); the commit comes after the last one.
        """
        import pyarrow as pa
        from pyiceberg.expressions import EqualTo

        schema = nullable(schema)
        if PARTITION_COLUMN not in schema.names:
            schema = schema.append(pa.field(PARTITION_COLUMN, pa.date32()))
        iceberg_table = self.ensure_table(table, schema)
        branch = audit_branch(as_of_date)
        base = iceberg_table.metadata.current_snapshot_id
        manage = iceberg_table.manage_snapshots()
        if branch in iceberg_table.metadata.refs:
            manage = manage.remove_branch(branch)
        manage.create_branch(base, branch).commit()
        summary = {f"{PROPERTY_PREFIX}{key}": str(value) for key, value in properties.items()} | {
            f"{PROPERTY_PREFIX}as_of_date": as_of_date.isoformat()
        }
        rows = 0
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            with iceberg_table.transaction() as transaction:
                transaction.delete(
                    EqualTo(PARTITION_COLUMN, as_of_date.isoformat()),
                    snapshot_properties=summary,
                    branch=branch,
                )
                for chunk in rechunk(chunks, chunk_rows):
                    piece = with_partition(chunk, as_of_date).select(schema.names).cast(schema)
                    rows += piece.num_rows
                    transaction.append(piece, snapshot_properties=summary, branch=branch)
                    log.debug("%s %s: %d rows written", table, as_of_date, rows)
        staged = iceberg_table.metadata.refs[branch].snapshot_id  # updated by the commit
        return Staged(table, as_of_date, branch, staged, rows)

    def publish(self, staged: Staged) -> int:
        """Move ``main`` to the staged snapshot (one catalog commit) and drop the audit branch.

        Only a fast-forward is allowed: ``main`` must be an ancestor of the staged snapshot.
        If another writer published since the stage, moving ``main`` would silently drop its
        data, so this refuses; re-running the date re-stages it on the new ``main``.
        """
        table = self.load(staged.table)
        current = table.metadata.current_snapshot_id
        if current == staged.snapshot_id:
            # already published (a retried task), or the stage wrote nothing (an empty quarantine)
            if staged.branch in table.metadata.refs:
                table.manage_snapshots().remove_branch(staged.branch).commit()
            return current
        if table.snapshot_by_id(staged.snapshot_id) is None:
            raise LakeError(
                f"{staged.table} {staged.as_of_date}: staged snapshot {staged.snapshot_id} "
                "no longer exists; re-run the date"
            )
        if current not in _ancestors(table, staged.snapshot_id):
            raise LakeError(
                f"{staged.table} {staged.as_of_date}: main moved to snapshot {current} since "
                f"snapshot {staged.snapshot_id} was staged; re-run the date"
            )
        manage = table.manage_snapshots().set_current_snapshot(snapshot_id=staged.snapshot_id)
        if staged.branch in table.metadata.refs:
            manage = manage.remove_branch(staged.branch)
        manage.commit()
        log.info(
            "%s %s published as snapshot %s", staged.table, staged.as_of_date, staged.snapshot_id
        )
        expire_history(table, self.snapshot_retention)
        return staged.snapshot_id

    def append(self, table: str, rows: pa.Table) -> int:
        """Append rows to a small unpartitioned record table, retrying lost commit races (and
        a race lost to a writer that expired the snapshot this one started from)."""
        from pyiceberg.exceptions import CommitFailedException, ValidationException

        iceberg_table = self.ensure_table(table, rows.schema, partitioned=False)
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                iceberg_table.append(rows.cast(nullable(rows.schema)))
                break
            except (CommitFailedException, ValidationException):
                time.sleep(0.05 * (attempt + 1))
                iceberg_table = self.load(table)
        else:
            raise LakeError(f"{table}: could not commit after {COMMIT_ATTEMPTS} attempts")
        appended = iceberg_table.metadata.current_snapshot_id
        keep_record_table_small(iceberg_table)
        return appended

    # Read ----------------------------------------------------------------------------------------
    def snapshot_id(self, table: str, ref: str = MAIN) -> int | None:
        """The snapshot a branch points at (``main``: the published state)."""
        iceberg_table = self.load(table)
        found = iceberg_table.metadata.refs.get(ref)
        return found.snapshot_id if found else None

    def partition_files(
        self, table: str, as_of_date: dt.date | None = None, snapshot_id: int | None = None
    ) -> list[DataFile]:
        """The data files of a snapshot (default: published), optionally one date's partition."""
        from pyiceberg.expressions import AlwaysTrue, EqualTo

        iceberg_table = self._at(table, snapshot_id)
        row_filter = (
            EqualTo(PARTITION_COLUMN, as_of_date.isoformat()) if as_of_date else AlwaysTrue()
        )
        scan = iceberg_table.scan(row_filter=row_filter, snapshot_id=snapshot_id)
        return [DataFile(task.file.file_path, task.file.record_count) for task in scan.plan_files()]

    def read(
        self, table: str, as_of_date: dt.date | None = None, snapshot_id: int | None = None
    ) -> pa.Table:
        """A snapshot's rows (default: published) as Arrow, optionally one date's partition."""
        from pyiceberg.expressions import AlwaysTrue, EqualTo

        row_filter = (
            EqualTo(PARTITION_COLUMN, as_of_date.isoformat()) if as_of_date else AlwaysTrue()
        )
        scan = self._at(table, snapshot_id).scan(row_filter=row_filter, snapshot_id=snapshot_id)
        return scan.to_arrow()

    def _at(self, table: str, snapshot_id: int | None) -> Table:
        """The table, if it still holds ``snapshot_id`` (``None``: the published state)."""
        iceberg_table = self.load(table)
        if snapshot_id is not None and iceberg_table.snapshot_by_id(snapshot_id) is None:
            raise LakeError(
                f"{table}: snapshot {snapshot_id} is no longer in the lake (each table keeps "
                f"the newest {self.snapshot_retention or 'all'} snapshots of its published "
                "history: CREDITLAKE_SNAPSHOT_RETENTION)"
            )
        return iceberg_table

    def arrow_schema(self, table: str) -> pa.Schema:
        return self.load(table).schema().as_arrow()


def table_properties(partitioned: bool) -> dict[str, str]:
    """Iceberg properties of a new table: appends merge small manifests as they accumulate.

    Every commit adds a manifest; without merging, a scan of the ledger (one small append per
    delivery state) reads one more file per delivery, forever. Merging keeps the ledger's reads,
    and the planning of a date's partition, about as cheap on day 300 as on day 1.
    """
    return {
        "commit.manifest-merge.enabled": "true",
        "commit.manifest.min-count-to-merge": "16" if partitioned else "4",
    }


def bronze_table(source: str) -> str:
    """The governed table of a source's bronze rows."""
    return f"{BRONZE}.{source}"


def quarantine_table(source: str) -> str:
    """The governed table of a source's quarantined rows."""
    return f"{QUARANTINE}.{source}"


def _ancestors(table: Table, snapshot_id: int) -> set[int]:
    """``snapshot_id`` and every snapshot it descends from."""
    return set(lineage(table, snapshot_id))


def _same_type(old: pa.DataType, new: pa.DataType) -> bool:
    """Types Iceberg stores alike (Arrow's large and small strings are one Iceberg string)."""
    import pyarrow as pa

    def base(t: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pa.string()
        return t

    return base(old) == base(new)
