"""Producing OpenLineage events: where they go, what datasets are called, what the gates found.

Airflow's OpenLineage provider emits an event when a task starts and when it ends, and Cosmos
adds the inputs and outputs of each dbt build from dbt's own artifacts. This module supplies the
rest:

- **Where events go.** :class:`LineageDirTransport` writes each event as one JSON file under
  ``settings.lineage_dir`` (resolved when the event is written, so it follows the creditlake home
  of the run that emits it); with ``CREDITLAKE_LINEAGE_URL`` the same events also go to an HTTP
  endpoint such as Marquez. :func:`transport_config` is what :mod:`orchestration.runtime` hands
  Airflow as ``[openlineage] transport``.
- **Dataset names** that join up across producers. dbt (through Cosmos) names a warehouse
  relation ``duckdb://<warehouse file>`` / ``<database>.<schema>.<table>``;
  :func:`warehouse_dataset` uses the same rule for the tables Python tasks read, and
  :func:`lake_dataset` names the lake's Iceberg tables ``iceberg://<catalog warehouse>`` /
  ``<namespace>.<table>``, :func:`landing_dataset` a source's landing folder (``file`` or
  ``s3://<bucket>``), :func:`model_dataset` a registered model (its MLflow registry URI without
  credentials / ``models/<name>``).
- **Quality results.** :func:`quality_dataset` turns a Great Expectations gate result into the
  input dataset it validated, carrying ``dataQualityAssertions`` (every expectation, passed or
  failed, with column and severity; no values) and ``dataQualityMetrics`` (row count).
- **Task lineage** declared at run time: :func:`declare_lineage` adds OpenLineage datasets to the
  running task's inlets and outlets, which the provider reports for tasks it has no extractor for
  (``@task`` functions); ``declare_ingest``/``_publish``/``_pin``/``_training``/``_scoring``
  say what each of the platform's tasks reads and writes.
- **DAG-run events for ``dag.test``**: :func:`emit_dag_run` (see its docstring for why).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import attr
from openlineage.client.transport.transport import Config, Transport

from creditlake.settings import Settings, get_settings, read_settings

if TYPE_CHECKING:
    from openlineage.client.event_v2 import Dataset, InputDataset

    from expectations.validate import QualityResult

logger = logging.getLogger(__name__)

#: The import path Airflow's ``[openlineage] transport`` names the file transport by.
TRANSPORT_TYPE = "orchestration.lineage_events.LineageDirTransport"
#: Seconds the HTTP transport waits for the lineage server; a slow server must not stall tasks.
HTTP_TIMEOUT_SECONDS = 5.0
#: The provider's setting that turns off its own DAG-run events (see :func:`emit_dag_run`).
NO_PROVIDER_DAG_EVENTS = '[{"scope": {}, "controls": {"emit_dag_events": false}}]'


# Where events go -------------------------------------------------------------------------------
@attr.define
class LineageDirConfig(Config):
    """No options: the folder comes from settings when each event is written."""

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> LineageDirConfig:
        return cls()


class LineageDirTransport(Transport):
    """Write each event to its own file in ``settings.lineage_dir``, atomically.

    One file per event, written aside and renamed, so that task processes emitting at the same
    time never interleave and a reader never sees half an event. The folder is read from settings
    at each event rather than fixed in Airflow's configuration, because one process may run the
    DAGs of several creditlake homes (the tests do) while Airflow reads its configuration once.
    A wrong value elsewhere in the settings does not stop the event: the task it is about fails
    on that mistake with its own one line, and lineage still records that it ran and failed.
    """

    kind = "creditlake_lineage_dir"
    config_class = LineageDirConfig

    def __init__(self, config: LineageDirConfig) -> None:
        self.config = config

    def emit(self, event: Any) -> None:
        from openlineage.client.serde import Serde

        directory = read_settings()[0].lineage_dir
        directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.json"
        partial = directory / f".{name}.partial"
        partial.write_text(Serde.to_json(event) + "\n", encoding="utf-8")
        os.replace(partial, directory / name)


def transport_config(settings: Settings) -> dict[str, Any]:
    """OpenLineage transport configuration: the lineage folder, plus HTTP when configured.

    With an HTTP endpoint both transports receive every event and a failure of one does not stop
    the other: the governance report reads the files even while the lineage server is down.
    """
    files: dict[str, Any] = {"type": TRANSPORT_TYPE}
    if not settings.lineage_url:
        return files
    http = {"type": "http", "url": settings.lineage_url, "timeout": HTTP_TIMEOUT_SECONDS}
    return {
        "type": "composite",
        "continue_on_failure": True,
        "transports": {"files": files, "http": http},
    }


# Dataset names ---------------------------------------------------------------------------------
def warehouse_dataset(settings: Settings, table: str) -> tuple[str, str]:
    """``(namespace, name)`` of a warehouse relation ``schema.table``, as dbt's events name it.

    openlineage-dbt names a dbt-duckdb relation by the profile's ``path`` and the relation's
    database (the DuckDB file's stem), schema and identifier.
    """
    path = settings.warehouse_path
    return f"duckdb://{path}", f"{path.stem}.{table}"


def lake_dataset(settings: Settings, table: str) -> tuple[str, str]:
    """``(namespace, name)`` of a lake table ``namespace.table`` (Iceberg, any catalog)."""
    location = urlparse(settings.catalog_warehouse)
    return f"iceberg://{location.netloc}{location.path}", table


def landing_dataset(settings: Settings, source: str) -> tuple[str, str]:
    """``(namespace, name)`` of a source's landing folder (every date's delivery lands in it).

    OpenLineage's naming for files: ``file`` with the absolute path, or ``s3://<bucket>`` with
    the key. The folder, not each day's file, so the graph has one node per source.
    """
    location = urlparse(settings.landing_uri)
    if location.scheme == "s3":
        return f"s3://{location.netloc}", f"{location.path.strip('/')}/{source}".lstrip("/")
    return "file", f"{settings.landing_uri.rstrip('/')}/{source}"


def model_dataset(settings: Settings, model: str) -> tuple[str, str]:
    """``(namespace, name)`` of a registered model: its registry (MLflow's tracking URI, without
    any user or password it may carry) and ``models/<name>``."""
    registry = settings.mlflow_tracking_uri
    location = urlparse(registry)
    if location.username or location.password:
        host = (location.hostname or "") + (f":{location.port}" if location.port else "")
        registry = location._replace(netloc=host).geturl()
    return registry, f"models/{model}"


def dataset(namespace_and_name: tuple[str, str]) -> Dataset:
    from openlineage.client.event_v2 import Dataset

    namespace, name = namespace_and_name
    return Dataset(namespace=namespace, name=name)


# Quality results -------------------------------------------------------------------------------
def validated_table(settings: Settings, suite: str) -> tuple[str, str]:
    """``(namespace, name)`` of the table a quality suite guards."""
    from creditlake.lake import bronze_table
    from expectations.names import BRONZE_SUITE_PREFIX, SUITE_OF_TABLE

    for table, table_suite in SUITE_OF_TABLE.items():
        if table_suite == suite:
            return warehouse_dataset(settings, table)
    if suite.startswith(BRONZE_SUITE_PREFIX):
        return lake_dataset(settings, bronze_table(suite.removeprefix(BRONZE_SUITE_PREFIX)))
    raise LookupError(f"no table is known for the quality suite {suite!r}")


def quality_dataset(settings: Settings, result: QualityResult) -> InputDataset:
    """The table a gate validated, with what every expectation found and the rows it read.

    A failed expectation carries its unexpected count as ``actual``: counts only, never the
    values, which could be personal data.
    """
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset as assertions_facet,
    )
    from openlineage.client.facet_v2 import (
        data_quality_metrics_input_dataset as metrics_facet,
    )

    unexpected = {
        (f.type, f.column): f.unexpected_count
        for f in result.failed_expectations
        if f.unexpected_count is not None
    }
    assertions = assertions_facet.DataQualityAssertionsDatasetFacet(
        assertions=[
            assertions_facet.Assertion(
                assertion=check.type,
                success=check.success,
                column=check.column,
                severity=check.severity,
                name=result.suite,
                actual=None
                if check.success or (check.type, check.column) not in unexpected
                else str(unexpected[(check.type, check.column)]),
            )
            for check in result.checked
        ]
    )
    metrics = metrics_facet.DataQualityMetricsInputDatasetFacet(
        columnMetrics={}, rowCount=result.rows
    )
    namespace, name = validated_table(settings, result.suite)
    return InputDataset(
        namespace=namespace,
        name=name,
        # in both places, as openlineage-dbt does: consumers read either
        facets={"dataQualityAssertions": assertions},
        inputFacets={"dataQualityAssertions": assertions, "dataQualityMetrics": metrics},
    )


# Task lineage ----------------------------------------------------------------------------------
def _merged(declared: list[Any], datasets: Iterable[Dataset]) -> list[Any]:
    """``declared`` plus ``datasets``; a dataset declared again replaces the earlier one."""
    added = {(d.namespace, d.name): d for d in datasets}
    kept = [
        item
        for item in declared
        if (getattr(item, "namespace", None), getattr(item, "name", None)) not in added
    ]
    return [*kept, *added.values()]


def declare_lineage(
    context: dict[str, Any],
    inputs: Iterable[Dataset] = (),
    outputs: Iterable[Dataset] = (),
) -> None:
    """Add OpenLineage datasets to the running task's inlets and outlets.

    The provider has no extractor for ``@task`` functions; for those it reports the task's inlets
    and outlets, which may be OpenLineage datasets. Declaring them while the task runs (not when
    the DAG is parsed) keeps DAG files free of settings-dependent paths, and lets a gate attach
    what it found. Airflow ignores these objects for asset events (they are not assets). Lists
    are replaced, never appended to, so nothing leaks into the task's definition.
    """
    task = context.get("task")
    if task is None:  # called outside a task run (a direct call, a test): nothing reports it
        return
    task.inlets = _merged(list(task.inlets or []), inputs)
    task.outlets = _merged(list(task.outlets or []), outputs)


def declare_ingest(context: dict[str, Any], source: str) -> None:
    """Lineage of a source's ingest: its landing folder into its bronze and quarantine tables."""
    from creditlake.lake import bronze_table, quarantine_table

    settings = get_settings()
    declare_lineage(
        context,
        inputs=[dataset(landing_dataset(settings, source))],
        outputs=[
            dataset(lake_dataset(settings, table))
            for table in (bronze_table(source), quarantine_table(source))
        ],
    )


def declare_publish(context: dict[str, Any], source: str) -> None:
    """Lineage of publishing a delivery: it writes the bronze table's published state."""
    from creditlake.lake import bronze_table

    declare_lineage(context, outputs=[dataset(lake_dataset(get_settings(), bronze_table(source)))])


def declare_pin(context: dict[str, Any], sources: Iterable[str]) -> None:
    """Lineage of pinning bronze into the warehouse: lake tables into the views dbt reads.

    The views are dbt's sources (``<database>.bronze.<source>``), so this edge joins the lake's
    side of the graph to the models Cosmos reports.
    """
    from creditlake.lake import bronze_table

    settings = get_settings()
    sources = list(sources)
    declare_lineage(
        context,
        inputs=[dataset(lake_dataset(settings, bronze_table(s))) for s in sources],
        outputs=[dataset(warehouse_dataset(settings, f"bronze.{s}")) for s in sources],
    )


def declare_training(context: dict[str, Any], model: str) -> None:
    """Lineage of training: the model's training table into its registered model."""
    from ml.names import model_target

    settings = get_settings()
    table = model_target(model).training_table
    declare_lineage(
        context,
        inputs=[dataset(warehouse_dataset(settings, table))],
        outputs=[dataset(model_dataset(settings, model))],
    )


def declare_scoring(context: dict[str, Any]) -> None:
    """Lineage of scoring: the day's application features and the models that score them into
    the scores and decisions tables."""
    from ml.names import FEATURES_TABLE, MODELS
    from ml.score import DECISIONS_TABLE, SCORES_TABLE

    settings = get_settings()
    scorers = [name for name, target in MODELS.items() if target.features_table == FEATURES_TABLE]
    declare_lineage(
        context,
        inputs=[
            dataset(warehouse_dataset(settings, FEATURES_TABLE)),
            *(dataset(model_dataset(settings, name)) for name in scorers),
        ],
        outputs=[
            dataset(warehouse_dataset(settings, table)) for table in (SCORES_TABLE, DECISIONS_TABLE)
        ],
    )


def reporting_quality(context: dict[str, Any], gate: Any) -> Any:
    """Wrap a quality gate so that its results reach the task's lineage, passed or failed.

    ``gate`` returns one :class:`~expectations.validate.QualityResult` or a list, and raises
    :class:`~expectations.validate.QualityGateError` (carrying the failed results) when a
    critical expectation fails; either way the validated tables become the task's inputs with
    the results attached, before the error propagates.
    """
    from expectations.validate import QualityGateError

    def run(*args: Any, **kwargs: Any) -> Any:
        settings = get_settings()
        try:
            outcome = gate(*args, **kwargs)
        except QualityGateError as error:
            declare_lineage(context, [quality_dataset(settings, r) for r in error.results])
            raise
        results = outcome if isinstance(outcome, list) else [outcome]
        declare_lineage(context, [quality_dataset(settings, r) for r in results])
        return outcome

    run.__name__ = getattr(gate, "__name__", "gate")
    run.__doc__ = gate.__doc__
    return run


# DAG-run events for dag.test -------------------------------------------------------------------
def emit_dag_run(dag_run: Any) -> None:
    """Emit the DAG-level START and COMPLETE (or FAIL) events of a finished ``dag.test`` run.

    Under a scheduler, the provider emits these itself: the scheduler announces a started run
    and the run's last state change announces its end. ``dag.test`` (the demo, the tests) runs no
    scheduler, so nothing announces the start; and the provider sends the end through a process
    pool, asynchronously, forked from this process. So in-process runs turn the provider's own
    DAG-run events off (:data:`NO_PROVIDER_DAG_EVENTS`, set by :mod:`orchestration.demo`) and
    call this after each run: the same events, built by the provider's adapter and facet
    helpers, written before the next run starts. The START carries the time the run's first task
    started; task events name this run as their parent through the same run id.
    """
    from airflow.providers.openlineage import conf

    if conf.is_disabled():
        return
    try:
        _emit_dag_run(dag_run)
    except Exception:  # lineage must never fail the run it describes
        logger.warning("no OpenLineage events for DAG run %s", dag_run.run_id, exc_info=True)


def _emit_dag_run(dag_run: Any) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener
    from airflow.providers.openlineage.utils.utils import (
        get_airflow_dag_run_facet,
        get_airflow_job_facet,
        get_dag_documentation,
        get_dag_parent_run_facet,
        is_dag_run_asset_triggered,
    )
    from airflow.utils.state import DagRunState

    dag = dag_run.dag
    description, description_type = get_dag_documentation(dag)
    interval = (dag_run.data_interval_start, dag_run.data_interval_end)
    common: dict[str, Any] = {
        "dag_id": dag_run.dag_id,
        "run_id": dag_run.run_id,
        "logical_date": dag_run.logical_date or dag_run.run_after,
        "nominal_start_time": interval[0].isoformat() if interval[0] else None,
        "nominal_end_time": interval[1].isoformat() if interval[1] else None,
        "clear_number": dag_run.clear_number,
        "owners": [owner.strip() for owner in dag.owner.split(",")],
        "tags": list(dag.tags or []),
        "job_description": description,
        "job_description_type": description_type,
        "run_facets": {
            **get_airflow_dag_run_facet(dag_run),
            **get_dag_parent_run_facet(getattr(dag_run, "conf", None) or {}),
        },
        "is_asset_triggered": is_dag_run_asset_triggered(dag_run),
    }
    adapter = get_openlineage_listener().adapter
    # dag.test records the logical date as the run's start; its first task's start is the real one
    started = [ti.start_date for ti in dag_run.get_task_instances() if ti.start_date]
    adapter.dag_started(
        start_date=min(started, default=dag_run.start_date),
        job_facets=get_airflow_job_facet(dag_run=dag_run),
        **common,
    )
    state = dag_run.get_state()
    ended: dict[str, Any] = {
        "end_date": dag_run.end_date,
        "dag_run_state": state,
        "task_ids": DagRun._get_partial_task_ids(dag),
    }
    if state == DagRunState.SUCCESS:
        adapter.dag_success(**common, **ended)
    else:
        adapter.dag_failed(**common, **ended, msg=f"DAG run ended {state}")
