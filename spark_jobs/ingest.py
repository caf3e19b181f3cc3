"""Ingest one source's landing file for one logical date: stage bronze and quarantine, reconcile.

extract (:mod:`spark_jobs.delivery`: fetch the delivery, check its folder, control file, text and
header, number its records) → transform (:mod:`spark_jobs.parsing`: number and parse the lines;
:mod:`spark_jobs.transforms`: type, validate, de-duplicate, tokenise PII;
:mod:`spark_jobs.delivery_gate` fails a delivery that looks wrong as a whole) → load (stage the
date's partitions on the audit branch of the Iceberg tables through :class:`creditlake.lake.Lake`)
→ reconcile (count what was staged again, independently, prove every landing record is accounted
for, and record the delivery in the ledger).

The job writes, it does not publish: the bronze gate audits the staged snapshot and
``publish_bronze`` makes it visible (write-audit-publish). Re-running a date replaces its stage; a
failed run leaves the published tables as they were; a file already published under another date
is refused.

Run it from Python (``main("customers", "2026-01-01")``, as the Airflow DAGs do) or as a job:
``python -m spark_jobs.ingest --source customers --as-of-date 2026-01-01`` (or ``spark-submit``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, Staged, bronze_table, parse_date, quarantine_table
from creditlake.landing import Landing, LandingError
from creditlake.ledger import loaded_elsewhere
from creditlake.settings import Settings, SettingsError, get_settings
from creditlake.sources import SOURCES, Source, get_source
from spark_jobs.delivery import IngestError, fetch_delivery
from spark_jobs.delivery_gate import EXTRA_FIELDS, QUARANTINE_PREFIX, Census, gate_delivery

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from spark_jobs.transforms import Batch

log = logging.getLogger(__name__)

#: Runtime SQL settings the job sets for its own duration, whatever session it is given:
#: timestamp text in landing files means UTC (the contract), and the job's cache, which lives for
#: seconds, is built uncompressed (compressing it costs about 15 CPU seconds on a 1.4M-line file,
#: more than it saves).
JOB_CONFS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # Scratch Parquet for the lake seam: microsecond timestamps, as Iceberg stores them.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


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


# Extract ----------------------------------------------------------------------------------------
def read_lines(spark: SparkSession, path: Path) -> DataFrame:
    """The file's lines with what :func:`transform_number_lines` needs to number them."""
    from pyspark.sql import functions as F

    return spark.read.text(str(path)).select(
        F.col("value").alias("_raw_line"),
        F.col("_metadata.file_block_start").alias("_block_start"),
        F.monotonically_increasing_id().alias("_position"),
    )


# Load and reconcile -----------------------------------------------------------------------------
def duplicate_counts(duplicates: DataFrame) -> tuple[int, int]:
    """(exact copies dropped, key clashes) among the rows ``transform_find_duplicates`` found."""
    copies, clashes = 0, 0
    for row in duplicates.groupBy("_is_copy").count().collect():
        if row["_is_copy"]:
            copies += row["count"]
        else:
            clashes += row["count"]
    return copies, clashes


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


# The job ----------------------------------------------------------------------------------------
def _since(started: float) -> float:
    return time.monotonic() - started


@contextmanager
def _session_confs(spark: SparkSession, confs: dict[str, str]) -> Iterator[None]:
    """Set runtime SQL settings for the duration of a block, then put the old values back."""
    previous = {key: spark.conf.get(key) for key in confs}
    for key, value in confs.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            spark.conf.set(key, value)


def _resolve(source: str, as_of_date: dt.date | str) -> tuple[Source, dt.date]:
    try:
        return get_source(source), parse_date(as_of_date, "as_of_date")
    except (KeyError, ValueError) as error:
        raise IngestError(str(error.args[0])) from None


def main(
    source: str,
    as_of_date: dt.date | str,
    settings: Settings | None = None,
    spark: SparkSession | None = None,
) -> IngestResult:
    """Ingest ``source`` for ``as_of_date``; raise if the delivery is bad or does not reconcile.

    Raises :class:`creditlake.landing.LandingError` when the file was not delivered,
    :class:`IngestError` when it cannot be ingested (the file-level checks of
    :mod:`spark_jobs.delivery` and the gate of :mod:`spark_jobs.delivery_gate`; nothing is written
    then) and
    :class:`ReconciliationError` when what was written does not account for every landing line.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    from spark_jobs.parsing import transform_mark_lines, transform_number_lines, transform_parse
    from spark_jobs.session import get_spark
    from spark_jobs.transforms import (
        Batch,
        transform_bronze,
        transform_deduplicate,
        transform_find_duplicates,
        transform_key_drift,
        transform_quarantine,
        transform_validate,
    )

    started = time.monotonic()
    settings = settings or get_settings()
    src, as_of_date = _resolve(source, as_of_date)
    landing = Landing.from_settings(settings)
    delivery = fetch_delivery(landing, src, as_of_date, settings)
    location, path = delivery.location, delivery.path
    pii_key = settings.pii_key
    lake = Lake.from_settings(settings)
    sha256 = delivery.content_sha256
    refuse_duplicate_delivery(lake, src, as_of_date, location, sha256)
    spark = spark or get_spark(f"creditlake-ingest-{src.name}", settings)

    ingested_at = dt.datetime.now(dt.UTC)
    attempt = ingested_at.strftime("%Y%m%dT%H%M%S.%fZ")
    batch = Batch(
        source_file=location,
        batch_id=f"{src.name}/{as_of_date.isoformat()}/{attempt}",
        ingested_at=ingested_at,
    )
    scratch = settings.staging_dir / "ingest" / f"{src.name}-{as_of_date.isoformat()}-{attempt}"
    try:
        # Inside the block: Spark fixes an expression's time zone when the DataFrame is built.
        with _session_confs(spark, JOB_CONFS):
            numbered = transform_mark_lines(
                transform_number_lines(read_lines(spark, path)), delivery.scan.line_marks()
            )
            parsed = transform_parse(numbered, src)
            # Parsed once and kept (PII already tokenised): finding duplicates and both writes
            # read the cache instead of parsing the landing file again.
            validated = transform_validate(parsed, src, as_of_date, pii_key).persist()
            duplicates = transform_find_duplicates(validated).persist()
            try:
                copies, clashes = duplicate_counts(duplicates)
                log.info(
                    "%s %s: parsed and validated (%.1f s)", src.name, as_of_date, _since(started)
                )
                deduplicated = transform_deduplicate(
                    validated, duplicates if copies + clashes else None, src
                )
                bronze_frame = transform_bronze(deduplicated, src, batch)
                quarantine_frame = transform_quarantine(deduplicated, src, location)
                keys_frame = transform_key_drift(deduplicated)
                files = write_scratch(bronze_frame, quarantine_frame, keys_frame, scratch)
            finally:
                duplicates.unpersist()
                validated.unpersist()
        log.info("%s %s: transformed (%.1f s)", src.name, as_of_date, _since(started))
        bronze_files, quarantine_files = files["bronze"], files["quarantine"]
        # Before anything reaches the lake: a delivery that looks wrong as a whole fails here.
        census = Census.from_output(bronze_files, quarantine_files, files["keys"], copies)
        new_fields = gate_delivery(census, delivery, settings)
        result = _stage(
            lake,
            src,
            as_of_date,
            batch,
            sha256,
            copies,
            (bronze_files, to_arrow_schema(bronze_frame.schema)),
            (quarantine_files, to_arrow_schema(quarantine_frame.schema)),
            new_fields,
            delivery.landing_rows,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if landing.is_s3:
            path.unlink(missing_ok=True)  # a raw copy of the delivery: no personal data kept
    log.info(
        "%s %s staged in %.1f s: %d landing rows = %d bronze + %d quarantined + %d duplicates",
        src.name,
        as_of_date,
        _since(started),
        result.landing_rows,
        result.bronze_rows,
        result.quarantined_rows,
        result.duplicates_dropped,
    )
    return result


def _parquet_rows(paths: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def _stage(
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
    return IngestResult(
        source=src.name,
        as_of_date=as_of_date,
        landing_file=batch.source_file,
        landing_rows=report.landing_rows,
        bronze_rows=report.bronze_rows,
        quarantined_rows=report.quarantined_rows,
        duplicates_dropped=report.duplicates_dropped,
        quarantined_by_reason=report.quarantined_by_reason,
        content_sha256=sha256,
        batch_id=batch.batch_id,
        bronze_snapshot_id=staged_bronze.snapshot_id,
        quarantine_snapshot_id=staged_quarantine.snapshot_id,
        new_fields=new_fields,
    )


def cli(argv: list[str] | None = None) -> int:
    """``python -m spark_jobs.ingest --source X --as-of-date D``: the job outside Airflow."""
    parser = argparse.ArgumentParser(
        prog="python -m spark_jobs.ingest",
        description="Ingest one source's landing file for one logical date into bronze.",
    )
    parser.add_argument("--source", required=True, choices=sorted(SOURCES))
    parser.add_argument(
        "--as-of-date", required=True, help="the delivery date to ingest, yyyy-mm-dd"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from spark_jobs.session import get_spark

    try:
        settings = get_settings()
        spark = get_spark(f"creditlake-ingest-{args.source}", settings)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        result = main(args.source, args.as_of_date, settings=settings, spark=spark)
    except (IngestError, LandingError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(json.dumps(result.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
