"""Where MLflow runs and models go, from settings.

Every MLflow call in creditlake goes through a client built here, so the tracking store (SQLite
by default, a tracking server in production) and the artifact root (a local folder or S3) are
configuration, never code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient

from creditlake.secrets import read_secret
from creditlake.settings import Settings, SettingsError

_SQLITE_PREFIX = "sqlite:///"
#: Tracking URIs of an MLflow server (which keeps the artifacts) rather than a store.
_SERVER_SCHEMES = ("http://", "https://")


def configure_mlflow(settings: Settings) -> MlflowClient:
    """Point this process's MLflow at the configured tracking and registry store.

    A SQLite store's folder is created first: SQLAlchemy will create the file but not its folder.
    """
    uri = settings.mlflow_tracking_uri
    if uri.startswith(_SQLITE_PREFIX):
        Path(uri[len(_SQLITE_PREFIX) :]).parent.mkdir(parents=True, exist_ok=True)
    if settings.mlflow_user:
        _log_in(settings, settings.mlflow_user)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return client_for(settings)


def client_for(settings: Settings) -> MlflowClient:
    """A client of the configured store for both tracking and registry.

    ``MlflowClient(uri)`` alone takes its registry from the process's global (or the
    ``MLFLOW_REGISTRY_URI`` environment variable) before the tracking URI, so a process that
    once pointed MLflow elsewhere would read another registry. This client never does.
    """
    uri = settings.mlflow_tracking_uri
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _log_in(settings: Settings, user: str) -> None:
    """Give MLflow's client the user's name and password, read from the secrets now.

    MLflow's client takes a tracking server's credentials only from its environment variables:
    they are set in this process alone, so that the password is in no launcher's environment
    (the stack's scheduler, the shell) and no task's command line.
    """
    try:
        password = read_secret(settings, f"users/{user}")
    except SettingsError as error:
        raise SettingsError(
            f"CREDITLAKE_MLFLOW_USER={user!r} has no password: {error} "
            "(`creditlake stack up` creates the stack's)"
        ) from error
    os.environ["MLFLOW_TRACKING_USERNAME"] = user
    os.environ["MLFLOW_TRACKING_PASSWORD"] = password


def ensure_experiment(client: MlflowClient, name: str, settings: Settings) -> str:
    """The experiment's id, creating it under ``<artifact root>/<name>`` when it is missing.

    Giving the experiment an explicit artifact location keeps model files next to the rest of
    the platform's data (or in its S3 bucket) instead of a ``mlruns/`` folder wherever the
    process happened to start. A tracking server decides that itself (its artifact destination,
    served to clients through it; with workspaces on, it refuses a location from the client).
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    if settings.mlflow_tracking_uri.startswith(_SERVER_SCHEMES):
        return client.create_experiment(name)
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
