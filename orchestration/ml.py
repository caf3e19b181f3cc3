"""The model DAGs: train and register each model of ``ml.names.MODELS``; score and decide."""

from __future__ import annotations

from functools import partial
from typing import Any

from airflow.sdk import DAG, dag, task

from creditlake.settings import get_settings
from orchestration.common import (
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    dag_doc,
    fail_on,
    marts_asset,
    model_asset,
    scores_asset,
    timetable,
)


def _warehouse_validated(context: dict[str, Any], model: str = "credit_pd") -> str | None:
    """Scoring and training wait for the warehouse quality gate of their date to have passed.

    The gates are those of the model's training table and of the loans mart. Their verdicts are
    rows in the lake ledger (``lake.gate_results``), written by the gates themselves; a failed or
    missing verdict keeps the model DAGs waiting, then failing, for the date.
    """
    from creditlake.lake import Lake
    from creditlake.ledger import latest_gate
    from expectations.names import LOANS_SUITE, SUITE_OF_TABLE
    from ml.names import model_target

    lake = Lake.from_settings(get_settings())
    as_of_date = as_of_date_of(context)
    for suite in (SUITE_OF_TABLE[model_target(model).training_table], LOANS_SUITE):
        verdict = latest_gate(lake, suite, as_of_date)
        if verdict is None or not verdict.passed:
            state = "no verdict" if verdict is None else f"failed: {verdict.detail}"
            return f"passed warehouse gate {suite} for {as_of_date} ({state})"
    return None


#: Tags of each model's training DAG, beside "ml" and "mlflow".
MODEL_TAGS = {
    "credit_pd": ["a-card"],
    "fraud": ["anti-fraud"],
    "b_card": ["behaviour"],
    "c_card": ["collections"],
}


def build_train_dag(doc_md: str | None, model: str = "credit_pd") -> DAG:
    """The weekly training DAG ``ml__train_<model>`` of one model of :data:`ml.names.MODELS`."""

    @dag(
        dag_id=f"ml__train_{model}",
        schedule=timetable("@weekly"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ml", "mlflow", model, *MODEL_TAGS.get(model, [])],
        doc_md=dag_doc(doc_md),
        default_args={**DEFAULT_ARGS, "owner": "ml-engineering"},
    )
    def train_dag() -> None:
        wait = WaitSensor(
            task_id="wait_for_warehouse",
            check=partial(_warehouse_validated, model=model),
            inlets=[marts_asset()],
        )

        @task(outlets=[model_asset(model)])
        def train_and_register(**context: Any) -> dict:
            """Train the scorecard and LightGBM out of time, register both, gate the champion."""
            from ml.train import main
            from orchestration.dbt import release_warehouse
            from orchestration.lineage_events import declare_training

            release_warehouse()
            declare_training(context, model)
            return fail_on()(main)(as_of_date_of(context), model=model).to_dict()

        wait >> train_and_register()

    return train_dag()


def build_score_dag(doc_md: str | None) -> DAG:
    @dag(
        dag_id="ml__score_applications",
        schedule=timetable("@daily"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ml", "scoring", "decisions", "credit_pd", "fraud", "b_card", "c_card"],
        doc_md=dag_doc(doc_md),
        default_args={**DEFAULT_ARGS, "owner": "ml-engineering"},
    )
    def score_dag() -> None:
        wait = WaitSensor(
            task_id="wait_for_warehouse",
            check=_warehouse_validated,
            inlets=[
                marts_asset(),
                *(model_asset(name) for name in ("credit_pd", "fraud", "b_card", "c_card")),
            ],
        )

        @task(outlets=[scores_asset()], pool="warehouse_writer")
        def score_applications(**context: Any) -> dict:
            """Score the as_of_date's applications with each champion, then decide each one."""
            from ml.score import NoChampionError, main
            from orchestration.dbt import release_warehouse
            from orchestration.lineage_events import declare_scoring

            release_warehouse()
            declare_scoring(context)
            return fail_on(NoChampionError)(main)(as_of_date_of(context)).to_dict()

        @task
        def report_portfolio(**context: Any) -> dict:
            """Vintage curves, roll rates and scores by decision as known today, to MLflow."""
            from ml.portfolio import main

            return fail_on()(main)(as_of_date_of(context)).to_dict()

        @task(pool="warehouse_writer")
        def order_collections_queue(**context: Any) -> dict:
            """Today's entries into collections, the least likely to cure first (c_card)."""
            from ml.queue import main
            from orchestration.dbt import release_warehouse

            release_warehouse()
            return fail_on()(main)(as_of_date_of(context)).to_dict()

        @task(pool="warehouse_writer")
        def propose_limits(**context: Any) -> dict:
            """The month end's active book scored by b_card (pandas here, Spark on a cluster)."""
            from ml.limits import main
            from orchestration.dbt import release_warehouse

            release_warehouse()
            return fail_on()(main)(as_of_date_of(context)).to_dict()

        scored = score_applications()
        wait >> scored >> report_portfolio()
        scored >> [order_collections_queue(), propose_limits()]

    return score_dag()
