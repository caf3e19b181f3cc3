"""One local stack per test module: ``creditlake stack up`` in a fresh home on free ports.

The home is a new folder directly under the temporary directory and open to other users
(mode 755): as root, the stack's PostgreSQL runs as Debian's ``postgres`` user, which cannot
enter pytest's own temporary folders. ``stack down`` runs when the module ends, whatever
happened, and the module's folder is removed only then.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_helpers import RunningStack, stack_env


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    home = Path(tempfile.mkdtemp(prefix="creditlake-stack-"))
    home.chmod(0o755)
    env, (_, airflow_port, mlflow_port, reports_port) = stack_env(home)
    running = RunningStack(
        home=home,
        env=env,
        up_output="",
        airflow=f"http://127.0.0.1:{airflow_port}",
        mlflow=f"http://127.0.0.1:{mlflow_port}",
        reports=f"http://127.0.0.1:{reports_port}",
    )
    try:
        result = running.cli("up")
        running.up_output = result.stdout + result.stderr
        assert result.returncode == 0, f"stack up failed:\n{running.up_output}\n{running.logs()}"
        yield running
    finally:
        running.cli("down", timeout=180)
        shutil.rmtree(home, ignore_errors=True)
