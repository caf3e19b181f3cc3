"""Ingest one source's landing file for one logical date into bronze, quarantine and reconciliation.

extract (fetch the delivery and check it as a file, :mod:`spark_jobs.delivery`; number its
lines) →
transform (:mod:`spark_jobs.transforms`: parse, type, validate, de-duplicate, tokenise PII) →
gate (:mod:`spark_jobs.delivery_gate`: fail a delivery that looks wrong as a whole) →
load (replace the date's bronze and quarantine partitions) → reconcile (count what was written
again, independently, and prove every landing line is accounted for).

Re-running a date replaces that date's partitions, and a failed run leaves them as they were,
because every table write goes through :func:`creditlake.lake.replace_partition`.

Run it from Python (``main("customers", "2026-01-01")``, as the Airflow DAGs do) or as a job:
``python -m spark_jobs.ingest --source customers --as-of-date 2026-01-01`` (or ``spark-submit``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake.lake import parse_date, partition_dir, replace_partition
from creditlake.landing import Landing, LandingError
from creditlake.settings import Settings, SettingsError, get_settings
from creditlake.sources import SOURCES, Source, get_source
from spark_jobs.delivery import IngestError, count_landing_rows, fetch_delivery
from spark_jobs.delivery_gate import Census, gate_delivery

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

RECONCILIATION_FILE = "reconciliation.json"
#: Runtime SQL settings the job sets for its own duration, whatever session it is given:
#: timestamp text in landing files means UTC (the contract), and the job's cache, which lives for
#: seconds, is built uncompressed (compressing it costs about 15 CPU seconds on a 1.4M-line file,
#: more than it saves).
JOB_CONFS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}


class ReconciliationError(IngestError):
    """Landing lines != bronze rows + quarantined rows + duplicates dropped."""


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
    bronze_path: str = ""
    #: SHA-256 of the landing file's bytes (the delivery's identity, whatever its name).
    content_sha256: str = ""
    #: JSON keys the records carry that the registry does not know (not loaded; schema drift).
    new_fields: list[str] = field(default_factory=list)

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


def reconcile(
    source: Source,
    landing_path: Path,
    bronze_path: Path,
    quarantine_path: Path,
    duplicates_dropped: int,
) -> Reconciliation:
    """Count landing, bronze and quarantine again from storage, not from the job's own numbers.

    The landing lines are counted from the file's bytes and the written partitions are read back
    with pyarrow: neither count goes through the Spark plan being checked.
    """
    import pyarrow.parquet as pq

    bronze_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in _parquet_files(bronze_path))
    by_reason = Counter(
        reason
        for f in _parquet_files(quarantine_path)
        for reason in pq.read_table(f, columns=["reason"]).column("reason").to_pylist()
    )
    return Reconciliation(
        landing_rows=count_landing_rows(landing_path, source),
        bronze_rows=bronze_rows,
        quarantined_rows=sum(by_reason.values()),
        duplicates_dropped=duplicates_dropped,
        quarantined_by_reason=dict(sorted(by_reason.items(), key=lambda item: str(item[0]))),
    )


def _parquet_files(folder: Path) -> list[Path]:
    """The data files of a written partition (Spark's ``_SUCCESS`` and ``.crc`` files aside)."""
    return sorted(f for f in folder.glob("*.parquet") if not f.name.startswith(("_", ".")))


def reconciliation_path(settings: Settings, source: str, as_of_date: dt.date) -> Path:
    """Where the job records how ``source``'s delivery for ``as_of_date`` reconciled.

    Readers (the warehouse DAG's readiness check, the summary) ask here rather than rebuilding the
    path, so the layout has one owner.
    """
    return partition_dir(settings.reconciliation_dir / source, as_of_date) / RECONCILIATION_FILE


def write_reconciliation(report: Reconciliation, path: Path, identity: dict[str, Any]) -> Path:
    """Write ``reconciliation.json`` atomically (write aside, then rename over the old one)."""
    target = path.parent
    target.mkdir(parents=True, exist_ok=True)
    content = {
        **identity,
        "landing_rows": report.landing_rows,
        "bronze_rows": report.bronze_rows,
        "quarantined_rows": report.quarantined_rows,
        "duplicates_dropped": report.duplicates_dropped,
        "quarantined_by_reason": report.quarantined_by_reason,
        "balanced": report.balanced,
    }
    scratch = target / f".{path.name}.{os.getpid()}.tmp"
    scratch.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)
    return path


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
    from spark_jobs.session import get_spark
    from spark_jobs.transforms import (
        Batch,
        transform_bronze,
        transform_deduplicate,
        transform_find_duplicates,
        transform_mark_lines,
        transform_number_lines,
        transform_parse,
        transform_quarantine,
        transform_validate,
    )

    started = time.monotonic()
    settings = settings or get_settings()
    src, as_of_date = _resolve(source, as_of_date)
    delivery = fetch_delivery(Landing.from_settings(settings), src, as_of_date, settings)
    location, path = delivery.location, delivery.path
    pii_key = settings.pii_key
    spark = spark or get_spark(f"creditlake-ingest-{src.name}", settings)

    ingested_at = dt.datetime.now(dt.UTC)
    batch = Batch(
        source_file=location,
        batch_id=f"{src.name}/{as_of_date.isoformat()}/{ingested_at.strftime('%Y%m%dT%H%M%S.%fZ')}",
        ingested_at=ingested_at,
    )
    # Inside the block: Spark fixes an expression's time zone when the DataFrame is built.
    with _session_confs(spark, JOB_CONFS):
        numbered = transform_mark_lines(
            transform_number_lines(read_lines(spark, path)), delivery.scan.line_marks()
        )
        parsed = transform_parse(numbered, src)
        # Parsed once and kept (PII already tokenised): finding duplicates and both writes read
        # the cache instead of parsing the landing file again.
        validated = transform_validate(parsed, src, as_of_date, pii_key).persist()
        duplicates = transform_find_duplicates(validated).persist()
        try:
            copies, clashes = duplicate_counts(duplicates)
            log.info("%s %s: parsed and validated (%.1f s)", src.name, as_of_date, _since(started))
            deduplicated = transform_deduplicate(
                validated, duplicates if copies + clashes else None, src
            )
            # Before anything is written: a delivery that looks wrong as a whole fails here.
            new_fields = gate_delivery(Census.of(deduplicated), delivery, settings)
            bronze_path = replace_partition(
                transform_bronze(deduplicated, src, batch),
                settings.bronze_dir / src.name,
                as_of_date,
            )
            log.info("%s %s: wrote %s (%.1f s)", src.name, as_of_date, bronze_path, _since(started))
            quarantine_path = replace_partition(
                transform_quarantine(deduplicated, src, location).coalesce(1),
                settings.quarantine_dir / src.name,
                as_of_date,
            )
            log.info(
                "%s %s: wrote %s (%.1f s)", src.name, as_of_date, quarantine_path, _since(started)
            )
        finally:
            duplicates.unpersist()
            validated.unpersist()

    report = reconcile(src, path, bronze_path, quarantine_path, duplicates_dropped=copies)
    identity = {
        "source": src.name,
        "as_of_date": as_of_date.isoformat(),
        "landing_file": location,
        "batch_id": batch.batch_id,
    }
    write_reconciliation(report, reconciliation_path(settings, src.name, as_of_date), identity)
    if not report.balanced:
        raise ReconciliationError(
            f"{src.name} {as_of_date} does not reconcile: {report.landing_rows} landing rows != "
            f"{report.bronze_rows} bronze + {report.quarantined_rows} quarantined + "
            f"{report.duplicates_dropped} duplicates dropped"
        )
    log.info(
        "%s %s ingested in %.1f s: %d landing rows = %d bronze + %d quarantined + %d duplicates",
        src.name,
        as_of_date,
        _since(started),
        report.landing_rows,
        report.bronze_rows,
        report.quarantined_rows,
        report.duplicates_dropped,
    )
    return IngestResult(
        source=src.name,
        as_of_date=as_of_date,
        landing_file=location,
        landing_rows=report.landing_rows,
        bronze_rows=report.bronze_rows,
        quarantined_rows=report.quarantined_rows,
        duplicates_dropped=report.duplicates_dropped,
        quarantined_by_reason=report.quarantined_by_reason,
        bronze_path=str(bronze_path),
        content_sha256=delivery.content_sha256,
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
