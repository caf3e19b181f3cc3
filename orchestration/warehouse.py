"""The ``transform__warehouse`` DAG: bronze → staging → intermediate → marts, then quality gates.

dbt runs through astronomer-cosmos, one Airflow task per layer of the project (``dbt build`` of
the layer's models and their tests, so a failed test stops its dependants and every later layer);
parsing the DAG file never runs dbt. Every build is pinned to the run's logical date through the
environment variable ``CREDITLAKE_AS_OF_DATE`` (``orchestration.dbt.dbt_env``); each mart row is
owned by one date and a build replaces only its date's rows (incremental models,
``dbt_project/README.md``), so a backfill of a date rewrites that date alone,
and any order of dates gives the same warehouse. Beside the build, ``check_source_freshness`` runs
``dbt source freshness`` for the date against the sources' SLAs (``orchestration.freshness``).
"""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

from airflow.sdk import DAG, TaskGroup, chain, dag, task
from cosmos.config import ProfileConfig
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator

from creditlake.settings import DBT_PROJECT_DIR, get_settings
from creditlake.sources import SOURCES
from orchestration.common import (
    AS_OF_DATE_MACROS,
    AS_OF_DATE_TEMPLATE,
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    bronze_asset,
    dag_doc,
    fail_on,
    marts_asset,
    parse_settings,
    quality_docs_task,
    timetable,
)

#: DuckDB takes one writer at a time: every dbt task shares this one-slot pool.
WAREHOUSE_POOL = "warehouse_writer"


def ensure_warehouse_pool() -> None:
    """Create the one-slot pool in the configured Airflow metadata database (the demo's SQLite
    one, or the stack's PostgreSQL one at ``stack up``); a pool that exists is left as it is."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        WAREHOUSE_POOL, 1, "DuckDB takes one writer at a time", include_deferred=False
    )


def _bronze_ready(context: dict[str, Any]) -> str | None:
    """The first source whose delivery for the date is not published in the lake, if any.

    Readiness is the ledger's fact (published after its gate passed), not a file's existence.
    """
    from creditlake.lake import Lake
    from creditlake.ledger import PUBLISHED, deliveries

    as_of_date = as_of_date_of(context)
    # One read of the date's ledger rows (oldest first), not one per source.
    latest = {d.source: d for d in deliveries(Lake.from_settings(get_settings()), None, as_of_date)}
    for source in SOURCES:
        delivery = latest.get(source)
        if delivery is None or delivery.status != PUBLISHED:
            state = "nothing recorded" if delivery is None else delivery.status
            return f"published bronze delivery of {source} for {as_of_date} (ledger: {state})"
    return None


#: The dbt project's layers, built in this order, one ``dbt build`` (models and their tests) each.
DBT_LAYERS = ("staging", "intermediate", "marts")
#: dbt's ``--indirect-selection`` for the layers: a test is selected with a layer when its parents
#: are in the layer or upstream of it, so each test runs exactly once, after all of its parents.
INDIRECT_SELECTION = "buildable"


class DbtLayerBuildOperator(DbtBuildLocalOperator):
    """Cosmos's ``dbt build``, leaving the process environment as it found it.

    Cosmos copies the task's ``env`` into ``os.environ`` for its OpenLineage parser and never
    restores it. Where one process runs many DAG runs (``dag.test``: the demo and the tests), the
    next dbt call in that process then inherited this run's warehouse path and dbt flags.
    """

    def execute(self, context: Any) -> Any:
        with mock.patch.dict(os.environ):  # restores the environment on the way out
            return super().execute(context)


def _dbt_task_group() -> TaskGroup:
    """One Cosmos ``dbt build`` task per layer of the project, in layer order.

    A task per layer, not per model: each dbt invocation costs about a second of fixed work (and
    Cosmos copies the project for it), which one task per model paid ~40 times per date. A layer's
    task builds its models and runs their tests in dependency order, so a failed test still skips
    everything downstream of it and fails the task, and no later layer starts; the task's log
    lists every model and test with its status and time.
    """
    from orchestration.dbt import PROFILES_DIR, SCHEDULED_BUILD_EXCLUDES, dbt_env, dbt_vars

    settings = parse_settings()
    profile = ProfileConfig(
        profile_name="creditlake",
        target_name="dev",
        profiles_yml_filepath=PROFILES_DIR / "profiles.yml",
    )
    with TaskGroup(group_id="dbt") as group:
        layers = [
            DbtLayerBuildOperator(
                task_id=layer,
                doc_md=f"`dbt build --select path:models/{layer}` (data tests, not unit tests) as "
                "of the logical date.",
                project_dir=str(DBT_PROJECT_DIR),
                profile_config=profile,
                invocation_mode=InvocationMode.DBT_RUNNER,
                select=[f"path:models/{layer}"],
                exclude=list(SCHEDULED_BUILD_EXCLUDES),
                # A test runs with the layer of its last parent: a relationships test from a mart to
                # an intermediate model runs with the marts, once both exist (dbt's default would
                # run it with the intermediate layer, before the mart is built).
                indirect_selection=INDIRECT_SELECTION,
                vars=dbt_vars(settings),
                env=dbt_env(settings, AS_OF_DATE_TEMPLATE),
                append_env=True,
                install_deps=False,
                emit_datasets=False,
                pool=WAREHOUSE_POOL,
            )
            for layer in DBT_LAYERS
        ]
        chain(*layers)
    return group


def build_warehouse_dag(doc_md: str | None) -> DAG:
    @dag(
        dag_id="transform__warehouse",
        schedule=timetable("@daily"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["transform", "dbt", "warehouse"],
        doc_md=dag_doc(doc_md),
        default_args=DEFAULT_ARGS,
        user_defined_macros=AS_OF_DATE_MACROS,
    )
    def transform() -> None:
        wait = WaitSensor(
            task_id="wait_for_bronze",
            check=_bronze_ready,
            inlets=[bronze_asset(source) for source in SOURCES],
        )

        @task(outlets=[marts_asset()], pool=WAREHOUSE_POOL)
        def validate_warehouse(**context: Any) -> list[dict]:
            """Great Expectations on the training set and loans; critical failures stop here."""
            from expectations.validate import (
                MissingDataError,
                QualityGateError,
                validate_warehouse,
            )
            from orchestration.dbt import release_warehouse
            from orchestration.lineage_events import reporting_quality

            release_warehouse()  # dbt-duckdb keeps the file open in this process after Cosmos
            # the gates' results reach the task's lineage as facets of the marts they validated
            gate = reporting_quality(context, validate_warehouse)
            run = fail_on(QualityGateError, MissingDataError)(gate)
            return [result.to_dict() for result in run(as_of_date_of(context), render_docs=False)]

        @task(pool=WAREHOUSE_POOL)
        def pin_bronze(**context: Any) -> dict:
            """Point the warehouse's bronze views at the lake's published snapshots."""
            from orchestration.dbt import pin_bronze
            from orchestration.lineage_events import declare_pin

            pinned = fail_on()(pin_bronze)(get_settings())
            declare_pin(context, pinned)
            return pinned

        @task(pool=WAREHOUSE_POOL)
        def check_source_freshness(**context: Any) -> dict[str, int]:
            """``dbt source freshness`` as of the date: a ``warn`` is recorded, an ``error`` fails
            this task without retries (the SLAs are in the dbt sources; see
            :mod:`orchestration.freshness`). A leaf: stale sources alert, they do not stop the
            build of what was delivered."""
            from orchestration.freshness import FreshnessError, check_freshness, latest_counts

            run = fail_on(FreshnessError)(check_freshness)
            return latest_counts(run(get_settings(), as_of_date_of(context)))[1]

        pinned = wait >> pin_bronze()
        pinned >> check_source_freshness()
        pinned >> _dbt_task_group() >> validate_warehouse() >> quality_docs_task()

    return transform()
