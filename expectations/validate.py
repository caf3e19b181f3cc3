"""Quality gates: run a suite's checkpoint, write a compact summary, stop on critical failures.

``validate_bronze`` guards one bronze partition right after the Spark job wrote it;
``validate_warehouse`` guards the marts the models train on right after dbt built them. Both:

1. run the suite's GX checkpoint, which stores the validation result and updates Data Docs
   (``settings.gx_dir``), keeping counts but never unexpected values (see
   :data:`expectations.context.RESULT_FORMAT`);
2. write ``settings.reports_dir/quality/<suite>/<as_of_date>.json``: what was evaluated, what
   passed, and each failed expectation with its type, column, severity and unexpected count. No
   values: they could be personal data. Re-running a date replaces its summary;
3. raise :class:`QualityGateError` naming the suite, the date and the failed critical
   expectations when any critical one failed. Warning failures (policy breaches on real records)
   are recorded in the summary and Data Docs and do not stop the pipeline.

Airflow stays out of this module: the DAG tasks in ``creditlake/orchestration`` call these
functions and turn :class:`QualityGateError` into a task failure without retries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, parse_date
from creditlake.ledger import Delivery, GateResult
from creditlake.settings import Settings, get_settings
from creditlake.sources import PARTITION_COLUMN, get_source
from expectations.context import data_docs_index
from expectations.names import MART_ROWS_OF_DATE

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite
    from great_expectations.core import ExpectationSuiteValidationResult
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "MissingDataError",
    "QualityGateError",
    "QualityResult",
    "data_docs_index",
    "summary_path",
    "validate_bronze",
    "validate_warehouse",
]

logger = logging.getLogger(__name__)

#: Longest exception text a summary quotes (enough for "column 'x' does not exist").
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class FailedExpectation:
    """One failed expectation, as much as governance needs and no data values."""

    type: str
    column: str | None
    severity: str
    unexpected_count: int | None
    observed_value: float | int | None = None
    error: str | None = None

    def label(self) -> str:
        where = f"({self.column})" if self.column else ""
        if self.error:
            return f"{self.type}{where}: {self.error}"
        if self.unexpected_count is not None:
            return f"{self.type}{where}: {self.unexpected_count} unexpected"
        if self.observed_value is not None:
            return f"{self.type}{where}: observed {self.observed_value}"
        return f"{self.type}{where}"


@dataclass(frozen=True)
class CheckedExpectation:
    """One expectation a gate evaluated and its verdict: lineage reports every rule that ran."""

    type: str
    column: str | None
    severity: str
    success: bool


@dataclass(frozen=True)
class QualityResult:
    """The outcome of one suite on one date; ``to_dict`` is the JSON summary."""

    suite: str
    as_of_date: str
    evaluated: int
    passed: int
    failed: dict[str, int]
    failed_expectations: list[FailedExpectation]
    rows: int | None
    skipped_expectations: list[str] = field(default_factory=list)
    summary_path: str | None = None
    data_docs: str | None = None
    checked: list[CheckedExpectation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True unless a critical expectation failed: warnings never fail the gate."""
        return self.failed.get("critical", 0) == 0

    @property
    def critical_failures(self) -> list[FailedExpectation]:
        return [f for f in self.failed_expectations if f.severity == "critical"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["success"] = self.success
        return data


class MissingDataError(FileNotFoundError):
    """What a gate should validate does not exist (a bronze partition, the warehouse).

    Its own type so the Airflow tasks fail at once instead of retrying: the data will not appear
    by itself; the run that should have written it has to run (again) first.
    """


class QualityGateError(RuntimeError):
    """A critical expectation failed; the message names the suite, date and failed rules."""

    def __init__(self, results: list[QualityResult]) -> None:
        self.results = results
        super().__init__(gate_message(results))


def gate_message(results: list[QualityResult]) -> str:
    parts = []
    for result in results:
        failures = "; ".join(f.label() for f in result.critical_failures)
        parts.append(
            f"quality gate {result.suite} failed for {result.as_of_date}: "
            f"{len(result.critical_failures)} critical expectation(s) failed: {failures}. "
            f"Summary: {result.summary_path}; Data Docs: {result.data_docs}"
        )
    return "\n".join(parts)


# Reading a validation result -------------------------------------------------------------------
def _column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    pair = [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k)]
    return ",".join(pair) or None


def _number(value: Any) -> float | int | None:
    """A numeric observed value (a bad rate, a row count); anything else is not reported."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def failed_expectation(expectation_result: Any) -> FailedExpectation:
    config = expectation_result.expectation_config
    result = expectation_result.result or {}
    exception = expectation_result.exception_info or {}
    error = None
    if exception.get("raised_exception"):
        error = str(exception.get("exception_message") or "raised an exception")
        error = error.splitlines()[0][:MAX_ERROR_CHARS] if error else error
    unexpected = result.get("unexpected_count")
    observed = _number(result.get("observed_value"))
    if unexpected is None and config.type == "unexpected_rows_expectation":
        unexpected, observed = observed, None
    return FailedExpectation(
        type=config.type,
        column=_column_of(config.kwargs),
        severity=str(getattr(config.severity, "value", config.severity) or "critical"),
        unexpected_count=None if unexpected is None else int(unexpected),
        observed_value=observed,
        error=error,
    )


def checked_expectation(expectation_result: Any) -> CheckedExpectation:
    config = expectation_result.expectation_config
    return CheckedExpectation(
        type=config.type,
        column=_column_of(config.kwargs),
        severity=str(getattr(config.severity, "value", config.severity) or "critical"),
        success=bool(expectation_result.success),
    )


def summarise(
    validation: ExpectationSuiteValidationResult,
    suite: str,
    as_of_date: dt.date,
    skipped: list[str] | None = None,
) -> QualityResult:
    """Count what GX evaluated, what passed and what failed by severity; keep no values."""
    failed = [failed_expectation(r) for r in validation.results if not r.success]
    by_severity = {"critical": 0, "warning": 0, "info": 0}
    for failure in failed:
        by_severity[failure.severity] = by_severity.get(failure.severity, 0) + 1
    counts = [
        (r.result or {}).get("element_count")
        for r in validation.results
        if isinstance((r.result or {}).get("element_count"), int)
    ]
    evaluated = len(validation.results)
    return QualityResult(
        suite=suite,
        as_of_date=as_of_date.isoformat(),
        evaluated=evaluated,
        passed=evaluated - len(failed),
        failed=by_severity,
        failed_expectations=failed,
        rows=max(counts) if counts else None,
        skipped_expectations=list(skipped or []),
        checked=[checked_expectation(r) for r in validation.results],
    )


# Writing the summary ---------------------------------------------------------------------------
def quality_summaries_dir(settings: Settings) -> Path:
    """The folder of every gate summary, ``<suite>/<as_of_date>.json``."""
    return settings.reports_dir / "quality"


def summary_path(settings: Settings, suite: str, as_of_date: dt.date) -> Path:
    """Where the gate writes its summary of ``suite`` for ``as_of_date``; readers ask here."""
    return quality_summaries_dir(settings) / suite / f"{as_of_date.isoformat()}.json"


def write_summary(result: QualityResult, path: Path) -> None:
    """Write aside and rename, so a reader never sees half a summary and a re-run replaces it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    os.replace(partial, path)


# Running a suite -------------------------------------------------------------------------------
def _run_suite(
    settings: Settings,
    suite: ExpectationSuite,
    engine: str,
    asset: str,
    dataframe: Any,
    as_of_date: dt.date,
    skipped: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> QualityResult:
    import great_expectations as gx

    from expectations.context import (
        checkpoint_for,
        data_docs_site,
        dataframe_batch_definition,
        get_context,
        project_lock,
        remember_project_state,
    )
    from expectations.offline_docs import VENDOR_DIR, localise_pages, site_pages

    with project_lock(settings):
        site = data_docs_site(settings)
        # The pages this run writes (file times lag the clock by up to a tick: a second's
        # margin); every page the first time, so a site built before is localised too.
        since = time.time_ns() - 1_000_000_000 if (site / VENDOR_DIR).is_dir() else None
        context = get_context(settings)
        batch_definition = dataframe_batch_definition(context, engine, asset)
        checkpoint = checkpoint_for(context, suite, batch_definition)
        run = checkpoint.run(
            batch_parameters={"dataframe": dataframe},
            expectation_parameters=parameters or {},
            run_id=gx.RunIdentifier(
                run_name=as_of_date.isoformat(), run_time=dt.datetime.now(dt.UTC)
            ),
        )
        remember_project_state(settings)
        localise_pages(settings, site, site_pages(site, since))
    (validation,) = run.run_results.values()
    path = summary_path(settings, suite.name, as_of_date)
    result = replace(
        summarise(validation, suite.name, as_of_date, skipped),
        summary_path=str(path),
        data_docs=str(data_docs_index(settings)),
    )
    write_summary(result, path)
    logger.info(
        "%s %s: %d evaluated, %d passed, failed by severity %s",
        result.suite,
        result.as_of_date,
        result.evaluated,
        result.passed,
        result.failed,
    )
    return result


def read_staged_bronze(
    spark: SparkSession, lake: Lake, source: str, as_of_date: dt.date
) -> tuple[Delivery, DataFrame]:
    """The date's staged (or already published) bronze partition, as Spark sees it.

    The gate audits exactly the snapshot the ingest staged and the ledger recorded: the data
    files of that snapshot's partition. Spark reads local files in place; files in object storage
    come through the lake's own reader (classic Spark here has no S3 connector).
    """
    delivery = ledger.latest_delivery(lake, source, as_of_date)
    if delivery is None or delivery.status not in (ledger.STAGED, ledger.PUBLISHED):
        state = "nothing" if delivery is None else f"a delivery that is {delivery.status}"
        raise MissingDataError(
            f"no staged bronze delivery of {source} for {as_of_date.isoformat()} in the lake "
            f"ledger (found {state}): run its ingestion first"
        )
    table = bronze_table(source)
    files = lake.partition_files(table, as_of_date, delivery.bronze_snapshot_id)
    local = [f.local_path for f in files]
    if files and all(local):
        frame = spark.read.parquet(*local)
    else:
        frame = spark.createDataFrame(lake.read(table, as_of_date, delivery.bronze_snapshot_id))
    return delivery, frame.drop(PARTITION_COLUMN)


def validate_bronze(
    source: str,
    as_of_date: dt.date | str,
    spark: SparkSession,
    settings: Settings | None = None,
) -> QualityResult:
    """Audit the staged ``as_of_date`` partition of ``source``'s bronze table with its suite.

    The verdict is recorded in the lake ledger against the exact snapshot read, which is what
    :func:`creditlake.ledger.publish_delivery` requires before it publishes. A critical failure
    marks the delivery rejected (its stage stays on the audit branch, unpublished) and raises.
    The caller brings the Spark session (the orchestration asks ``creditlake.spark`` for it).
    """
    from expectations.suites import bronze_suite

    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    registered = get_source(source)
    lake = Lake.from_settings(settings)
    delivery, frame = read_staged_bronze(spark, lake, registered.name, as_of_date)
    suite = bronze_suite(registered, settings)
    try:
        result = _run_suite(settings, suite, "spark", registered.name, frame, as_of_date)
    finally:
        frame.unpersist()  # GX persists the batch; free it for the next partition
    ledger.record(
        lake, gate_record(result, bronze_table(registered.name), delivery.bronze_snapshot_id)
    )
    if not result.success:
        error = QualityGateError([result])
        if delivery.status == ledger.STAGED:
            ledger.reject_delivery(lake, delivery, str(error))
        raise error
    return result


def gate_record(result: QualityResult, subject: str, snapshot_id: int | None) -> GateResult:
    """The ledger's row for one gate evaluation."""
    return GateResult(
        suite=result.suite,
        as_of_date=dt.date.fromisoformat(result.as_of_date),
        subject=subject,
        snapshot_id=snapshot_id,
        passed=result.success,
        evaluated=result.evaluated,
        failed_critical=result.failed.get("critical", 0),
        failed_warning=result.failed.get("warning", 0),
        detail="; ".join(f.label() for f in result.critical_failures)[:2000],
    )


# Warehouse -------------------------------------------------------------------------------------
def read_mart(settings: Settings, table: str, as_of_date: dt.date | None = None) -> pd.DataFrame:
    """A mart as pandas, through a read-only DuckDB connection (dbt may hold the writer).

    Marts keep the rows of many as-of dates: given ``as_of_date``, only the rows a gate for that
    date validates are read (:data:`expectations.names.MART_ROWS_OF_DATE`). A mart without an
    ``as_of_date`` column is read whole; its build-date rule is then skipped, and says so.
    """
    import duckdb

    path = settings.warehouse_path
    if not path.is_file():
        raise MissingDataError(
            f"warehouse {path} does not exist (settings.warehouse_path, "
            "CREDITLAKE_WAREHOUSE_PATH): build it with dbt before validating it"
        )
    schema, name = table.split(".", 1)
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if not found:
            raise LookupError(
                f"table {table} is not in the warehouse {path}: run the dbt build that creates it"
            )
        columns = {row[0] for row in con.execute(f'describe "{schema}"."{name}"').fetchall()}
        if as_of_date is None or "as_of_date" not in columns:
            return con.execute(f'select * from "{schema}"."{name}"').fetchdf()
        return con.execute(
            f'select * from "{schema}"."{name}" where {MART_ROWS_OF_DATE[table]}', [as_of_date]
        ).fetchdf()


def prepare_mart_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Put DuckDB's pandas output in the shape the rules compare.

    Booleans become 0/1 (a label may be stored either way), time zones are dropped after
    converting to UTC (so any date column compares with the as-of bound), dates held as Python
    objects become timestamps, and money (``*_cny``) is rounded to the cent it is defined to, so a
    sum computed in floating point still equals the amount it should.
    """
    import datetime as _dt

    import pandas as pd
    from pandas.api import types as ptypes

    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if ptypes.is_bool_dtype(column):
            frame[name] = column.astype("int64")
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            frame[name] = column.dt.tz_convert("UTC").dt.tz_localize(None)
        elif ptypes.is_object_dtype(column):
            sample = column.dropna()
            if len(sample) and isinstance(sample.iloc[0], _dt.date):
                frame[name] = pd.to_datetime(column)
            elif name.endswith("_cny"):
                frame[name] = pd.to_numeric(column).round(2)
        elif name.endswith("_cny") and ptypes.is_numeric_dtype(column):
            frame[name] = column.round(2)
    return frame


def validate_warehouse(
    as_of_date: dt.date | str, settings: Settings | None = None
) -> list[QualityResult]:
    """Validate the training sets and the loans mart; raise once if any fails critically.

    Every suite runs before the gate decides, so one run's summaries show every problem.
    """
    from expectations import suites

    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    parameters = {
        suites.AS_OF_DATE_PARAMETER: dt.datetime.combine(as_of_date, dt.time()),
        suites.AS_OF_END_PARAMETER: dt.datetime.combine(
            as_of_date + dt.timedelta(days=1), dt.time()
        ),
    }
    results = []
    for name, table, build in (
        (suites.TRAINING_SET_SUITE, suites.TRAINING_SET_TABLE, suites.training_set_rules),
        (
            suites.FRAUD_TRAINING_SET_SUITE,
            suites.FRAUD_TRAINING_SET_TABLE,
            suites.fraud_training_set_rules,
        ),
        (
            suites.COLLECTIONS_TRAINING_SET_SUITE,
            suites.COLLECTIONS_TRAINING_SET_TABLE,
            suites.collections_training_set_rules,
        ),
        (
            suites.B_CARD_TRAINING_SET_SUITE,
            suites.B_CARD_TRAINING_SET_TABLE,
            suites.b_card_training_set_rules,
        ),
        (suites.LOANS_SUITE, suites.LOANS_TABLE, suites.loans_rules),
    ):
        frame = prepare_mart_frame(read_mart(settings, table, as_of_date))
        rules = build(list(frame.columns), settings)
        results.append(
            _run_suite(
                settings,
                suites.warehouse_suite(name, table, rules),
                "pandas",
                table.split(".", 1)[1],
                frame,
                as_of_date,
                skipped=rules.skipped,
                parameters=parameters,
            )
        )
    lake = Lake.from_settings(settings)
    for result in results:
        ledger.record(lake, gate_record(result, "warehouse", None))
    failed = [r for r in results if not r.success]
    if failed:
        raise QualityGateError(failed)
    return results
