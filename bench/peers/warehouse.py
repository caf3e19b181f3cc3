"""The warehouse case's child processes: prepare a lake once, then build one date three ways.

    python -m bench.peers.warehouse prepare --date D --target DIR   # untimed, once per scale
    python -m bench.peers.warehouse compile --date D   # untimed, when the dbt project changed
    python -m bench.peers.warehouse dag     --date D   # transform__warehouse through dag.test
    python -m bench.peers.warehouse dbt     --date D   # one `dbt build` as the DAG's (run_dbt)
    python -m bench.peers.warehouse duckdb  --date D --manifest M   # compiled SQL, no dbt

Each reads its creditlake home from the environment the harness gives it (``bench/cases/
warehouse.py``) and prints one JSON object. ``prepare`` loads and publishes every source's
delivery (``orchestration.lake_bench.load_date``: the Spark job, the bronze gate, the publish),
migrates an Airflow metadata DB with the warehouse pool, and compiles the dbt project for the date
against an empty warehouse, so that the manifest's ``compiled_code`` is each model's first build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from creditlake.settings import get_settings

#: The DAG file the ``dag`` peer parses (a task pays for parsing its own DAG's file, not all).
WAREHOUSE_DAG = "transform__warehouse"


def prepare(as_of_date: dt.date) -> dict[str, Any]:
    from orchestration.demo_runs import prepare_airflow
    from orchestration.lake_bench import ingest_session, load_date
    from orchestration.runtime import apply_runtime_env

    settings = get_settings()
    apply_runtime_env(settings)
    started = time.monotonic()
    with ingest_session(settings, "creditlake-bench-prepare") as spark:
        load_date(settings, as_of_date, spark, lambda line: print(line, file=sys.stderr))
    loaded = time.monotonic() - started
    prepare_airflow(settings, lambda line: print(line, file=sys.stderr))
    compile_project(as_of_date)
    return {"load_seconds": round(loaded, 1), "seconds": round(time.monotonic() - started, 1)}


def compile_project(as_of_date: dt.date) -> dict[str, Any]:
    """``dbt compile`` against an empty warehouse: each model's first build in the manifest."""
    from orchestration.dbt import run_dbt

    started = time.monotonic()
    run_dbt(["compile", "--quiet"], get_settings(), as_of_date)
    return {"seconds": round(time.monotonic() - started, 1)}


def dag(as_of_date: dt.date) -> dict[str, Any]:
    """``dag.test`` of the warehouse DAG; its wall time and each task instance's duration."""
    from orchestration.demo import _demo_environment
    from orchestration.runtime import DAGS_FOLDER, apply_runtime_env

    settings = get_settings()
    _demo_environment()
    apply_runtime_env(settings)
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / f"{WAREHOUSE_DAG}.py"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    started = time.monotonic()
    logical = pendulum.datetime(as_of_date.year, as_of_date.month, as_of_date.day, tz="UTC")
    dag_run = bag.dags[WAREHOUSE_DAG].test(logical_date=logical)
    wall = time.monotonic() - started
    tasks = _task_seconds(dag_run)
    state = str(getattr(dag_run.state, "value", dag_run.state))
    total = sum(tasks.values())
    dbt = sum(seconds for task, seconds in tasks.items() if task.startswith("dbt."))
    result = {
        "state": state,
        "dag_seconds": round(wall, 2),
        "task_seconds": tasks,
        "sum_task_seconds": round(total, 2),
        "dbt_task_seconds": round(dbt, 2),
        "dbt_share_of_tasks": round(dbt / total, 3) if total else None,
        "orchestration_seconds": round(wall - total, 2),
    }
    if state != "success":
        print(json.dumps(result))
        raise SystemExit(f"{WAREHOUSE_DAG} ended {state} for {as_of_date}")
    return result


def _task_seconds(dag_run: Any) -> dict[str, float]:
    """Each task instance's duration from the metadata DB (what the Airflow UI shows)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = (
            session.query(TaskInstance)
            .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
        return {ti.task_id: round(float(ti.duration or 0.0), 3) for ti in instances}


def dbt_build(as_of_date: dt.date) -> dict[str, Any]:
    """One ``dbt build`` of what the DAG's layers build (data tests, not unit tests)."""
    from orchestration.dbt import SCHEDULED_BUILD_EXCLUDES, run_dbt

    started = time.monotonic()
    run_dbt(
        ["build", "--quiet", "--exclude", *SCHEDULED_BUILD_EXCLUDES], get_settings(), as_of_date
    )
    return {"build_seconds": round(time.monotonic() - started, 2)}


def duckdb_build(as_of_date: dt.date, manifest_path: Path) -> dict[str, Any]:
    """The compiled models in dependency order, then the compiled data tests, straight in DuckDB.

    Bronze is pinned first as dbt's build does it (``pin_bronze``). What dbt adds and this does
    not: contracts' declared column types and constraints, unit tests, and dbt's own bookkeeping.
    """
    import duckdb

    from orchestration.dbt import pin_bronze

    settings = get_settings()
    started = time.monotonic()
    pin_bronze(settings)
    models, tests = plan(json.loads(manifest_path.read_text()))
    found: dict[str, dict[str, int]] = {"error": {}, "warn": {}}
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for node in models:
            con.execute(f"create schema if not exists {_schema_of(node)}")
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create or replace {kind} {node['relation_name']} as\n{_sql(node)}")
        for node in tests:
            (count,) = con.execute(f"select count(*) from ({_sql(node)}) as failures").fetchone()
            if count:
                severity = str(node["config"].get("severity", "error")).lower()
                found["warn" if severity == "warn" else "error"][node["name"]] = count
    return {
        "seconds": round(time.monotonic() - started, 2),
        "models": len(models),
        "tests": len(tests),
        # a test of severity warn that finds rows is a warning in dbt build too, not a failure
        "failing_tests": found["error"],
        "warning_tests": found["warn"],
    }


def plan(manifest: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """The project's models (not ephemeral ones, whose SQL their dependants inline) in dependency
    order, and its data tests."""
    from graphlib import TopologicalSorter

    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node.get("package_name") == manifest["metadata"].get("project_name", "creditlake")
    }
    models = {
        uid: n
        for uid, n in nodes.items()
        if n["resource_type"] == "model" and n["config"]["materialized"] != "ephemeral"
    }
    graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models] for uid, n in models.items()}
    ordered = [models[uid] for uid in TopologicalSorter(graph).static_order()]
    tests = [n for n in nodes.values() if n["resource_type"] == "test"]
    return ordered, tests


def _sql(node: dict[str, Any]) -> str:
    code = node.get("compiled_code")
    if not code:
        raise SystemExit(f"{node['unique_id']} has no compiled SQL: run `dbt compile` first")
    return code


def _schema_of(node: dict[str, Any]) -> str:
    return f'"{node["database"]}"."{node["schema"]}"'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.warehouse")
    parser.add_argument("step", choices=("prepare", "compile", "dag", "dbt", "duckdb"))
    parser.add_argument("--date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--manifest", type=Path)
    args = parser.parse_args(argv)
    if args.step == "prepare":
        result = prepare(args.date)
    elif args.step == "compile":
        result = compile_project(args.date)
    elif args.step == "dag":
        result = dag(args.date)
    elif args.step == "dbt":
        result = dbt_build(args.date)
    else:
        result = duckdb_build(args.date, args.manifest)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
