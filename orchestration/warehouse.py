"""The ``transform__warehouse`` DAG: bronze → staging → intermediate → marts, then quality gates.

dbt runs through astronomer-cosmos, one Airflow task per model (``dbt build`` of the model and its
tests, so a failed test stops its dependants), rendered from the parsed manifest so that parsing the
DAG file never runs dbt. Every build is pinned to the run's logical date through the dbt var
``as_of_date``; each mart row is owned by one date and a build replaces only its date's rows
(incremental models, ``dbt_project/README.md``), so a backfill of a date rewrites that date alone,
and any order of dates gives the same warehouse.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, dag, task

from creditlake.settings import DBT_MANIFEST_PATH, DBT_PROJECT_DIR, get_settings
from creditlake.sources import SOURCES
from orchestration.common import (
    AS_OF_DATE_MACROS,
    AS_OF_DATE_TEMPLATE,
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    bronze_asset,
    fail_on,
    marts_asset,
)

#: DuckDB takes one writer at a time: every dbt task shares this one-slot pool.
WAREHOUSE_POOL = "warehouse_writer"


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


def _dbt_task_group():
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior

    from orchestration.dbt import PROFILES_DIR, dbt_env, dbt_vars

    settings = get_settings()
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST_PATH,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="creditlake",
            target_name="dev",
            profiles_yml_filepath=PROFILES_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,
            # A relationships test reads two models: run it once both exist, as its own task.
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            "vars": dbt_vars(AS_OF_DATE_TEMPLATE, settings),
            # Each task's dbt writes its manifest.json (~0.25 s) to a temporary copy of the
            # project that is then deleted; the manifest Cosmos renders from comes from parse.
            "env": {**dbt_env(settings), "DBT_WRITE_JSON": "false"},
            "append_env": True,
            "install_deps": False,
            "pool": WAREHOUSE_POOL,
        },
    )


def build_warehouse_dag(doc_md: str | None) -> DAG:
    @dag(
        dag_id="transform__warehouse",
        schedule="@daily",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["transform", "dbt", "warehouse"],
        doc_md=doc_md,
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

            release_warehouse()  # dbt-duckdb keeps the file open in this process after Cosmos
            run = fail_on(QualityGateError, MissingDataError)(validate_warehouse)
            return [result.to_dict() for result in run(as_of_date_of(context))]

        @task(pool=WAREHOUSE_POOL)
        def pin_bronze() -> dict:
            """Point the warehouse's bronze views at the lake's published snapshots."""
            from orchestration.dbt import pin_bronze

            return pin_bronze(get_settings())

        wait >> pin_bronze() >> _dbt_task_group() >> validate_warehouse()

    return transform()
