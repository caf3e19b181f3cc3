"""Ingest one source's landing file for one logical date into bronze, quarantine and reconciliation.

extract (fetch the delivery, check it is text with the registry header, number its lines) →
transform (:mod:`spark_jobs.transforms`: parse, type, validate, de-duplicate, tokenise PII) →
load (replace the date's bronze and quarantine partitions) → reconcile (count what was written
again, independently, and prove every landing line is accounted for).

Re-running a date replaces that date's partitions, and a failed run leaves them as they were,
because every table write goes through :func:`creditlake.lake.replace_partition`.

Run it from Python (``main("customers", "2026-01-01")``, as the Airflow DAGs do) or as a job:
``python -m spark_jobs.ingest --source customers --as-of-date 2026-01-01`` (or ``spark-submit``).
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import hashlib
import json
import logging
import re
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
from creditlake.ledger import Delivery, loaded_elsewhere
from creditlake.settings import Settings, SettingsError, get_settings
from creditlake.sources import SOURCES, Source, get_source

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from spark_jobs.transforms import Batch

log = logging.getLogger(__name__)

#: Bytes read from the start of a landing file to check that it is UTF-8 text with a header.
SNIFF_BYTES = 64 * 1024
COUNT_CHUNK_BYTES = 8 * 1024 * 1024
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
_FIRST_LINE = re.compile(r"\r\n|\r|\n")
#: Header fields of a personal-data source are quoted in errors only if they look like names.
_HEADER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class IngestError(RuntimeError):
    """A delivery the job cannot ingest (wrong header, not text, unknown source or date)."""


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
    content_sha256: str = ""
    batch_id: str = ""
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
def expected_header(source: Source) -> str:
    return ",".join(source.column_names)


def _shown_header(found: str, source: Source) -> str:
    """The found header as an error may show it: no raw personal data in any log.

    A file delivered without its header has a data row in its place; for a source with tokenised
    columns that row would put names and ID numbers into the Airflow log. Fields that do not look
    like column names are replaced by their length.
    """
    if not source.pii_columns:
        return found
    shown = [
        name if _HEADER_NAME.match(name) else f"<{len(name)} characters not shown>"
        for name in found.split(",")
    ]
    return ",".join(shown)


def check_landing_file(path: Path, source: Source, location: str) -> None:
    """Fail early, naming the file, if it is unreadable, not UTF-8 text, or has the wrong header.

    Spark would read a binary file as text and quarantine every "line", hiding the real problem
    (a wrong or compressed file) behind thousands of rows, so the start of the file is checked
    here first. A CSV header must be exactly the registry's column list: a renamed or reordered
    column would otherwise load values into the wrong columns.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise IngestError(f"landing file {location} cannot be read: {error.strerror}") from error
    nul = head.find(b"\0")
    if nul >= 0:
        raise IngestError(
            f"landing file {location} is binary, not UTF-8 text "
            f"(NUL byte at offset {nul}); is it compressed or the wrong file?"
        )
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as error:
        raise IngestError(
            f"landing file {location} is not UTF-8 text (invalid byte at offset {error.start})"
        ) from error
    if source.format != "csv":
        return
    found = _FIRST_LINE.split(text, maxsplit=1)[0] if text else ""
    expected = expected_header(source)
    if found != expected:
        shown = _shown_header(found, source) if found else "(empty file, no header line)"
        hint = (
            "\n  (the file starts with a UTF-8 byte-order mark; deliver it without one)"
            if found.startswith("\ufeff")
            else ""
        )
        raise IngestError(
            f"landing file {location} has the wrong header line:\n"
            f"  expected: {expected}\n"
            f"  found:    {shown}{hint}"
        )


def read_lines(spark: SparkSession, path: Path) -> DataFrame:
    """The file's lines with what :func:`transform_number_lines` needs to number them."""
    from pyspark.sql import functions as F

    return spark.read.text(str(path)).select(
        F.col("value").alias("_raw_line"),
        F.col("_metadata.file_block_start").alias("_block_start"),
        F.monotonically_increasing_id().alias("_position"),
    )


def count_lines(path: Path) -> int:
    """Lines as Spark's text reader splits them: ended by ``\\n``, ``\\r`` or ``\\r\\n``, plus a
    last line without an ending.

    Counted from the bytes in Python, so reconciliation does not trust the Spark read it checks.
    """
    lines, last = 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(COUNT_CHUNK_BYTES):
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk.startswith(b"\n"):
                lines -= 1  # a \r\n split across two chunks ends one line, not two
            last = chunk[-1:]
    if last not in (b"", b"\n", b"\r"):
        lines += 1
    return lines


def count_landing_rows(path: Path, source: Source) -> int:
    """Data lines in the landing file: every line but a CSV file's header."""
    lines = count_lines(path)
    header_lines = 1 if source.format == "csv" and lines > 0 else 0
    return lines - header_lines


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


def content_sha256(path: Path) -> str:
    """The delivery's content hash: the ledger's key for "this file was already loaded"."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COUNT_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def write_scratch(df: DataFrame, folder: Path) -> list[str]:
    """Spark's output as Parquet files in a private scratch folder, for the lake seam to commit.

    Spark parses, types and splits; the commit to the governed table goes through
    :class:`creditlake.lake.Lake` (classic Spark cannot load the Iceberg runtime here). The
    scratch files are read back in bounded batches, never collected to the driver at once.
    """
    df.write.mode("overwrite").parquet(str(folder))
    return sorted(str(f) for f in folder.glob("*.parquet") if not f.name.startswith(("_", ".")))


def reconcile(
    source: Source,
    landing_path: Path,
    lake: Lake,
    bronze: Staged,
    quarantine: Staged,
    duplicates_dropped: int,
) -> Reconciliation:
    """Count landing, bronze and quarantine again, from the bytes and the staged snapshots.

    The landing lines are counted from the file's bytes, bronze rows from the staged snapshot's
    manifests and the quarantine reasons from its staged rows: no count goes through the Spark
    plan being checked.
    """
    bronze_rows = sum(
        f.rows for f in lake.partition_files(bronze.table, bronze.as_of_date, bronze.snapshot_id)
    )
    quarantined = lake.read(quarantine.table, quarantine.as_of_date, quarantine.snapshot_id)
    by_reason = Counter(quarantined.column("reason").to_pylist())
    return Reconciliation(
        landing_rows=count_landing_rows(landing_path, source),
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
        Delivery(
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
    :class:`IngestError` when it cannot be ingested (nothing is written then) and
    :class:`ReconciliationError` when what was written does not account for every landing line.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    from spark_jobs.session import get_spark
    from spark_jobs.transforms import (
        Batch,
        transform_bronze,
        transform_deduplicate,
        transform_find_duplicates,
        transform_number_lines,
        transform_parse,
        transform_quarantine,
        transform_validate,
    )

    started = time.monotonic()
    settings = settings or get_settings()
    src, as_of_date = _resolve(source, as_of_date)
    landing = Landing.from_settings(settings)
    location = landing.location(src.name, as_of_date, src.file_name)
    path = landing.fetch(src.name, as_of_date, src.file_name)
    check_landing_file(path, src, location)
    pii_key = settings.pii_key
    lake = Lake.from_settings(settings)
    sha256 = content_sha256(path)
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
            numbered = transform_number_lines(read_lines(spark, path))
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
                quarantine_frame = transform_quarantine(deduplicated, src, location).coalesce(1)
                bronze_files = write_scratch(bronze_frame, scratch / "bronze")
                quarantine_files = write_scratch(quarantine_frame, scratch / "quarantine")
            finally:
                duplicates.unpersist()
                validated.unpersist()
        log.info("%s %s: transformed (%.1f s)", src.name, as_of_date, _since(started))
        result = _stage(
            lake,
            src,
            as_of_date,
            path,
            batch,
            sha256,
            copies,
            (bronze_files, to_arrow_schema(bronze_frame.schema)),
            (quarantine_files, to_arrow_schema(quarantine_frame.schema)),
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


def _stage(
    lake: Lake,
    src: Source,
    as_of_date: dt.date,
    path: Path,
    batch: Batch,
    sha256: str,
    copies: int,
    bronze: tuple[list[str], pa.Schema],
    quarantine: tuple[list[str], pa.Schema],
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
    }
    staged_quarantine = lake.stage_partition(
        quarantine_table(src.name),
        as_of_date,
        parquet_chunks(quarantine[0], quarantine[1]),
        quarantine[1],
        properties,
    )
    staged_bronze = lake.stage_partition(
        bronze_table(src.name),
        as_of_date,
        parquet_chunks(bronze[0], bronze[1]),
        bronze[1],
        properties,
    )
    report = reconcile(src, path, lake, staged_bronze, staged_quarantine, duplicates_dropped=copies)
    delivery = Delivery(
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
    )
    ledger.record(lake, delivery)
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
