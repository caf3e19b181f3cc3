"""The demo migrates its Airflow database in a child process while it generates the data
(``orchestration.demo_runs.AirflowMigration``); a migration that fails still stops the demo with
the Airflow home and Airflow's own error, and one the demo no longer needs is stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditlake.settings import get_settings
from orchestration.demo_runs import AirflowMigration, DemoError


def test_a_failed_migration_names_the_airflow_home_and_shows_airflows_error(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite cannot create a database file in a folder that does not exist
    unreachable = creditlake_home / "no-such-folder" / "airflow.db"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{unreachable}")
    settings = get_settings()
    migration = AirflowMigration(settings)
    with pytest.raises(DemoError) as failure:
        migration.wait()
    message = str(failure.value)
    assert message.startswith(
        f"`airflow db migrate` failed for AIRFLOW_HOME={settings.airflow_home}:\n"
    )
    assert "unable to open database file" in message
    assert not unreachable.parent.exists()


def test_a_cancelled_migration_is_stopped(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # its own database, not this worker's: the migration is killed wherever it has got to
    monkeypatch.setenv(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{creditlake_home / 'airflow.db'}"
    )
    migration = AirflowMigration(get_settings())
    migration.cancel()
    assert migration._process.returncode is not None
    assert migration._output.closed
