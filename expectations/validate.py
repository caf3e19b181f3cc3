"""Quality gates: run a suite's checkpoint, write a compact summary, stop on critical failures.

``validate_bronze`` guards one bronze partition right after the ingest job staged it;
``validate_warehouse`` guards the marts the models train on right after dbt built them. Both:

1. run the suite's GX checkpoint, which stores the validation result (``settings.gx_dir``), and
   queue its Data Docs pages, rendered at once or by the DAG run's ``publish_quality_docs``
   (:mod:`expectations.data_docs`), keeping counts but never unexpected values (see
   :data:`expectations.context.RESULT_FORMAT`). Bronze is validated in this process on pandas
   after a DuckDB ingest and on Spark after a Spark ingest (:func:`gate_engine`);
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
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, parse_date
from creditlake.ledger import Delivery, GateResult
from creditlake.settings import Settings, get_settings
from creditlake.sources import PARTITION_COLUMN, get_source
from expectations.column_types import PANDAS, SPARK, to_pandas
from expectations.context import data_docs_index
from expectations.names import MART_ROWS_OF_DATE
from expectations.results import (
    CheckedExpectation,
    FailedExpectation,
    MissingDataError,
    QualityGateError,
    QualityResult,
    quality_summaries_dir,
    summarise,
    summary_path,
    write_summary,
)

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "CheckedExpectation",
    "FailedExpectation",
    "MissingDataError",
    "QualityGateError",
    "QualityResult",
    "data_docs_index",
    "gate_engine",
    "quality_summaries_dir",
    "summarise",
    "summary_path",
    "validate_bronze",
    "validate_warehouse",
    "write_summary",
]

logger = logging.getLogger(__name__)


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
    rows: int | None = None,
    render_docs: bool = True,
) -> QualityResult:
    """Run ``suite``'s checkpoint on ``dataframe`` and write its summary. ``rows`` is the row
    count when the caller knows it and GX does not report one (a Spark frame is not counted).

    The stored result is queued for Data Docs (:mod:`expectations.data_docs`); with
    ``render_docs`` its pages and the index are rendered before returning, otherwise by whoever
    renders the queue next (the DAG run's ``publish_quality_docs``).
    """
    import great_expectations as gx

    from expectations.context import (
        checkpoint_for,
        dataframe_batch_definition,
        get_context,
        project_lock,
        remember_project_state,
    )
    from expectations.data_docs import queue_pages, render_data_docs

    with project_lock(settings):
        context = get_context(settings)
        batch_definition = dataframe_batch_definition(
            context, engine, asset, suite.meta.get("layer", "warehouse")
        )
        checkpoint = checkpoint_for(context, suite, batch_definition)
        run = checkpoint.run(
            batch_parameters={"dataframe": dataframe},
            expectation_parameters=parameters or {},
            run_id=gx.RunIdentifier(
                run_name=as_of_date.isoformat(), run_time=dt.datetime.now(dt.UTC)
            ),
        )
        (identifier,) = run.run_results
        queue_pages(settings, identifier)
        remember_project_state(settings)
    if render_docs:
        render_data_docs(settings)
    (validation,) = run.run_results.values()
    path = summary_path(settings, suite.name, as_of_date)
    result = summarise(validation, suite.name, as_of_date, skipped)
    result = replace(
        result,
        rows=rows if result.rows is None else result.rows,
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


def gate_engine(settings: Settings) -> str:
    """The engine the bronze gate validates on: pandas in this process when the ingest runs on
    in-process DuckDB (no JVM is started for the gate either), Spark on the cluster path."""
    return PANDAS if settings.ingest_engine == "duckdb" else SPARK


def staged_delivery(lake: Lake, source: str, as_of_date: dt.date) -> Delivery:
    """The ledger's latest delivery of the date, which must be staged (or already published)."""
    delivery = ledger.latest_delivery(lake, source, as_of_date)
    if delivery is None or delivery.status not in (ledger.STAGED, ledger.PUBLISHED):
        state = "nothing" if delivery is None else f"a delivery that is {delivery.status}"
        raise MissingDataError(
            f"no staged bronze delivery of {source} for {as_of_date.isoformat()} in the lake "
            f"ledger (found {state}): run its ingestion first"
        )
    return delivery


def read_staged_bronze(
    spark: SparkSession, lake: Lake, source: str, as_of_date: dt.date
) -> tuple[Delivery, DataFrame]:
    """The date's staged (or already published) bronze partition, as Spark sees it.

    The gate audits exactly the snapshot the ingest staged and the ledger recorded: the data
    files of that snapshot's partition. Spark reads local files in place; files in object storage
    come through the lake's own reader (classic Spark here has no S3 connector).
    """
    delivery = staged_delivery(lake, source, as_of_date)
    table = bronze_table(source)
    files = lake.partition_files(table, as_of_date, delivery.bronze_snapshot_id)
    local = [f.local_path for f in files]
    if files and all(local):
        frame = spark.read.parquet(*local)
    else:
        frame = spark.createDataFrame(lake.read(table, as_of_date, delivery.bronze_snapshot_id))
    return delivery, frame.drop(PARTITION_COLUMN)


def read_staged_bronze_pandas(
    lake: Lake, source: str, as_of_date: dt.date
) -> tuple[Delivery, pd.DataFrame]:
    """The same partition as :func:`read_staged_bronze`, read once into this process as pandas.

    Local data files are read as written, as Spark reads them (a file typed differently from
    the table is then seen as it is, and fails its type rule on both engines); files in object
    storage through the lake's reader. The dtypes are those of
    :func:`expectations.column_types.to_pandas`, which the suite's type rules name.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    delivery = staged_delivery(lake, source, as_of_date)
    table = bronze_table(source)
    files = lake.partition_files(table, as_of_date, delivery.bronze_snapshot_id)
    local = [f.local_path for f in files]
    if files and all(local):
        arrow = pa.concat_tables([pq.read_table(path) for path in local], promote_options="none")
    else:
        arrow = lake.read(table, as_of_date, delivery.bronze_snapshot_id)
    if PARTITION_COLUMN in arrow.column_names:
        arrow = arrow.drop_columns([PARTITION_COLUMN])
    return delivery, to_pandas(arrow)


def validate_bronze(
    source: str,
    as_of_date: dt.date | str,
    spark: SparkSession | None = None,
    settings: Settings | None = None,
    render_docs: bool = True,
) -> QualityResult:
    """Audit the staged ``as_of_date`` partition of ``source``'s bronze table with its suite.

    The verdict is recorded in the lake ledger against the exact snapshot read, which is what
    :func:`creditlake.ledger.publish_delivery` requires before it publishes. A critical failure
    marks the delivery rejected (its stage stays on the audit branch, unpublished) and raises.
    The engine follows :func:`gate_engine`: on pandas ``spark`` is not used (and pyspark is
    never imported); on Spark the caller brings the session (the orchestration asks
    ``creditlake.spark`` for it). ``render_docs=False`` leaves the Data Docs pages to the
    DAG run's ``publish_quality_docs`` (:mod:`expectations.data_docs`).
    """
    from expectations.suites import bronze_suite

    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    registered = get_source(source)
    engine = gate_engine(settings)
    if engine == SPARK and spark is None:
        raise ValueError(
            f"the bronze gate runs on Spark (ingest_engine={settings.ingest_engine!r}, "
            "CREDITLAKE_INGEST_ENGINE): pass it a SparkSession"
        )
    lake = Lake.from_settings(settings)
    if engine == PANDAS:
        delivery, frame = read_staged_bronze_pandas(lake, registered.name, as_of_date)
    else:
        delivery, frame = read_staged_bronze(spark, lake, registered.name, as_of_date)
    suite = bronze_suite(registered, settings, engine)
    try:
        result = _run_suite(
            settings,
            suite,
            engine,
            registered.name,
            frame,
            as_of_date,
            rows=delivery.bronze_rows,  # the ledger's count of exactly this staged snapshot
            render_docs=render_docs,
        )
    finally:
        if engine == SPARK:
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
    as_of_date: dt.date | str, settings: Settings | None = None, render_docs: bool = True
) -> list[QualityResult]:
    """Validate the training sets and the loans mart; raise once if any fails critically.

    Every suite runs before the gate decides, so one run's summaries show every problem. With
    ``render_docs`` the Data Docs of all five validations are rendered together at the end (one
    index build); without, the DAG run's ``publish_quality_docs`` renders them.
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
                render_docs=False,
            )
        )
    if render_docs:
        from expectations.data_docs import render_data_docs

        render_data_docs(settings)
    lake = Lake.from_settings(settings)
    for result in results:
        ledger.record(lake, gate_record(result, "warehouse", None))
    failed = [r for r in results if not r.success]
    if failed:
        raise QualityGateError(failed)
    return results
