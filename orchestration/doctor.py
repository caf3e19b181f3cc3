"""``creditlake doctor``: the whole configuration checked at once, one pass/fail line per item.

The entry points (CLI, jobs, Airflow tasks) each stop at the first configuration mistake that
concerns them. Before a first run, or when something fails, a user wants the whole picture
instead: every setting, folder, secret and service, each with what is wrong and how to fix it.
The checks are the entry points' own (:mod:`creditlake.settings`, :mod:`creditlake.preflight`),
so the doctor and the jobs cannot disagree.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from creditlake import preflight
from creditlake.settings import NUMBERS, PROJECT_ROOT, Settings, SettingsError, read_settings

#: The packages whose absence or wrong version breaks a part of the platform.
PACKAGES = (
    "apache-airflow",
    "astronomer-cosmos",
    "boto3",
    "dbt-core",
    "duckdb",
    "great-expectations",
    "mlflow",
    "optbinning",
    "pyiceberg",
    "pyspark",
)
LOCK_FILE = PROJECT_ROOT / "requirements.lock"
#: A service that does not answer within this is reported, not waited for.
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Finding:
    item: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.item:<16} {self.detail}"


def _run(item: str, check: Callable[[], str]) -> Finding:
    """A check returns what it found; a :class:`SettingsError` is its one-line failure."""
    try:
        return Finding(item, True, check())
    except SettingsError as error:
        return Finding(item, False, str(error))


def _locked_versions() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK_FILE.read_text(), flags=re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def check_packages() -> str:
    locked = _locked_versions()
    wrong = []
    for name in PACKAGES:
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} is not installed")
            continue
        if name in locked and installed != locked[name]:
            wrong.append(f"{name} {installed} is not the locked {locked[name]}")
    if wrong:
        raise SettingsError(
            "; ".join(wrong), f"run `make setup` (installs {LOCK_FILE.name} into .venv)"
        )
    return f"{len(PACKAGES)} packages as locked in {LOCK_FILE.name}"


def check_mlflow(settings: Settings) -> str:
    """The tracking store can be written (a local database's folder) or answers (a server)."""
    uri = settings.mlflow_tracking_uri
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        health = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(health, timeout=TIMEOUT_SECONDS):
                pass
        except (urllib.error.URLError, OSError) as error:
            raise SettingsError(
                f"MLFLOW_TRACKING_URI={uri} does not answer ({getattr(error, 'reason', error)})",
                "start the tracking server (`creditlake stack up`) or correct the URI",
            ) from None
        return f"server {uri} answers"
    if parsed.scheme == "sqlite":
        preflight.check_writable("MLFLOW_TRACKING_URI", Path(uri.removeprefix("sqlite:///")).parent)
        return f"local store {uri}"
    if parsed.scheme in ("", "file"):
        preflight.check_writable("MLFLOW_TRACKING_URI", Path(parsed.path))
        return f"local store {uri}"
    return f"{parsed.scheme} store {uri} (not probed)"


def check_airflow_db(settings: Settings) -> str:
    """The metadata DB exists and is migrated, asked of Airflow itself (a separate process: its
    configuration is read once per process, from the home the settings give it)."""
    from orchestration.runtime import runtime_env

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "db",
            "check-migrations",
            "--migration-wait-timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **runtime_env(settings)},
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SettingsError(
            f"the Airflow metadata DB under AIRFLOW_HOME={settings.airflow_home} is missing or "
            "not migrated",
            "run `eval $(creditlake env) && airflow db migrate` (`creditlake demo` does it too)",
        )
    return f"migrated, AIRFLOW_HOME={settings.airflow_home}"


def _checked(check: Callable[[Settings], None], settings: Settings, found: str) -> Callable:
    def run() -> str:
        check(settings)
        return found

    return run


def diagnose() -> Iterator[Finding]:
    """Every finding, in the order a first run meets them; each check runs even after a
    failure (with the defaults in place of wrong values), so one run lists every mistake."""
    settings, errors = read_settings()
    yield _run("java", preflight.java)
    yield _run("python packages", check_packages)
    for error in errors:
        yield Finding("settings", False, str(error))
    if not errors:
        yield Finding("settings", True, f"{len(NUMBERS)} numeric settings in range, choices known")
    folders = "writable: " + ", ".join(str(f) for _, f in preflight.writable_folders(settings))
    yield _run("folders", _checked(preflight.check_folders, settings, folders))
    key = f"{settings.secrets_backend} backend"
    yield _run("pii key", _checked(preflight.check_pii_key, settings, key))
    yield _run("landing", _checked(preflight.check_landing, settings, settings.landing_uri))
    from creditlake.catalog import describe

    yield _run("catalog", _checked(preflight.check_catalog, settings, describe(settings)))
    yield _run("mlflow", lambda: check_mlflow(settings))
    yield _run("airflow db", lambda: check_airflow_db(settings))


def doctor(out: Callable[[str], None] = print) -> bool:
    """Print one line per check; True when every check passed."""
    ok = True
    for finding in diagnose():
        out(finding.line())
        ok = ok and finding.ok
    return ok
