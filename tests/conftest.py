"""Test-session configuration shared by every test folder.

Airflow reads ``AIRFLOW_HOME`` once, when it is first imported, so the whole pytest process gets one
throw-away Airflow home (and creditlake home) here, before any test module imports Airflow. Tests
that need their own data folder use the ``creditlake_home`` fixture, which points creditlake's
settings somewhere fresh without touching Airflow's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

TEST_PII_KEY = "test-only-pii-key-0123456789abcdef0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    session_home = Path(tempfile.mkdtemp(prefix="creditlake-test-"))
    os.environ["CREDITLAKE_HOME"] = str(session_home)
    os.environ["CREDITLAKE_PII_KEY"] = TEST_PII_KEY
    os.environ.setdefault("CREDITLAKE_SPARK_DRIVER_MEMORY", "1g")
    from creditlake.settings import get_settings
    from orchestration.runtime import apply_runtime_env

    apply_runtime_env(get_settings(), overwrite=True)
    # Settings derive the MLflow store from CREDITLAKE_HOME; a fixed URI defeats per-test homes.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


@pytest.fixture
def creditlake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CREDITLAKE_HOME for one test (the PII key stays the test key)."""
    home = tmp_path / "creditlake"
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    monkeypatch.setenv("CREDITLAKE_PII_KEY", TEST_PII_KEY)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return home
