"""DAG runs through the stack's scheduler: triggered, cleared and watched over Airflow's REST API.

This is how the demo runs on the local stack (``creditlake demo --on-stack``): each run is what a
data engineer would start from the UI, so it logs in as ``data_engineer``, whose role may trigger
and clear runs, and the scheduler's LocalExecutor runs the tasks, each in its own process, as in
production. A run's id is ``creditlake__<dag>__<date>``: a second run of a date (the late file's)
clears the first one's tasks instead of adding a run, as a data engineer re-runs a date.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from creditlake.secrets import read_secret
from creditlake.settings import Settings, SettingsError
from orchestration.stack import airflow
from orchestration.stack.accounts import DATA_ENGINEER

#: States after which a DAG run changes no more.
FINISHED = ("success", "failed")
#: How often a running DAG run is asked for its state.
POLL_SECONDS = 2.0
#: The longest the demo waits for one DAG run: longer than any sensor's default timeout (6 h).
RUN_TIMEOUT_SECONDS = 8 * 3600


class StackRunError(RuntimeError):
    """The stack refused or lost a run; the message names the DAG, the date and the answer."""


def run_id(dag_id: str, as_of_date: dt.date) -> str:
    return f"creditlake__{dag_id}__{as_of_date.isoformat()}"


@dataclass
class TaskState:
    task_id: str
    state: str | None
    seconds: float


class SchedulerRuns:
    """A data engineer's session with the stack's Airflow API."""

    def __init__(self, settings: Settings, username: str = DATA_ENGINEER.username) -> None:
        import requests

        self.base = airflow.base_url(settings)
        try:
            password = read_secret(settings, f"users/{username}")
        except SettingsError as error:
            raise SettingsError(f"{error}: run `creditlake stack up` first") from error
        try:
            answer = requests.post(
                f"{self.base}/auth/token",
                json={"username": username, "password": password},
                timeout=30,
            )
        except requests.ConnectionError as error:
            raise StackRunError(
                f"the stack's Airflow does not answer at {self.base}: run `make up` first"
            ) from error
        if answer.status_code != 201:
            raise StackRunError(f"logging into {self.base} as {username}: {answer.text[:200]}")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def _call(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.base}/api/v2{path}", timeout=60, **kwargs)
        if response.status_code not in ok:
            raise StackRunError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response

    def wait_until_parsed(self, dag_ids: list[str], timeout_seconds: float = 600) -> None:
        """Wait until the dag-processor has put every DAG in the metadata database."""
        deadline = time.monotonic() + timeout_seconds
        missing = list(dag_ids)
        while missing:
            missing = [
                d
                for d in missing
                if self._call("GET", f"/dags/{d}", ok=(200, 404)).status_code != 200
            ]
            if missing and time.monotonic() > deadline:
                raise StackRunError(
                    f"the stack's dag-processor has not parsed {', '.join(missing)} after "
                    f"{timeout_seconds:.0f} s: see its log under the stack's logs folder"
                )
            if missing:
                time.sleep(POLL_SECONDS)

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def run(
        self,
        dag_id: str,
        as_of_date: dt.date,
        while_waiting: Callable[[list[TaskState]], None] | None = None,
    ) -> str:
        """Run the DAG for ``as_of_date`` to its end; its final state.

        ``while_waiting`` sees the run's task states at each poll, e.g. to deliver a late file
        while its sensor waits.
        """
        return self.wait(dag_id, self.start(dag_id, as_of_date), while_waiting)

    def start(self, dag_id: str, as_of_date: dt.date) -> str:
        """Trigger the DAG's run of ``as_of_date``, or clear it if it ran before; its run id."""
        rid = run_id(dag_id, as_of_date)
        existing = self._call("GET", f"/dags/{dag_id}/dagRuns/{rid}", ok=(200, 404))
        if existing.status_code == 200:
            self._call(
                "POST",
                f"/dags/{dag_id}/clearTaskInstances",
                json={
                    "dag_run_id": rid,
                    "dry_run": False,
                    "only_failed": False,
                    "reset_dag_runs": True,
                },
            )
            state = self.state(dag_id, rid)
            if state in FINISHED:  # else the first poll would read the old run's end
                raise StackRunError(f"clearing {dag_id} run {rid} left it {state}")
        else:
            logical = dt.datetime.combine(as_of_date, dt.time(), tzinfo=dt.UTC).isoformat()
            self._call(
                "POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": rid, "logical_date": logical}
            )
        return rid

    def wait(
        self,
        dag_id: str,
        rid: str,
        while_waiting: Callable[[list[TaskState]], None] | None = None,
        timeout_seconds: float = RUN_TIMEOUT_SECONDS,
    ) -> str:
        deadline = time.monotonic() + timeout_seconds
        while True:
            time.sleep(POLL_SECONDS)
            state = self.state(dag_id, rid)
            if state in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise StackRunError(
                    f"{dag_id} run {rid} is still {state} after {timeout_seconds:.0f} s: is the "
                    "stack's scheduler running (`make status`)?"
                )
            if while_waiting is not None:
                while_waiting(self.task_states(dag_id, rid))

    def state(self, dag_id: str, rid: str) -> str:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{rid}").json()["state"]

    def task_states(self, dag_id: str, rid: str) -> list[TaskState]:
        found = self._call("GET", f"/dags/{dag_id}/dagRuns/{rid}/taskInstances").json()
        now = dt.datetime.now(dt.UTC)
        states = []
        for ti in found["task_instances"]:
            started = ti.get("start_date")
            seconds = (now - dt.datetime.fromisoformat(started)).total_seconds() if started else 0.0
            states.append(TaskState(ti["task_id"], ti.get("state"), seconds))
        return states
