"""The ingest SLA as an Airflow deadline alert: a delivery run that overruns it is recorded.

Each ingest DAG carries one :class:`~airflow.sdk.DeadlineAlert`: a run not finished
``Settings.ingest_deadline_seconds`` after it was queued has missed its deadline, and Airflow
calls :func:`record_missed_deadline`, which logs it and writes
``<reports_dir>/freshness/deadlines/<dag_id>/<as_of_date>.json`` for the governance report.

The reference is the run's queue time, not its logical date: the demo and every backfill run
dates months in the past, which a logical-date deadline would report as missed before they start.
The deadline is what the sensors' wait for a late file overruns; ``dbt source freshness``
(:mod:`orchestration.freshness`) judges how old the delivered data is.

Deadlines are evaluated by the scheduler only, so they cannot fire under ``dag.test`` (the demo
and the tests). Worse, in Airflow 3.3.2 ``dag.test`` of a DAG that declares a deadline crashes
when the run succeeds (it looks the alerts up by their serialised form instead of their ids), so
the alert is declared only where ``CREDITLAKE_INGEST_DEADLINE_SECONDS`` is set: a deployment with a
scheduler. A run that succeeds in time has its deadline removed by Airflow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from airflow.sdk import DeadlineAlert, DeadlineReference, SyncCallback

from creditlake.settings import Settings, get_settings
from orchestration.common import as_of_date_of_interval

logger = logging.getLogger(__name__)


def ingest_deadline(settings: Settings) -> DeadlineAlert | None:
    """The ingest DAGs' SLA: finished within ``ingest_deadline_seconds`` of being queued.

    ``None`` (no deadline) when the setting is 0, its default: see the module's docstring.
    """
    if settings.ingest_deadline_seconds <= 0:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(seconds=settings.ingest_deadline_seconds),
        callback=SyncCallback(record_missed_deadline),
        name="ingest_sla",
    )


def deadlines_dir(settings: Settings) -> Path:
    return settings.reports_dir / "freshness" / "deadlines"


def record_missed_deadline(context: dict[str, Any], **_: Any) -> Path:
    """Airflow's callback for a missed deadline: log it and keep one record per DAG and date.

    ``context`` is what Airflow passes to deadline callbacks: ``dag_run`` (the run as the REST
    API shows it) and ``deadline`` (its id and time). A second miss of the same date replaces the
    record rather than adding one.
    """
    dag_run = context["dag_run"]
    interval_start = dag_run.get("data_interval_start") or dag_run.get("logical_date")
    as_of_date = as_of_date_of_interval(dt.datetime.fromisoformat(str(interval_start)))
    record = {
        "dag_id": dag_run["dag_id"],
        "run_id": dag_run.get("dag_run_id"),
        "as_of_date": as_of_date.isoformat(),
        "queued_at": dag_run.get("queued_at"),
        "deadline_at": str(context.get("deadline", {}).get("deadline_time")),
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    logger.error(
        "missed deadline: %s for %s was not finished by %s (queued %s)",
        record["dag_id"],
        record["as_of_date"],
        record["deadline_at"],
        record["queued_at"],
    )
    path = deadlines_dir(get_settings()) / record["dag_id"] / f"{record['as_of_date']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    return path


def read_missed_deadlines(settings: Settings) -> list[dict[str, Any]]:
    """Every recorded missed deadline, by DAG and date."""
    return [json.loads(p.read_text()) for p in sorted(deadlines_dir(settings).glob("*/*.json"))]
