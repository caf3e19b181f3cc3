"""Where the demo's DAG runs execute: in this process (``dag.test``) or on the stack's scheduler.

Both run the same DAG files for the same logical dates and write the same tables; they differ in
what runs the tasks. :class:`InProcessRuns`, the default, is Airflow's own ``dag.test`` in the
demo's process, so that Airflow, the Spark JVM and GX start once rather than once per DAG and
date. :class:`StackRuns` triggers each run on the local stack (``creditlake stack up``), where
the scheduler's LocalExecutor runs every task in its own process and the runs, their logs and
the models stay in the stack's Airflow and MLflow for people to look at.

A file held back as "delivered late" shows the difference: under ``dag.test`` its sensor times
out and the demo delivers the file and re-runs the date; on the stack the demo delivers it while
the sensor waits, and the same run completes.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any, Protocol

from creditlake.settings import Settings
from orchestration.lineage_events import emit_dag_run
from orchestration.runtime import DAGS_FOLDER

#: On the stack, a sensor still waiting this long after it started means a file is late.
LATE_AFTER_SECONDS = 15.0


class DemoError(RuntimeError):
    """A DAG run failed where the demo did not expect it; the message names the DAG and date."""


class DagRuns(Protocol):
    """Runs one DAG for one logical date; returns its final state and the late files it
    delivered while the run waited for them."""

    def run(self, dag_id: str, as_of_date: dt.date) -> tuple[str, list[str]]: ...


class AirflowMigration:
    """``airflow db migrate`` in a child process, so that it can overlap other work.

    The demo starts it before generating its data: the generator keeps one core busy for 7-10 s,
    and the migration (about 5 s, most of it importing Airflow) takes the other one instead of
    running after it. Its output goes to a temporary file, not a pipe, so a chatty migration
    never blocks on a full pipe while nobody reads it.
    """

    def __init__(self, settings: Settings) -> None:
        settings.airflow_home.mkdir(parents=True, exist_ok=True)
        self.airflow_home = settings.airflow_home
        self._output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by wait/cancel)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            stdout=self._output,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self) -> None:
        """Wait for the migration; raise :class:`DemoError` with the end of its output if it
        failed."""
        returncode = self._process.wait()
        self._output.seek(0)
        output = self._output.read()
        self._output.close()
        if returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise DemoError(
                f"`airflow db migrate` failed for AIRFLOW_HOME={self.airflow_home}:\n{tail}"
            )

    def cancel(self) -> None:
        """Stop the migration (the demo failed before it needed the database)."""
        self._process.kill()
        self._process.wait()
        self._output.close()


def prepare_airflow(
    settings: Settings,
    out: Callable[[str], None],
    migration: AirflowMigration | None = None,
) -> None:
    """Create the Airflow metadata DB and the warehouse pool; parse dbt so Cosmos can render.

    ``migration`` is one already started (:class:`AirflowMigration`); without it, one is started
    and waited for here.
    """
    from orchestration.dbt import run_dbt

    out("preparing Airflow metadata DB and dbt manifest")
    (migration or AirflowMigration(settings)).wait()
    # In-process rather than `airflow pools set`: the CLI would spend ~9 s importing Airflow again.
    from orchestration.warehouse import ensure_warehouse_pool

    ensure_warehouse_pool()
    run_dbt(["parse"], settings, as_of_date=None)


def _load_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        details = "\n".join(f"{path}: {error}" for path, error in bag.import_errors.items())
        raise DemoError(f"DAG import errors:\n{details}")
    return bag.dags


def _freeze_heap() -> None:
    """Collect garbage once, then exclude every surviving object from later collections.

    Cosmos calls ``gc.collect()`` after each dbt invocation (to release dbt-adapter semaphores).
    In this one long-lived process that holds Airflow, Spark's Python side, dbt, GX and MLflow,
    a full collection scans about 600,000 objects and took 0.4-0.6 s, paid by every one of the
    warehouse DAG's 34 dbt tasks and by every date. Freezing the survivors at each DAG-run
    boundary leaves later collections only what that run allocates (the warehouse DAG went from
    about 79 s to 34 s a date at the default scale). The cost: cyclic garbage
    among objects frozen earlier is not reclaimed, which is bounded by the demo's few dozen runs.
    """
    import gc

    gc.collect()
    gc.freeze()


class InProcessRuns:
    """``dag.test`` in this process, against its own SQLite metadata database."""

    def __init__(
        self,
        settings: Settings,
        out: Callable[[str], None],
        migration: AirflowMigration | None = None,
    ) -> None:
        prepare_airflow(settings, out, migration)
        self.dags = _load_dags()

    def run(self, dag_id: str, as_of_date: dt.date) -> tuple[str, list[str]]:
        import pendulum

        _freeze_heap()
        dag_run = self.dags[dag_id].test(
            logical_date=pendulum.datetime(
                as_of_date.year, as_of_date.month, as_of_date.day, tz="UTC"
            )
        )
        emit_dag_run(dag_run)
        return str(getattr(dag_run.state, "value", dag_run.state)), []


class StackRuns:
    """Runs triggered on the stack's scheduler, as the data engineer (see ``stack.runs``)."""

    def __init__(self, settings: Settings, dag_ids: list[str], out: Callable[[str], None]) -> None:
        from orchestration.dbt import run_dbt
        from orchestration.stack.runs import SchedulerRuns

        self.settings = settings
        self.runs = SchedulerRuns(settings)
        out(f"running on the stack's scheduler at {self.runs.base}")
        # Cosmos renders the warehouse DAG from dbt's manifest; the dag-processor re-parses the
        # file every 30 s and finds the DAG once the manifest is there.
        run_dbt(["parse"], settings, as_of_date=None)
        out("waiting for the stack's dag-processor to parse every DAG")
        self.runs.wait_until_parsed(dag_ids)
        for dag_id in dag_ids:
            self.runs.unpause(dag_id)

    def run(self, dag_id: str, as_of_date: dt.date) -> tuple[str, list[str]]:
        from generator import deliver_late

        delivered: list[str] | None = None  # None until the late files were asked for, once

        def deliver_if_waiting(tasks: list[Any]) -> None:
            nonlocal delivered
            if delivered is None and any(
                t.task_id.endswith("wait_for_landing")
                and t.state == "running"
                and t.seconds > LATE_AFTER_SECONDS
                for t in tasks
            ):
                delivered = deliver_late(self.settings)

        state = self.runs.run(dag_id, as_of_date, deliver_if_waiting)
        return state, delivered or []
