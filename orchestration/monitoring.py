"""The weekly monitoring DAG: every champion's stability and maturing performance (ml.monitoring).

One task per model of :data:`ml.names.MODELS`, so a model whose month fails is visible at a glance
in the grid and does not hide the others. Severities map to task states the way data rules do
(:mod:`creditlake.severity`): ``fail`` fails the task without retries, *after* its rows and plot
are written (the evidence must be there for whoever is paged); ``warn`` is logged and the task
succeeds; a model with no champion yet is skipped. A champion or table that cannot be monitored
(:class:`ml.monitoring.MonitoringError`) fails at once too: retrying would not fix it.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import DAG, Asset, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ml.names import MODELS as MODEL_TARGETS
from orchestration.common import (
    DEFAULT_ARGS,
    START_DATE,
    WaitSensor,
    as_of_date_of,
    dag_doc,
    fail_on,
    marts_asset,
    timetable,
)
from orchestration.ml import _warehouse_validated
from orchestration.warehouse import WAREHOUSE_POOL

DAG_ID = "ml__monitor_models"
#: The models monitored, one task each: every registered model (ml.names holds only names, so
#: parsing the DAG file stays free of the ML libraries).
MODELS = tuple(MODEL_TARGETS)

log = logging.getLogger(__name__)


def monitoring_asset() -> Asset:
    return Asset(name="ml.monitoring", uri="creditlake://warehouse/ml/monitoring", group="ml")


def _every_gate_passed(context: dict[str, Any]) -> str | None:
    """What is still missing before monitoring may read the marts: every model's gates."""
    for model in MODELS:
        missing = _warehouse_validated(context, model)
        if missing:
            return missing
    return None


def check_severity(result: dict[str, Any]) -> dict[str, Any]:
    """Map a model's monitoring result to its task state (module docstring); returns it."""
    model = result["model_name"]
    if result["model_version"] is None:
        raise AirflowSkipException(f"{model} has no champion yet: nothing to monitor")
    findings = result["findings"]
    if result["severity"] == "fail":
        raise AirflowFailException(
            f"{model} v{result['model_version']} monitoring as of {result['as_of_date']} found "
            f"months at severity fail (rows are in ml.monitoring_*, plot {result['plot']}):\n"
            + "\n".join(findings)
        )
    for line in findings:
        log.info("%s", line)
    message = (
        f"{model} v{result['model_version']}: {len(result['stability_months'])} stability and "
        f"{len(result['performance_months'])} performance months, worst severity "
        f"{result['severity']}"
    )
    if findings:
        log.warning("%s; %d months not ok, first: %s", message, len(findings), findings[0])
    else:
        log.info("%s", message)
    return result


def build_monitor_dag(doc_md: str | None) -> DAG:
    """The weekly DAG ``ml__monitor_models``: wait for the warehouse gates, then one task per
    model that writes its monitoring rows and trend plot, then fails on a ``fail`` month."""

    @dag(
        dag_id=DAG_ID,
        schedule=timetable("@weekly"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ml", "monitoring", "governance", *MODELS],
        doc_md=dag_doc(doc_md),
        default_args={**DEFAULT_ARGS, "owner": "ml-engineering"},
    )
    def monitor_dag() -> None:
        wait = WaitSensor(
            task_id="wait_for_warehouse", check=_every_gate_passed, inlets=[marts_asset()]
        )

        @task(pool=WAREHOUSE_POOL, outlets=[monitoring_asset()])
        def monitor(model: str, **context: Any) -> dict:
            """Stability and matured performance of the model's champion; fails on fail."""
            from ml.data import TrainingDataError
            from ml.monitoring import main
            from ml.monitoring_rules import MonitoringError
            from orchestration.dbt import release_warehouse

            release_warehouse()
            monitored = fail_on(MonitoringError, TrainingDataError)(main)
            return check_severity(monitored(as_of_date_of(context), model=model).to_dict())

        for model in MODELS:
            wait >> monitor.override(task_id=f"monitor_{model}")(model)

    return monitor_dag()
