"""Run the dbt project (``dbt_project/``) against the warehouse that settings point at.

dbt reads its configuration from environment variables and ``--vars``; this module derives both
from :class:`~creditlake.settings.Settings` and the logical date (the environment variable
:data:`AS_OF_DATE_ENV`, read only when SQL executes, so that one date's manifest serves the next:
``dbt_project/macros/as_of_date.sql``), so Airflow (through Cosmos),
the demo and the tests all build the same warehouse the same way. :func:`run_dbt` runs dbt
in-process with ``dbtRunner`` and turns a failed invocation into one error that names the failed
nodes, instead of leaving the reader to dig through dbt's log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

from creditlake.lake import parse_date
from creditlake.settings import DBT_PROJECT_DIR, Settings

PROJECT_DIR: Path = DBT_PROJECT_DIR
PROFILES_DIR: Path = PROJECT_DIR

#: What a scheduled date's build leaves out (``dbt build --exclude``): dbt's unit tests check a
#: model's SQL on inline rows, so they give the same verdict on every date and belong with the
#: code's tests (``tests/dbt_project`` builds with them), not in each date's run, where they cost
#: about a tenth of the build.
SCHEDULED_BUILD_EXCLUDES: tuple[str, ...] = ("resource_type:unit_test",)
#: The environment variable that carries a build's as-of date (yyyy-mm-dd) to dbt.
AS_OF_DATE_ENV = "CREDITLAKE_AS_OF_DATE"
#: Node statuses that make an invocation a failure (``warn`` does not).
_FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
#: At most this many failed nodes are listed in an error message.
_MAX_LISTED = 20
#: dbt colours its messages for terminals; error messages also end up in Airflow logs.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class DbtRunError(RuntimeError):
    """A dbt invocation failed; the message lists the failed nodes and their messages."""


def dbt_env(settings: Settings, as_of_date: str | None = None) -> dict[str, str]:
    """The environment variables ``dbt_project/`` reads, derived from settings, and the build's
    as-of date when it has one (a ``yyyy-mm-dd`` date, or the template the warehouse DAG
    renders into one).

    ``profiles.yml`` takes the DuckDB file from ``CREDITLAKE_WAREHOUSE_PATH`` (target ``dev``) or
    the Spark Thrift Server from ``CREDITLAKE_SPARK_THRIFT_HOST``/``_PORT`` (target ``spark``),
    and the sources take the lake from ``CREDITLAKE_LAKE_DIR``. No ``DBT_PROJECT_DIR`` on
    purpose: Cosmos runs dbt from a temporary copy of the project (its working directory), which
    that variable would override.
    """
    env = {
        "CREDITLAKE_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CREDITLAKE_LAKE_DIR": str(settings.lake_dir),
        "CREDITLAKE_SPARK_THRIFT_HOST": settings.spark_thrift_host,
        "CREDITLAKE_SPARK_THRIFT_PORT": str(settings.spark_thrift_port),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if as_of_date is not None:
        env[AS_OF_DATE_ENV] = as_of_date
    return env


def pinned_as_of_date(value: str | dt.date) -> str:
    """The as-of date as dbt receives it (``yyyy-mm-dd``), or an error naming the var."""
    return parse_date(value, "as_of_date").isoformat()


def dbt_vars(settings: Settings) -> dict[str, Any]:
    """The ``--vars`` of a build: the policy values the models read.

    The label's definition is lending policy (:class:`creditlake.policy.Policy`), so it comes
    from settings rather than from a second copy in ``dbt_project.yml``. The same on every
    date: the date itself travels in :data:`AS_OF_DATE_ENV` (:func:`dbt_env`), because dbt
    re-parses the whole project whenever the vars change.
    """
    return settings.policy.dbt_vars()


def run_dbt(
    args: list[str],
    settings: Settings,
    as_of_date: str | dt.date | None,
    snapshots: dict[str, int] | None = None,
    *,
    pin: bool = True,
) -> None:
    """Run ``dbt <args>`` on this project in-process; raise :class:`DbtRunError` if it fails.

    ``as_of_date`` is required by anything that executes models (``build``, ``run``, ``test``,
    ``compile``), which first pin the warehouse's bronze views (:func:`pin_bronze`, at
    ``snapshots`` if given, else the published ones; ``pin=False`` reads what an earlier
    build pinned); ``parse`` and ``ls`` can pass ``None``.
    The environment is set for the call only and restored afterwards, so settings derived later
    in the same process are not affected. The target is ``settings.dbt_target``: on ``spark``
    the bronze snapshots' data files go to dbt as the var ``bronze_files`` instead, for the
    project's ``register_bronze_sources`` hook (``dbt_project/macros/bronze.sql``).
    """
    from dbt.cli.main import dbtRunner

    on_spark = settings.dbt_target == "spark"
    cli_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
        "--target",
        settings.dbt_target,
    ]
    date = None if as_of_date is None else pinned_as_of_date(as_of_date)
    build_vars = dbt_vars(settings)
    if on_spark and date is not None:
        build_vars["bronze_files"] = bronze_files(settings, snapshots)
    cli_args += ["--vars", json.dumps(build_vars)]
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if date is not None and pin and not on_spark:
        pin_bronze(settings, snapshots)
    # dbt reads env_var() from os.environ; patch.dict restores the previous environment after.
    environment = dbt_env(settings, date)
    with mock.patch.dict(os.environ, environment):
        if date is None:
            os.environ.pop(AS_OF_DATE_ENV, None)  # not one left in the environment by a caller
        try:
            result = dbtRunner().invoke(cli_args)
        finally:
            release_warehouse()
    if not result.success:
        raise DbtRunError(failure_message(args, result.result, result.exception))


def bronze_files(
    settings: Settings, snapshots: dict[str, int] | None = None
) -> dict[str, list[str]]:
    """``{source: [data file URI, ...]}`` of each bronze table's published snapshot (or the one
    ``snapshots`` pins), for engines that read bronze by its files (dbt-spark without the Iceberg
    runtime). The same files :func:`pin_bronze` gives DuckDB; a source without data files is left
    out, so a build that needs it fails naming the missing ``bronze`` view."""
    from creditlake.lake import Lake, bronze_table
    from creditlake.sources import SOURCES

    lake = Lake.from_settings(settings)
    files: dict[str, list[str]] = {}
    for source in SOURCES:
        table = bronze_table(source)
        if not lake.exists(table):
            continue
        snapshot_id = (snapshots or {}).get(table) or lake.snapshot_id(table)
        paths = sorted(f.path for f in lake.partition_files(table, snapshot_id=snapshot_id))
        if paths:
            files[source] = paths
    return files


def pin_bronze(
    settings: Settings, snapshots: dict[str, int] | None = None
) -> dict[str, int | None]:
    """Point the warehouse's ``bronze`` schema at the lake's published snapshots.

    One view per source over the data files of its table's published snapshot (``main``), and
    the snapshot ids in ``lake.pinned_snapshots``, which training logs to MLflow so a model's
    training set can be rebuilt from exactly these snapshots. Staged dates (audit branches) are
    not in the published snapshot, so nothing dbt builds can read data whose gate has not passed.
    Files in object storage are copied into the warehouse instead (DuckDB has no S3 reader that
    installs offline). ``snapshots`` (``{lake table: snapshot id}``, as training logged them) pins
    earlier snapshots instead, to rebuild what a model was trained on. Returns
    ``{source: snapshot id}``.
    """
    import duckdb
    import pyarrow as pa

    from creditlake.lake import PINNED_SNAPSHOTS_TABLE, Lake, bronze_table
    from creditlake.sources import SOURCES

    lake = Lake.from_settings(settings)
    pinned: dict[str, int | None] = {}
    pinned_at = dt.datetime.now(dt.UTC)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists bronze")
        con.execute("create schema if not exists lake")
        for source in SOURCES:
            table = bronze_table(source)
            if not lake.exists(table):
                continue
            snapshot_id = (snapshots or {}).get(table) or lake.snapshot_id(table)
            files = lake.partition_files(table, snapshot_id=snapshot_id)
            local = [f.local_path for f in files]
            _drop_relation(con, "bronze", source)
            if files and all(local):
                listed = ", ".join("'" + path.replace("'", "''") + "'" for path in local)
                con.execute(
                    f'create view bronze."{source}" as '
                    f"select * from read_parquet([{listed}], union_by_name = true)"
                )
            else:
                con.register("pinned_rows", lake.read(table, snapshot_id=snapshot_id))
                con.execute(f'create table bronze."{source}" as select * from pinned_rows')
                con.unregister("pinned_rows")
            pinned[source] = snapshot_id
        record = pa.table(
            {
                "table_name": [bronze_table(s) for s in pinned],
                "snapshot_id": [pinned[s] for s in pinned],
                "pinned_at": [pinned_at] * len(pinned),
            }
        )
        con.register("pinned_record", record)
        con.execute(
            f"create or replace table {PINNED_SNAPSHOTS_TABLE} as select * from pinned_record"
        )
    return pinned


def _drop_relation(con: Any, schema: str, name: str) -> None:
    """Drop ``schema.name`` whether it is a view (local snapshot files) or a table (a copy of
    object-storage files): DuckDB refuses ``drop view`` of a table and ``drop table`` of a view."""
    found = con.execute(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    if found is not None:
        kind = "view" if found[0] == "VIEW" else "table"
        con.execute(f'drop {kind} "{schema}"."{name}"')


def release_warehouse() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open in this process after a dbt call.

    dbt-duckdb caches one open database per process and does not close it when ``dbtRunner``
    returns. While it stays open, the warehouse file is locked against every other process and
    no other connection in this process can open it differently (read-only, as Great Expectations,
    training and scoring do). Anything that runs dbt in-process (Cosmos in ``dbt_runner`` mode
    under ``airflow dags test``) should call this after dbt finishes; :func:`run_dbt` does.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a core dependency
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


def failed_nodes(run_result: Any) -> list[tuple[str, str, str]]:
    """``(unique_id, status, message)`` of every failed node in a dbt execution result."""
    failures = []
    for node_result in getattr(run_result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status))
        if status in _FAILED_STATUSES:
            node = getattr(node_result, "node", None)
            unique_id = getattr(node, "unique_id", "<unknown node>")
            message = _plain(str(node_result.message or ""))
            failures.append((unique_id, status, message))
    return failures


def failure_message(args: list[str], run_result: Any, exception: BaseException | None) -> str:
    """One readable message for a failed invocation: the command, failed nodes, or the error."""
    lines = [f"dbt {' '.join(args)} failed (project {PROJECT_DIR})"]
    failures = failed_nodes(run_result)
    for unique_id, status, message in failures[:_MAX_LISTED]:
        lines.append(f"  {status}: {unique_id}: {message[:500]}")
    if len(failures) > _MAX_LISTED:
        lines.append(f"  ... and {len(failures) - _MAX_LISTED} more failed nodes")
    if exception is not None:
        lines.append(f"  {type(exception).__name__}: {_plain(str(exception))[:2000]}")
    if not failures and exception is None:
        lines.append("  no node failed; see dbt_project/logs/dbt.log")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """One line of text without terminal colour codes."""
    return " ".join(_ANSI_ESCAPE.sub("", text).split())
