"""Factory for the ingestion DAGs: one DAG per source system, one task group per source.

Each source follows write-audit-publish for the run's logical date:
``wait_for_landing`` (sensor on the landing file) → ``load_bronze`` (write: the Spark job types,
tokenises PII, quarantines bad rows and stages the date on an audit branch of the Iceberg tables,
reconciled) → ``validate_bronze`` (audit: Great Expectations on the staged snapshot, in-process
when the ingest ran on DuckDB, on Spark when it ran on Spark; a failed
critical expectation fails the task and marks the delivery rejected) → ``publish_bronze``
(publish: moves the tables' published state to the audited snapshot, only if the ledger says its
gate passed). Downstream reads only published snapshots, and the bronze asset is announced only
by the publish. Where a deployment sets the ingest SLA, every run carries it as an Airflow
deadline alert (``orchestration.deadlines``).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, TaskGroup, dag, task

from creditlake import preflight
from creditlake.sources import DOMAINS, get_source
from orchestration.common import (
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    bronze_asset,
    check_configuration,
    dag_doc,
    fail_on,
    parse_settings,
    quality_docs_task,
    timetable,
)
from orchestration.deadlines import ingest_deadline


def _landing_check(source_name: str):
    def check(context: dict[str, Any]) -> str | None:
        from creditlake.landing import Landing

        source = get_source(source_name)
        landing = Landing.from_settings()
        as_of_date = as_of_date_of(context)
        if landing.exists(source.name, as_of_date, source.file_name):
            return None
        return f"landing file {landing.location(source.name, as_of_date, source.file_name)}"

    return check


def _load_bronze(source_name: str):
    @task(task_id="load_bronze")
    def load_bronze(**context: Any) -> dict:
        """Run the Spark ingestion job for this source and date; fails if it does not reconcile."""
        from creditlake.lake import LakeError
        from creditlake.landing import LandingError
        from orchestration.lineage_events import declare_ingest
        from spark_jobs.ingest import IngestError, main

        declare_ingest(context, source_name)
        run = fail_on(IngestError, LandingError, LakeError)(main)
        return run(source_name, as_of_date_of(context)).to_dict()

    return load_bronze


def _validate_bronze(source_name: str):
    @task(task_id="validate_bronze")
    def validate_bronze(**context: Any) -> dict:
        """Run the source's Great Expectations suite on the staged partition; record the verdict.

        In-process (pandas) after a DuckDB ingest, so the task starts no JVM; on Spark after a
        Spark ingest (``expectations.validate.gate_engine``)."""
        from creditlake.settings import get_settings
        from expectations.column_types import SPARK
        from expectations.validate import (
            MissingDataError,
            QualityGateError,
            gate_engine,
            validate_bronze,
        )
        from orchestration.lineage_events import reporting_quality

        # the gate's results reach the task's lineage as facets of the table it validated
        gate = reporting_quality(context, validate_bronze)
        run = fail_on(QualityGateError, MissingDataError)(gate)
        settings = get_settings()
        spark = None
        if gate_engine(settings) == SPARK:
            from creditlake.spark import get_spark

            spark = get_spark("creditlake-quality", settings)
        return run(
            source_name, as_of_date_of(context), spark, settings, render_docs=False
        ).to_dict()

    return validate_bronze


def _publish_bronze(source_name: str):
    @task(task_id="publish_bronze", outlets=[bronze_asset(source_name)])
    def publish_bronze(**context: Any) -> dict:
        """Publish the staged delivery that its gate passed (quarantine, bronze, then ledger)."""
        from creditlake.lake import Lake, LakeError
        from creditlake.ledger import publish_delivery
        from creditlake.settings import get_settings
        from expectations.names import bronze_suite_name
        from orchestration.lineage_events import declare_publish

        declare_publish(context, source_name)
        lake = Lake.from_settings(get_settings())
        run = fail_on(LakeError)(publish_delivery)
        suite = bronze_suite_name(source_name)
        return run(lake, source_name, as_of_date_of(context), suite).to_dict()

    return publish_bronze


def build_ingest_dag(domain: str, doc_md: str | None) -> DAG:
    """The ``ingest__<domain>`` DAG for every source the registry puts in ``domain``."""

    @dag(
        dag_id=f"ingest__{domain}",
        schedule=timetable("@daily"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ingest", "bronze", domain],
        doc_md=dag_doc(doc_md),
        # ingesting needs the PII key and the landing zone too: checked before every task
        default_args={**DEFAULT_ARGS, "pre_execute": check_configuration(*preflight.EVERYTHING)},
        deadline=ingest_deadline(parse_settings()),
    )
    def ingest() -> None:
        gates = []
        for source_name in DOMAINS[domain]:
            with TaskGroup(group_id=source_name):
                wait = WaitSensor(task_id="wait_for_landing", check=_landing_check(source_name))
                loaded = _load_bronze(source_name)()
                validated = _validate_bronze(source_name)()
                published = _publish_bronze(source_name)()
                wait >> loaded >> validated >> published
            gates.append(validated)
        gates >> quality_docs_task()

    return ingest()
