"""``creditlake doctor`` checks the whole configuration and prints a pass/fail line per item, each
failure with the one-line message (setting, problem, fix) the entry points would stop on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake import preflight
from creditlake.settings import PROJECT_ROOT, SettingsError, get_settings
from orchestration import doctor

ITEMS = [
    "java",
    "python packages",
    "settings",
    "settings",
    "folders",
    "pii key",
    "landing",
    "catalog",
    "mlflow",
    "airflow db",
]


def test_the_doctor_lists_every_item_and_every_mistake(creditlake_home: Path) -> None:
    env = os.environ | {
        "CREDITLAKE_HOME": str(creditlake_home),
        "CREDITLAKE_APR_CAP": "abc",
        "CREDITLAKE_SENSOR_POKE_SECONDS": "0",
        "CREDITLAKE_SECRETS_DIR": str(creditlake_home / "no-secrets"),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "creditlake"), "doctor"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    found = [(line[:4], line[6:22].strip()) for line in lines]
    verdicts = dict.fromkeys(ITEMS, "PASS") | {
        "settings": "FAIL",
        "pii key": "FAIL",
        "airflow db": "FAIL",  # this home's Airflow DB was never migrated
    }
    assert found == [(verdicts[item], item) for item in ITEMS]
    assert lines[2].endswith(
        "CREDITLAKE_APR_CAP='abc' is not a number; set it to a number "
        "between 0 and 1, or unset it for the default 0.24"
    )
    assert "CREDITLAKE_SENSOR_POKE_SECONDS='0' is out of range" in lines[3]
    assert "run `creditlake init-secrets` to create one" in lines[5]
    assert "airflow db migrate" in lines[9]


def test_packages_are_checked_against_the_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert doctor.check_packages().endswith("packages as locked in requirements.lock")
    lock = tmp_path / "requirements.lock"
    lock.write_text("duckdb==0.0.1\n    # via creditlake\n")
    monkeypatch.setattr(doctor, "LOCK_FILE", lock)
    with pytest.raises(SettingsError, match=r"is not the locked 0\.0\.1; run `make setup`"):
        doctor.check_packages()


def test_java_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SettingsError, match=r"Java was not found .*openjdk-17-jre-headless"):
        preflight.java()


def test_an_mlflow_server_that_does_not_answer_fails_its_line(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    finding = doctor._run("mlflow", lambda: doctor.check_mlflow(get_settings()))
    assert not finding.ok
    assert finding.line().startswith(
        "FAIL  mlflow           MLFLOW_TRACKING_URI=http://127.0.0.1:9 does not answer"
    )
