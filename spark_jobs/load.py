"""Load and reconcile for the ingest job: commit its output to the date's audit branches.

Spark parses, types and splits (:mod:`spark_jobs.ingest`); what it wrote to a private scratch
folder is committed to the governed Iceberg tables through :class:`creditlake.lake.Lake`
(classic Spark cannot load the Iceberg runtime here), counted back independently of the Spark
plan, and recorded in the delivery ledger. Undeclared JSON fields become new bronze columns here
(:func:`with_new_columns`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, Staged, bronze_table, quarantine_table
from creditlake.ledger import loaded_elsewhere
from creditlake.sources import Source
from spark_jobs.delivery import IngestError
from spark_jobs.delivery_gate import EXTRA_FIELDS, QUARANTINE_PREFIX

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

    from spark_jobs.contract import Batch

#: The partition column of the job's scratch output.
SCRATCH_PART = "_scratch_part"


class ReconciliationError(IngestError):
    """Landing lines != bronze rows + quarantined rows + duplicates dropped."""


class DuplicateDeliveryError(IngestError):
    """The file's exact content was already loaded under another date."""


@dataclass
class IngestResult:
    """What one ingest did; the Airflow task returns :meth:`to_dict` as its XCom."""

    source: str
    as_of_date: dt.date
    landing_file: str
    landing_rows: int
    bronze_rows: int
    quarantined_rows: int
    duplicates_dropped: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    #: SHA-256 of the landing file's bytes (the delivery's identity, whatever its name).
    content_sha256: str = ""
    batch_id: str = ""
    #: JSON keys the registry does not declare, loaded as new text columns of bronze (additive
    #: schema drift).
    new_fields: list[str] = field(default_factory=list)
    #: The staged (not yet published) snapshots: the gate audits these, then publishes them.
    bronze_snapshot_id: int | None = None
    quarantine_snapshot_id: int | None = None

    @classmethod
    def of(cls, delivery: ledger.Delivery, new_fields: list[str]) -> IngestResult:
        """The result of the ingest that recorded ``delivery`` in the ledger: its fields are the
        ledger row's, plus the new JSON columns."""
        recorded = {item.name for item in fields(delivery)}
        shared = [item.name for item in fields(cls) if item.name in recorded]
        return cls(**{name: getattr(delivery, name) for name in shared}, new_fields=new_fields)

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["as_of_date"] = self.as_of_date.isoformat()
        return result


@dataclass(frozen=True)
class Reconciliation:
    """Counts taken back from what was written, independently of the transform."""

    landing_rows: int
    bronze_rows: int
    quarantined_rows: int
    duplicates_dropped: int
    quarantined_by_reason: dict[str, int]

    @property
    def balanced(self) -> bool:
        accounted = self.bronze_rows + self.quarantined_rows + self.duplicates_dropped
        return self.landing_rows == accounted


def write_scratch(
    bronze: DataFrame, quarantine: DataFrame, keys: DataFrame, folder: Path
) -> dict[str, list[str]]:
    """The job's outputs as Parquet files in a private scratch folder, for the lake seam to commit.

    Spark parses, types and splits; the commit to the governed tables goes through
    :class:`creditlake.lake.Lake` (classic Spark cannot load the Iceberg runtime here). Bronze
    rows, quarantined rows (their columns prefixed, so they never clash with a source's) and the
    key drift of JSON records are one dataset, partitioned by part: one Spark job reads the cached
    rows once for all three. The files are read back in bounded batches, never collected.
    """
    from pyspark.sql import functions as F

    prefixed = quarantine.select(
        *[F.col(name).alias(QUARANTINE_PREFIX + name) for name in quarantine.columns]
    )
    parts = {"bronze": bronze, "quarantine": prefixed, "keys": keys}
    tagged = [frame.withColumn(SCRATCH_PART, F.lit(part)) for part, frame in parts.items()]
    combined = tagged[0]
    for frame in tagged[1:]:
        combined = combined.unionByName(frame, allowMissingColumns=True)
    combined.write.mode("overwrite").partitionBy(SCRATCH_PART).parquet(str(folder))
    return {
        part: sorted(str(f) for f in (folder / f"{SCRATCH_PART}={part}").glob("*.parquet"))
        for part in parts
    }


def reconcile(
    landing_rows: int, lake: Lake, bronze: Staged, quarantine: Staged, duplicates_dropped: int
) -> Reconciliation:
    """Count bronze and quarantine again, from the staged snapshots, against the landing records.

    ``landing_rows`` is the delivery scan's count of the file's records, taken from its bytes;
    bronze rows are counted from the staged snapshot's manifests and the quarantine reasons from
    its staged rows: no count goes through the Spark plan being checked.
    """
    bronze_rows = sum(
        f.rows for f in lake.partition_files(bronze.table, bronze.as_of_date, bronze.snapshot_id)
    )
    quarantined = lake.read(quarantine.table, quarantine.as_of_date, quarantine.snapshot_id)
    by_reason = Counter(quarantined.column("reason").to_pylist())
    return Reconciliation(
        landing_rows=landing_rows,
        bronze_rows=bronze_rows,
        quarantined_rows=sum(by_reason.values()),
        duplicates_dropped=duplicates_dropped,
        quarantined_by_reason=dict(sorted(by_reason.items(), key=lambda item: str(item[0]))),
    )


def refuse_duplicate_delivery(
    lake: Lake, src: Source, as_of_date: dt.date, location: str, sha256: str
) -> None:
    """Refuse a file whose exact bytes were already published under another date."""
    earlier = loaded_elsewhere(lake, src.name, sha256, as_of_date)
    if earlier is None:
        return
    ledger.record(
        lake,
        ledger.Delivery(
            source=src.name,
            as_of_date=as_of_date,
            status=ledger.DUPLICATE,
            batch_id="",
            landing_file=location,
            content_sha256=sha256,
            landing_rows=0,
            bronze_rows=0,
            quarantined_rows=0,
            duplicates_dropped=0,
            detail=f"same content as the delivery of {earlier.as_of_date} ({earlier.landing_file})",
        ),
    )
    raise DuplicateDeliveryError(
        f"landing file {location} has the same content (sha256 {sha256[:12]}...) as "
        f"{earlier.landing_file}, already loaded for {earlier.as_of_date}: refused, so no row is "
        "loaded twice. If the source re-sent it by mistake, ask for the right file; if it is a "
        "correction of that date, land it under that date."
    )


def with_new_columns(
    chunks: Iterator[pa.Table], schema: pa.Schema, names: list[str]
) -> tuple[Iterator[pa.Table], pa.Schema]:
    """Bronze chunks and schema with the map of undeclared JSON fields turned into text columns.

    ``names`` are the keys the delivery's records carry (the census); each becomes a column after
    the bronze columns, null where a record lacks it. The table's schema evolves when they are
    committed (:meth:`creditlake.lake.Lake.ensure_table`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if EXTRA_FIELDS not in schema.names:
        return chunks, schema
    added = [pa.field(name, pa.string()) for name in names]
    expanded = schema.remove(schema.get_field_index(EXTRA_FIELDS))
    for added_field in added:
        expanded = expanded.append(added_field)

    def expand() -> Iterator[pa.Table]:
        for chunk in chunks:
            extra = chunk.column(EXTRA_FIELDS)
            chunk = chunk.drop_columns([EXTRA_FIELDS])
            for added_field in added:
                value = pc.map_lookup(extra, pa.scalar(added_field.name), "first")
                chunk = chunk.append_column(added_field, value.cast(pa.string()))
            yield chunk

    return expand(), expanded


def _parquet_rows(paths: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def stage_delivery(
    lake: Lake,
    src: Source,
    as_of_date: dt.date,
    batch: Batch,
    sha256: str,
    copies: int,
    bronze: tuple[list[str], pa.Schema],
    quarantine: tuple[list[str], pa.Schema],
    new_fields: list[str],
    landing_rows: int,
) -> IngestResult:
    """Commit the job's output to the date's audit branches, reconcile it, record it.

    Quarantine is staged before bronze and the ledger row comes last: the three are separate
    commits (Iceberg has none spanning tables), so the ledger row, written only once both stages
    exist, is what ties them together under one batch id. A crash before it leaves no staged
    delivery in the ledger, and the re-run restages both.
    """
    from creditlake.lake import parquet_chunks

    properties = {
        "source": src.name,
        "batch_id": batch.batch_id,
        "source_file": batch.source_file,
        "content_sha256": sha256,
        # the delivery scan's record count and what the job wrote, counted from its output
        # files (reconciliation recounts both independently, from the file and the stage)
        "landing_rows": landing_rows,
        "bronze_rows": _parquet_rows(bronze[0]),
        "quarantined_rows": _parquet_rows(quarantine[0]),
        "duplicates_dropped": copies,
    }
    staged_quarantine = lake.stage_partition(
        quarantine_table(src.name),
        as_of_date,
        parquet_chunks(
            quarantine[0], quarantine[1], [QUARANTINE_PREFIX + name for name in quarantine[1].names]
        ),
        quarantine[1],
        properties,
    )
    bronze_chunks, bronze_schema = with_new_columns(
        parquet_chunks(bronze[0], bronze[1]), bronze[1], new_fields
    )
    staged_bronze = lake.stage_partition(
        bronze_table(src.name), as_of_date, bronze_chunks, bronze_schema, properties
    )
    report = reconcile(landing_rows, lake, staged_bronze, staged_quarantine, copies)
    record = ledger.Delivery(
        source=src.name,
        as_of_date=as_of_date,
        status=ledger.STAGED if report.balanced else ledger.UNBALANCED,
        batch_id=batch.batch_id,
        landing_file=batch.source_file,
        content_sha256=sha256,
        landing_rows=report.landing_rows,
        bronze_rows=report.bronze_rows,
        quarantined_rows=report.quarantined_rows,
        duplicates_dropped=report.duplicates_dropped,
        quarantined_by_reason=report.quarantined_by_reason,
        bronze_snapshot_id=staged_bronze.snapshot_id,
        quarantine_snapshot_id=staged_quarantine.snapshot_id,
        detail=(
            f"fields the registry does not declare, loaded as new text columns of bronze: "
            f"{', '.join(new_fields)}"
            if new_fields
            else ""
        ),
    )
    ledger.record(lake, record)
    if not report.balanced:
        raise ReconciliationError(
            f"{src.name} {as_of_date} does not reconcile: {report.landing_rows} landing rows != "
            f"{report.bronze_rows} bronze + {report.quarantined_rows} quarantined + "
            f"{report.duplicates_dropped} duplicates dropped; nothing was published"
        )
    return IngestResult.of(record, new_fields)
