"""Real run data in a test's stack: a DAG run by its scheduler, and a champion in its MLflow.

The same landing data (one generator configuration and seed, one PII key) goes into two homes:

- the stack's home, where the credit bureau's and the customer behaviour's ingest DAGs are
  triggered together through Airflow's REST API as the data engineer and run by the scheduler's
  LocalExecutor, each task in its own process, tasks of the three sources at the same time;
- a reference home, where the demo's in-process runner (``dag.test``) runs the same date's
  ingest DAGs and warehouse, then the credit PD training DAG, which tracks to the stack's MLflow
  server as its pipeline account and registers the champion there.

The scheduler's run starts first and the reference runs while it is under way. What the two
homes hold is then compared (``test_scheduler``) and looked at in a browser (``test_browser``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from secret_files import TEST_PII_KEY, put_pii_key
from stack_helpers import RunningStack

from creditlake.settings import Settings, get_settings

EXTRACT = dt.date(2026, 1, 1)
SCHEDULED_DAG = "ingest__credit_bureau"
#: Triggered beside ``SCHEDULED_DAG``: its two sources and the bureau's ingest run in parallel.
PARALLEL_DAG = "ingest__customer_behaviour"
TRAIN_DAG = "ml__train_credit_pd"
MODEL = "credit_pd"
#: The end-to-end run's scale: at it, the credit PD candidate passes its gate (see the widened
#: thresholds in ``tests/test_platform_end_to_end.py``, set here for the same reason).
TINY_SCALE_ENV = {
    "CREDITLAKE_GATE_CALIBRATION_TOLERANCE": "0.5",
    "CREDITLAKE_PSI_ACT": "2.0",
    "CREDITLAKE_SENSOR_TIMEOUT_SECONDS": "60",
    "CREDITLAKE_SENSOR_POKE_SECONDS": "1",
}


def config() -> Any:
    from generator import GeneratorConfig

    return GeneratorConfig(
        customers=2_500,
        behaviour_events=60_000,
        extract_date=EXTRACT,
        days=0,
        seed=7,
        defect_rate=0.01,
        late_source=None,
    )


@dataclass
class StackData:
    """What the stack holds after :func:`fill`, and the two homes' settings."""

    scheduled: Settings
    reference: Settings
    dag_id: str
    run_id: str
    run_state: str
    parallel_run_id: str
    parallel_run_state: str
    model: str
    champion_version: str


def _settings(patch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        patch.setenv(name, value)
    return get_settings()


def fill(stack: RunningStack, reference_home: Path) -> StackData:
    from generator import generate
    from ml.tracking import configure_mlflow
    from orchestration.demo import run_demo
    from orchestration.demo_runs import InProcessRuns
    from orchestration.stack.mlflow import client_env
    from orchestration.stack.runs import SchedulerRuns

    with pytest.MonkeyPatch.context() as patch:
        for name, value in TINY_SCALE_ENV.items():
            patch.setenv(name, value)
        scheduled = _settings(patch, stack.env)
        put_pii_key(stack.home, TEST_PII_KEY)
        generate(config(), scheduled)
        runs = SchedulerRuns(scheduled)
        runs.wait_until_parsed([SCHEDULED_DAG, PARALLEL_DAG])
        runs.unpause(SCHEDULED_DAG)
        runs.unpause(PARALLEL_DAG)
        rid = runs.start(SCHEDULED_DAG, EXTRACT)
        parallel_rid = runs.start(PARALLEL_DAG, EXTRACT)

        # The reference home shares the stack's secrets (its PII key, the pipeline's password).
        reference = _settings(
            patch,
            {
                "CREDITLAKE_HOME": str(reference_home),
                "CREDITLAKE_SECRETS_DIR": str(scheduled.secrets_dir),
                **client_env(scheduled),
            },
        )
        run_demo(config(), reference, models=False)
        state, _ = InProcessRuns(reference, print).run(TRAIN_DAG, EXTRACT)
        assert state == "success", f"{TRAIN_DAG} failed under dag.test"
        champion = configure_mlflow(reference).get_model_version_by_alias(MODEL, "champion")
        run_state = runs.wait(SCHEDULED_DAG, rid)
        parallel_state = runs.wait(PARALLEL_DAG, parallel_rid)
    return StackData(
        scheduled=scheduled,
        reference=reference,
        dag_id=SCHEDULED_DAG,
        run_id=rid,
        run_state=run_state,
        parallel_run_id=parallel_rid,
        parallel_run_state=parallel_state,
        model=MODEL,
        champion_version=str(champion.version),
    )
