"""Environment that the third-party tools creditlake drives need, derived from settings.

Airflow, dbt, MLflow, GX and Cosmos read their own environment variables. This module computes
them from :mod:`creditlake.settings` so that a user sets creditlake's settings once, and it turns
every library's telemetry off: the platform runs where only package registries are reachable, and
a lender's pipeline should not phone home anyway.
"""

from __future__ import annotations

import json
import os
import sys

from creditlake.settings import PROJECT_ROOT, Settings
from orchestration.lineage_events import transport_config

DAGS_FOLDER = PROJECT_ROOT / "dags"


def runtime_env(settings: Settings) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__PROPAGATE_LOGS": "False",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # OpenLineage (apache-airflow-providers-openlineage; Cosmos reads the same section): task
        # events to files under the home, and to CREDITLAKE_LINEAGE_URL when set. Events are
        # written from a thread of the task's process, not a forked copy of it: the demo's one
        # process holds a Spark JVM and a DuckDB file that a fork would duplicate.
        "AIRFLOW__OPENLINEAGE__NAMESPACE": settings.lineage_namespace,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport_config(settings)),
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GX_ANALYTICS_ENABLED": "false",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # OpenMP threads (LightGBM) sleep instead of spinning while they wait: on a machine
        # shared with Spark, spinning threads made a 2-thread LightGBM fit 30x slower.
        "OMP_WAIT_POLICY": "passive",
    }


def apply_runtime_env(settings: Settings, overwrite: bool = False) -> None:
    """Export :func:`runtime_env` into this process (values a user already set win by default)."""
    for name, value in runtime_env(settings).items():
        if overwrite or name not in os.environ:
            os.environ[name] = value
