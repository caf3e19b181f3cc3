"""The demo case's child: ``creditlake demo`` at a scale, then what its task times say.

    python -m bench.peers.demo --customers N --behaviour-events M

Runs the whole demo in this process (as ``make demo`` does) in the home the harness gives it,
then reads every task instance's duration from the demo's Airflow metadata DB and prints one JSON
object:

- ``gx_share``: for every gated step, the share of the Great Expectations gate in it: an ingest
  source's ``validate_bronze`` over ``load_bronze + validate_bronze + publish_bronze``, and the
  warehouse's ``validate_warehouse`` over ``pin_bronze`` + the dbt layers + ``validate_warehouse``
  (median and worst, and each step's figure);
- ``orchestration``: Σ DAG-run wall against Σ task time, the part Airflow itself adds;
- ``task_seconds``: the total per task name, the profile a person reads first.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from collections import defaultdict
from typing import Any

#: The gate and the rest of each gated step, by task name (the last part of the task id).
INGEST_STEP = ("load_bronze", "validate_bronze", "publish_bronze")
WAREHOUSE_STEP = ("pin_bronze", "staging", "intermediate", "marts", "validate_warehouse")


def _rows(database: str) -> list[tuple[str, str, str, float]]:
    with sqlite3.connect(database) as con:
        return con.execute(
            "select dag_id, run_id, task_id, coalesce(duration, 0) from task_instance"
        ).fetchall()


def _run_walls(database: str) -> list[float]:
    """Each DAG run's wall, first task start to last task end (``dag.test`` records the logical
    date as the run's start)."""
    with sqlite3.connect(database) as con:
        rows = con.execute(
            "select (julianday(max(end_date)) - julianday(min(start_date))) * 86400 "
            "from task_instance where start_date is not null group by dag_id, run_id"
        ).fetchall()
    return [row[0] for row in rows if row[0] is not None]


def gx_shares(rows: list[tuple[str, str, str, float]]) -> list[dict[str, Any]]:
    """Each gated step's GX share: per (run, source) for ingest, per run for the warehouse."""
    steps: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    for dag_id, run_id, task_id, seconds in rows:
        group, _, name = task_id.rpartition(".")
        if dag_id.startswith("ingest__") and name in INGEST_STEP:
            steps[(dag_id, run_id, group)][name] = seconds
        elif dag_id == "transform__warehouse" and name in WAREHOUSE_STEP:
            steps[(dag_id, run_id, "warehouse")][name] = seconds
    shares = []
    for (dag_id, run_id, subject), tasks in sorted(steps.items()):
        gate = tasks.get("validate_bronze", tasks.get("validate_warehouse"))
        total = sum(tasks.values())
        if gate is None or total <= 0:
            continue
        shares.append(
            {
                "dag": dag_id,
                "run": run_id,
                "subject": subject,
                "gate_seconds": round(gate, 2),
                "step_seconds": round(total, 2),
                "share": round(gate / total, 4),
            }
        )
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.demo")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--behaviour-events", type=int, required=True)
    args = parser.parse_args(argv)

    from creditlake.settings import get_settings
    from orchestration.cli import main as creditlake

    started = time.monotonic()
    creditlake(  # exits with the demo's status when it fails
        [
            "demo",
            "--customers",
            str(args.customers),
            "--behaviour-events",
            str(args.behaviour_events),
        ]
    )
    seconds = time.monotonic() - started
    settings = get_settings()
    database = str(settings.airflow_home / "airflow.db")
    rows = _rows(database)
    shares = gx_shares(rows)
    per_task: dict[str, float] = defaultdict(float)
    for _, _, task_id, task_seconds in rows:
        per_task[task_id.rpartition(".")[2]] += task_seconds
    walls = _run_walls(database)
    sum_tasks = sum(per_task.values())
    values = [share["share"] for share in shares]
    result = {
        "demo_seconds": round(seconds, 1),
        "dag_runs": len(walls),
        "gx_share": {
            "median": round(statistics.median(values), 4) if values else None,
            "worst": max(shares, key=lambda s: s["share"]) if shares else None,
            "steps": shares,
        },
        "orchestration": {
            "sum_run_seconds": round(sum(walls), 1),
            "sum_task_seconds": round(sum_tasks, 1),
            "overhead_seconds": round(sum(walls) - sum_tasks, 1),
        },
        "task_seconds": {
            name: round(value, 1) for name, value in sorted(per_task.items(), key=lambda i: -i[1])
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
