"""The demo: generate data, then run every DAG through Airflow for the initial load and daily runs.

This is the platform's main job on the embedded default. It drives the real DAGs with Airflow's
own ``dag.test`` (what ``airflow dags test`` calls), all in one process so that Airflow, the Spark
JVM and GX start once rather than once per DAG and date. Order per logical date: the three
ingestion DAGs, the warehouse DAG, then scoring; training runs after the initial load and again
on the last date (so the champion gate is exercised against an existing champion), and the weekly
monitoring DAG runs once, after the last date's scoring.

The generator holds one file back as "delivered late": its ingestion run fails at the sensor with
a message naming the file, the file is then delivered, and the date re-runs, landing the file in
its own date's partition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from creditlake.progress import Progress
from creditlake.secrets import PII_KEY, ensure_pii_key, secrets_backend
from creditlake.settings import PROJECT_ROOT, Settings
from creditlake.sources import DOMAINS
from orchestration.demo_runs import (
    AirflowMigration,
    DagRuns,
    DemoError,
    InProcessRuns,
    StackRuns,
)
from orchestration.lineage_events import NO_PROVIDER_DAG_EVENTS
from orchestration.runtime import apply_runtime_env

INGEST_DAGS = [f"ingest__{domain}" for domain in DOMAINS]
WAREHOUSE_DAG = "transform__warehouse"
#: One training DAG per model of ml.names.MODELS (kept as literals: the demo imports no ML code).
TRAIN_DAGS = ["ml__train_credit_pd", "ml__train_fraud", "ml__train_b_card", "ml__train_c_card"]
SCORE_DAG = "ml__score_applications"
#: Weekly in production; run once here, after the last date's training and scoring.
MONITOR_DAG = "ml__monitor_models"


@dataclass
class DagRunRecord:
    dag_id: str
    as_of_date: str
    state: str
    seconds: float
    note: str = ""


@dataclass
class DemoRun:
    runs: list[DagRunRecord] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    late_deliveries: list[str] = field(default_factory=list)
    seconds: float = 0.0


GENERATOR_DIR = PROJECT_ROOT / "generator"


def _generate(config: Any, settings: Settings, out: Callable[[str], None]) -> dict[str, Any]:
    """Generate landing data, skipping the work if the same config and generator produced it."""
    from generator import generate

    stamp = settings.home / "landing.stamp.json"
    digest = hashlib.sha256(
        json.dumps(asdict(config), default=str, sort_keys=True).encode()
        + settings.landing_uri.encode()
    )
    # the generator's own code too: a changed generator must not reuse the old landing and truth
    for source in sorted(GENERATOR_DIR.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    wanted = digest.hexdigest()
    if stamp.is_file() and json.loads(stamp.read_text()).get("config_sha256") == wanted:
        out("landing data for this configuration already generated; reusing it")
        return json.loads(stamp.read_text())["report"]
    report = generate(config, settings, progress=lambda line: out(f"  {line}")).to_dict()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"config_sha256": wanted, "report": report}, default=str))
    return report


def _reset_outputs(settings: Settings, out: Callable[[str], None], on_stack: bool) -> None:
    """Rebuild everything downstream of landing, so each demo starts from the same state.

    On the stack, its Airflow keeps its history (the same dates' runs are cleared and run
    again), and the models registered in its MLflow are deleted, since the lake's alias audit
    log they must agree with starts anew.
    """
    import shutil

    from creditlake.catalog import catalog_exists, describe, is_embedded

    if not is_embedded(settings) and catalog_exists(settings):
        out(f"dropping the lake's tables ({describe(settings)})")
        _drop_lake_tables(settings)
    for path in (
        settings.lake_dir,
        settings.warehouse_path.parent,
        settings.gx_dir,
        settings.reports_dir,
        settings.home / "mlflow",
        *([] if on_stack else [settings.airflow_home]),
        settings.lineage_dir,
    ):
        shutil.rmtree(path, ignore_errors=True)
    if on_stack:
        from ml.tracking import configure_mlflow

        client = configure_mlflow(settings)
        for model in client.search_registered_models():
            out(f"deleting the registered model {model.name} from {settings.mlflow_tracking_uri}")
            client.delete_registered_model(model.name)


def _drop_lake_tables(settings: Settings) -> None:
    """Drop and purge every table of the lake's namespaces in a catalog outside the home."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    from creditlake.lake import NAMESPACES, Lake

    catalog = Lake.from_settings(settings).catalog
    for namespace in NAMESPACES:
        try:
            tables = catalog.list_tables(namespace)
        except NoSuchNamespaceError:
            continue
        for identifier in tables:
            catalog.purge_table(identifier)


def _run_dag(
    runs: DagRuns,
    dag_id: str,
    as_of_date: dt.date,
    demo: DemoRun,
    progress: Progress,
    expect_failure: bool = False,
) -> str:
    start = time.monotonic()
    state, delivered = runs.run(dag_id, as_of_date)
    seconds = time.monotonic() - start
    note = ""
    if delivered:
        demo.late_deliveries.extend(delivered)
        note = f"expected: delivered late while its sensor waited: {', '.join(delivered)}"
    demo.runs.append(DagRunRecord(dag_id, as_of_date.isoformat(), state, round(seconds, 1), note))
    line = f"{dag_id:<28} {as_of_date}  {state:<8} {seconds:6.1f} s"
    progress.finished(dag_id, seconds, f"{line}  ({note})" if note else line)
    if state != "success" and not expect_failure:
        raise DemoError(
            f"DAG {dag_id} failed for logical date {as_of_date}; see the task log above"
        )
    return state


def _demo_environment() -> None:
    """Short waits and a readable console for the demo.

    A late file should fail in seconds, not after six hours. Task logs go to the console under
    ``dag.test``, so dbt prints only errors (each of the warehouse DAG's 34 tasks would otherwise
    print its banner and results, four times over) and the demo's own progress lines stay
    readable. Values a user set explicitly win; settings read at DAG-parse time pick these up.
    The OpenLineage provider's own DAG-run events are off: :func:`_run_dag` emits them (see
    :func:`orchestration.lineage_events.emit_dag_run`).
    """
    import os

    for name, value in (
        ("AIRFLOW__OPENLINEAGE__EMISSION_POLICY", NO_PROVIDER_DAG_EVENTS),
        ("CREDITLAKE_SENSOR_TIMEOUT_SECONDS", "3"),
        ("CREDITLAKE_SENSOR_POKE_SECONDS", "1"),
        ("CREDITLAKE_RETRY_DELAY_SECONDS", "2"),
        ("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        ("DBT_QUIET", "true"),
    ):
        os.environ.setdefault(name, value)


def _run_monitoring(
    runs: DagRuns,
    as_of_date: dt.date,
    settings: Settings,
    demo: DemoRun,
    out: Callable[[str], None],
    progress: Progress,
) -> None:
    """Run the monitoring DAG; a month at severity ``fail`` is a finding, not a demo failure.

    A model's monitoring task fails on such a month by design (after writing its rows), so the
    run fails; the demo records why and goes on, and the summary shows the month. A failed run
    without a ``fail`` month in the monitoring tables is a fault, and stops the demo.
    """
    from ml.monitoring_tables import severity_by_model

    if _run_dag(runs, MONITOR_DAG, as_of_date, demo, progress, expect_failure=True) == "success":
        return
    failing = sorted(
        name for name, found in severity_by_model(settings).items() if found["severity"] == "fail"
    )
    if not failing:
        raise DemoError(f"DAG {MONITOR_DAG} failed for logical date {as_of_date}; see the log")
    demo.runs[-1].note = f"expected: months at severity fail for {', '.join(failing)}"
    out(f"  monitoring found months at severity fail for {', '.join(failing)} (see the summary)")


def _plan(days: list[dt.date], models: bool) -> list[str]:
    """The DAG runs the demo will make, in order (a late file's re-run is added when it comes)."""
    plan: list[str] = []
    for as_of_date in days:
        plan += [*INGEST_DAGS, WAREHOUSE_DAG]
        if models:
            plan += TRAIN_DAGS if as_of_date in (days[0], days[-1]) else []
            plan += [SCORE_DAG, *([MONITOR_DAG] if as_of_date == days[-1] else [])]
    return plan


def run_demo(
    config: Any,
    settings: Settings,
    out: Callable[[str], None] = print,
    models: bool = True,
    on_stack: bool = False,
) -> DemoRun:
    """Run the whole platform end to end; returns what ran, for the summary.

    ``models=False`` stops at the warehouse gate (no training or scoring DAGs): for a caller that
    compares the data path only, such as the S3 and Glue test against a local run.
    ``on_stack`` runs every DAG on the running local stack's scheduler instead of ``dag.test``
    (:mod:`orchestration.demo_runs`).
    """
    start = time.monotonic()
    demo = DemoRun()
    apply_runtime_env(settings)
    _demo_environment()
    if ensure_pii_key(settings):
        out(f"created a random local PII key at {secrets_backend(settings).where(PII_KEY)}")

    _reset_outputs(settings, out, on_stack)
    # the embedded Airflow's database is migrated on the other core while the data is generated
    migration = None if on_stack else AirflowMigration(settings)
    out(f"generating source data into {settings.landing_uri}")
    try:
        demo.generation = _generate(config, settings, out)
    except BaseException:
        if migration is not None:
            migration.cancel()
        raise
    days = [config.extract_date + dt.timedelta(days=i) for i in range(config.days + 1)]
    plan = _plan(days, models)
    runs = (
        StackRuns(settings, sorted(set(plan)), out)
        if on_stack
        else InProcessRuns(settings, out, migration)
    )

    from generator import deliver_late

    progress = Progress(plan, lambda line: out(f"  {line}"))
    for as_of_date in days:
        out(
            f"logical date {as_of_date}{' (initial full extract)' if as_of_date == days[0] else ''}"
        )
        for dag_id in INGEST_DAGS:
            state = _run_dag(runs, dag_id, as_of_date, demo, progress, expect_failure=True)
            if state == "success":
                continue
            delivered = deliver_late(settings)
            if not delivered:
                raise DemoError(
                    f"DAG {dag_id} failed for logical date {as_of_date}; see the log above"
                )
            demo.late_deliveries.extend(delivered)
            demo.runs[-1].note = "expected: a file was delivered late"
            out(f"  late file delivered: {', '.join(delivered)}; re-running the date")
            progress.add(dag_id)
            _run_dag(runs, dag_id, as_of_date, demo, progress)
        _run_dag(runs, WAREHOUSE_DAG, as_of_date, demo, progress)
        if not models:
            continue
        if as_of_date in (days[0], days[-1]):
            for dag_id in TRAIN_DAGS:
                _run_dag(runs, dag_id, as_of_date, demo, progress)
        _run_dag(runs, SCORE_DAG, as_of_date, demo, progress)
        if as_of_date == days[-1]:
            _run_monitoring(runs, as_of_date, settings, demo, out, progress)
    demo.seconds = round(time.monotonic() - start, 1)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "demo_runs.json").write_text(
        json.dumps(asdict(demo), indent=2, default=str)
    )
    return demo


def summary_path(settings: Settings) -> Path:
    return settings.reports_dir / "demo_summary.json"
