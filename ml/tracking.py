"""Where MLflow runs and models go, from settings.

Every MLflow call in creditlake goes through a client built here, so the tracking store (SQLite
by default, a tracking server in production) and the artifact root (a local folder or S3) are
configuration, never code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient

from creditlake.settings import Settings

_SQLITE_PREFIX = "sqlite:///"


def configure_mlflow(settings: Settings) -> MlflowClient:
    """Point this process's MLflow at the configured tracking and registry store.

    A SQLite store's folder is created first: SQLAlchemy will create the file but not its folder.
    """
    uri = settings.mlflow_tracking_uri
    if uri.startswith(_SQLITE_PREFIX):
        Path(uri[len(_SQLITE_PREFIX) :]).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(client: MlflowClient, name: str, settings: Settings) -> str:
    """The experiment's id, creating it under ``<artifact root>/<name>`` when it is missing.

    Giving the experiment an explicit artifact location keeps model files next to the rest of
    the platform's data (or in its S3 bucket) instead of a ``mlruns/`` folder wherever the
    process happened to start.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    location = f"{settings.mlflow_artifact_root.rstrip('/')}/{name}"
    return client.create_experiment(name, artifact_location=location)


#: Reports and parameters carry six significant digits: all a reader can use, and full-precision
#: floats print as long digit runs that look like card or ID numbers to the PII scanner.
SIGNIFICANT_DIGITS = 6


def readable(value: Any) -> Any:
    """``value`` with every float (also inside lists and dicts) cut to six significant digits."""
    if isinstance(value, bool) or not isinstance(value, float | dict | list | tuple):
        return value
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    return [readable(item) for item in value]


def write_report_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV artifact with floats at six significant digits."""
    frame.to_csv(path, index=False, float_format=f"%.{SIGNIFICANT_DIGITS}g")
    return path
