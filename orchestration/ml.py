"""The model DAGs: train and register ``credit_pd``; score each as_of_date's applications."""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, dag, task

from creditlake.settings import get_settings
from orchestration.common import (
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    fail_on,
    marts_asset,
    model_asset,
    scores_asset,
)


def _warehouse_validated(context: dict[str, Any]) -> str | None:
    """Scoring and training wait for the warehouse quality gate of their date to have passed.

    The gate's verdict is a row in the lake ledger (``lake.gate_results``), written by the gate
    itself; a failed or missing verdict keeps the model DAGs waiting, then failing, for the date.
    """
    from creditlake.lake import Lake
    from creditlake.ledger import latest_gate
    from expectations.names import LOANS_SUITE, TRAINING_SET_SUITE

    lake = Lake.from_settings(get_settings())
    as_of_date = as_of_date_of(context)
    for suite in (TRAINING_SET_SUITE, LOANS_SUITE):
        verdict = latest_gate(lake, suite, as_of_date)
        if verdict is None or not verdict.passed:
            state = "no verdict" if verdict is None else f"failed: {verdict.detail}"
            return f"passed warehouse gate {suite} for {as_of_date} ({state})"
    return None


def build_train_dag(doc_md: str | None) -> DAG:
    @dag(
        dag_id="ml__train_credit_pd",
        schedule="@weekly",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ml", "mlflow", "credit_pd", "a-card"],
        doc_md=doc_md,
        default_args={**DEFAULT_ARGS, "owner": "ml-engineering"},
    )
    def train_dag() -> None:
        wait = WaitSensor(
            task_id="wait_for_warehouse", check=_warehouse_validated, inlets=[marts_asset()]
        )

        @task(outlets=[model_asset()])
        def train_and_register(**context: Any) -> dict:
            """Train the scorecard and LightGBM out of time, register both, gate the champion."""
            from ml.train import main
            from orchestration.dbt import release_warehouse

            release_warehouse()
            return main(as_of_date_of(context)).to_dict()

        wait >> train_and_register()

    return train_dag()


def build_score_dag(doc_md: str | None) -> DAG:
    @dag(
        dag_id="ml__score_applications",
        schedule="@daily",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ml", "scoring", "credit_pd"],
        doc_md=doc_md,
        default_args={**DEFAULT_ARGS, "owner": "ml-engineering"},
    )
    def score_dag() -> None:
        wait = WaitSensor(
            task_id="wait_for_warehouse",
            check=_warehouse_validated,
            inlets=[marts_asset(), model_asset()],
        )

        @task(outlets=[scores_asset()], pool="warehouse_writer")
        def score_applications(**context: Any) -> dict:
            """Batch-score the as_of_date's applications with ``models:/credit_pd@champion``."""
            from ml.score import NoChampionError, main
            from orchestration.dbt import release_warehouse

            release_warehouse()
            return fail_on(NoChampionError)(main)(as_of_date_of(context)).to_dict()

        wait >> score_applications()

    return score_dag()
