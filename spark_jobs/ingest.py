"""Ingest one source's landing file for one logical date: stage bronze and quarantine, reconcile.

extract (:mod:`spark_jobs.delivery`: fetch the delivery, check its folder, control file, text and
header, number its records) → transform (:mod:`spark_jobs.parsing`: number and parse the lines;
:mod:`spark_jobs.transforms`: type, validate, de-duplicate, tokenise PII;
:mod:`spark_jobs.delivery_gate` fails a delivery that looks wrong as a whole) → load (stage the
date's partitions on the audit branch of the Iceberg tables, :mod:`spark_jobs.load`)
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake import preflight, secrets
from creditlake.lake import Lake, parse_date
from creditlake.landing import Landing, LandingError
from creditlake.settings import Settings, SettingsError, get_settings
from creditlake.sources import SOURCES, Source, get_source
from spark_jobs.contract import ScratchOutput
from spark_jobs.delivery import Delivery, IngestError, fetch_delivery
from spark_jobs.delivery_gate import Census, gate_delivery
from spark_jobs.duckdb_engine import transform_to_scratch
from spark_jobs.load import (
    DuplicateDeliveryError,
    IngestResult,
    ReconciliationError,
    refuse_duplicate_delivery,
    stage_delivery,
    write_scratch,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from spark_jobs.contract import Batch

__all__ = ["DuplicateDeliveryError", "IngestError", "IngestResult", "ReconciliationError", "main"]

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


# Extract ----------------------------------------------------------------------------------------
def read_lines(spark: SparkSession, path: Path) -> DataFrame:
    """The file's lines with what :func:`transform_number_lines` needs to number them."""
    from pyspark.sql import functions as F

    return spark.read.text(str(path)).select(
        F.col("value").alias("_raw_line"),
        F.col("_metadata.file_block_start").alias("_block_start"),
        F.monotonically_increasing_id().alias("_position"),
    )


def duplicate_counts(duplicates: DataFrame) -> tuple[int, int]:
    """(exact copies dropped, key clashes) among the rows ``transform_find_duplicates`` found."""
    copies, clashes = 0, 0
    for row in duplicates.groupBy("_is_copy").count().collect():
        if row["_is_copy"]:
            copies += row["count"]
        else:
            clashes += row["count"]
    return copies, clashes


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


def _transform_spark(
    spark: SparkSession,
    delivery: Delivery,
    as_of_date: dt.date,
    batch: Batch,
    pii_key: bytes,
    scratch: Path,
) -> ScratchOutput:
    """The transform on Spark (the cluster path): the delivery → scratch Parquet and schemas."""
    from pyspark.sql.pandas.types import to_arrow_schema

    from spark_jobs.parsing import transform_mark_lines, transform_number_lines, transform_parse
    from spark_jobs.transforms import (
        transform_bronze,
        transform_deduplicate,
        transform_find_duplicates,
        transform_key_drift,
        transform_quarantine,
        transform_validate,
    )

    src = delivery.source
    # Inside the block: Spark fixes an expression's time zone when the DataFrame is built.
    with _session_confs(spark, JOB_CONFS):
        numbered = transform_mark_lines(
            transform_number_lines(read_lines(spark, delivery.path)), delivery.scan.line_marks()
        )
        parsed = transform_parse(numbered, src)
        # Parsed once and kept (PII already tokenised): finding duplicates and both writes
        # read the cache instead of parsing the landing file again.
        validated = transform_validate(parsed, src, as_of_date, pii_key).persist()
        duplicates = transform_find_duplicates(validated).persist()
        try:
            copies, clashes = duplicate_counts(duplicates)
            deduplicated = transform_deduplicate(
                validated, duplicates if copies + clashes else None, src
            )
            bronze_frame = transform_bronze(deduplicated, src, batch)
            quarantine_frame = transform_quarantine(deduplicated, src, delivery.location)
            keys_frame = transform_key_drift(deduplicated)
            files = write_scratch(bronze_frame, quarantine_frame, keys_frame, scratch)
        finally:
            duplicates.unpersist()
            validated.unpersist()
    return ScratchOutput(
        files,
        to_arrow_schema(bronze_frame.schema),
        to_arrow_schema(quarantine_frame.schema),
        copies,
    )


def _needs(settings: Settings, spark: SparkSession | None) -> tuple[str, ...]:
    """What the job checks before it starts: everything, and Java when it will start Spark."""
    starts_spark = settings.ingest_engine == "spark" and spark is None
    return (preflight.JAVA, *preflight.EVERYTHING) if starts_spark else preflight.EVERYTHING


def main(
    source: str,
    as_of_date: dt.date | str,
    settings: Settings | None = None,
    spark: SparkSession | None = None,
) -> IngestResult:
    """Ingest ``source`` for ``as_of_date``; raise if the delivery is bad or does not reconcile.

    The transform runs on ``settings.ingest_engine``: in-process DuckDB (``spark`` is then not
    used, and no Spark session is started) or Spark (``spark``, or the session of
    :func:`creditlake.spark.get_spark`). Everything around it is the same for both.

    Raises :class:`creditlake.landing.LandingError` when the file was not delivered,
    :class:`IngestError` when it cannot be ingested (the file-level checks of
    :mod:`spark_jobs.delivery` and the gate of :mod:`spark_jobs.delivery_gate`; nothing is written
    then) and
    :class:`ReconciliationError` when what was written does not account for every landing line.
    """
    from spark_jobs.contract import Batch

    started = time.monotonic()
    settings = settings or get_settings()
    # Before any work: a folder, key, bucket or catalog that is wrong fails here, in one line.
    preflight.check(settings, _needs(settings, spark))
    src, as_of_date = _resolve(source, as_of_date)
    landing = Landing.from_settings(settings)
    delivery = fetch_delivery(landing, src, as_of_date, settings)
    location, path = delivery.location, delivery.path
    pii_key = secrets.pii_key(settings)
    lake = Lake.from_settings(settings)
    sha256 = delivery.content_sha256
    refuse_duplicate_delivery(lake, src, as_of_date, location, sha256)

    ingested_at = dt.datetime.now(dt.UTC)
    attempt = ingested_at.strftime("%Y%m%dT%H%M%S.%fZ")
    batch = Batch(
        source_file=location,
        batch_id=f"{src.name}/{as_of_date.isoformat()}/{attempt}",
        ingested_at=ingested_at,
    )
    scratch = settings.staging_dir / "ingest" / f"{src.name}-{as_of_date.isoformat()}-{attempt}"
    try:
        if settings.ingest_engine == "duckdb":
            output = transform_to_scratch(
                delivery, as_of_date, batch, pii_key, scratch, settings.duckdb_memory_limit
            )
        else:
            from creditlake.spark import get_spark

            spark = spark or get_spark(f"creditlake-ingest-{src.name}", settings)
            output = _transform_spark(spark, delivery, as_of_date, batch, pii_key, scratch)
        log.info(
            "%s %s: transformed on %s (%.1f s)",
            src.name,
            as_of_date,
            settings.ingest_engine,
            _since(started),
        )
        bronze_files, quarantine_files = output.files["bronze"], output.files["quarantine"]
        # Before anything reaches the lake: a delivery that looks wrong as a whole fails here.
        census = Census.from_output(
            bronze_files, quarantine_files, output.files["keys"], output.copies
        )
        new_fields = gate_delivery(census, delivery, settings)
        result = stage_delivery(
            lake,
            src,
            as_of_date,
            batch,
            sha256,
            output.copies,
            (bronze_files, output.bronze_schema),
            (quarantine_files, output.quarantine_schema),
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
    spark = None
    try:
        settings = get_settings()
        preflight.check(settings, _needs(settings, None))
        if settings.ingest_engine == "spark":
            from creditlake.spark import get_spark

            spark = get_spark(f"creditlake-ingest-{args.source}", settings)
        result = main(args.source, args.as_of_date, settings=settings, spark=spark)
    except SettingsError as error:
        print(f"{parser.prog}: {error.line()}", file=sys.stderr)
        return 2
    except (IngestError, LandingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if spark is not None:
            spark.stop()
    print(json.dumps(result.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
