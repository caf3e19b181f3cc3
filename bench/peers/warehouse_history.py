"""The warehouse-history case's child processes: load N days of deliveries once, then build a day.

    python -m bench.peers.warehouse_history prepare --through D   # untimed, cached, extendable
    python -m bench.peers.warehouse_history build   --date D      # one daily `dbt build`

Each reads its creditlake home from the environment the harness gives it (``bench/cases/
warehouse_history.py``) and prints one JSON object. ``prepare`` loads and publishes every date
from the initial extract through ``D`` that the lake does not hold yet (``orchestration.
lake_bench.load_date``: the ingest job, the bronze gate, the publish, in one process), so a
lake prepared for 30 days is extended, not rebuilt, for 365; it records each date's load time, the
preparation's cost. ``build`` is what the daily run does for its date: pin bronze, ``dbt build``.
Beside the time it reports how many bronze rows the build's date reads (every delivery up to the
date, which staging keeps the latest of) and how many of them the date delivered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from creditlake.settings import get_settings

#: Per-date load times of the prepared lake, beside it (read by the case for its report).
LOADED_FILE = "loaded.json"


def loaded_dates(lake_home: Path) -> dict[str, float]:
    """``{date: seconds its load took}`` of the dates the prepared lake holds."""
    path = lake_home / LOADED_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def prepare(first: dt.date, through: dt.date) -> dict[str, Any]:
    """Load the dates from ``first`` through ``through`` not loaded yet, recording each one."""
    from orchestration.lake_bench import ingest_session, load_date
    from orchestration.runtime import apply_runtime_env

    settings = get_settings()
    apply_runtime_env(settings)
    loaded = loaded_dates(settings.home)
    wanted = [first + dt.timedelta(days=n) for n in range((through - first).days + 1)]
    missing = [d for d in wanted if d.isoformat() not in loaded]
    if missing and max(loaded, default="") > missing[0].isoformat():
        raise SystemExit(f"the prepared lake skips {missing[0]}: delete {settings.home} to rebuild")
    started = time.monotonic()
    if missing:
        with ingest_session(settings, "creditlake-bench-history") as spark:
            for as_of_date in missing:
                began = time.monotonic()
                load_date(settings, as_of_date, spark, lambda line: print(line, file=sys.stderr))
                loaded[as_of_date.isoformat()] = round(time.monotonic() - began, 1)
                # written after every date, so an interrupted preparation keeps its progress
                (settings.home / LOADED_FILE).write_text(json.dumps(loaded, indent=0))
    return {"loaded_now": len(missing), "seconds": round(time.monotonic() - started, 1)}


def build(as_of_date: dt.date) -> dict[str, Any]:
    """The daily run's build for the date, and the bronze rows it reads per row the date added."""
    from orchestration.dbt import SCHEDULED_BUILD_EXCLUDES, run_dbt

    settings = get_settings()
    started = time.monotonic()
    run_dbt(["build", "--quiet", "--exclude", *SCHEDULED_BUILD_EXCLUDES], settings, as_of_date)
    seconds = time.monotonic() - started
    read, new = bronze_rows(settings.warehouse_path, as_of_date)
    return {
        "build_seconds": round(seconds, 2),
        "node_seconds": node_seconds(),
        "bronze_rows_read": read,
        "bronze_rows_new": new,
        "rows_read_per_new_row": round(read / new, 1) if new else None,
    }


def node_seconds() -> dict[str, float]:
    """Each model's execution time in the build, and its data tests' together (``tests``), from
    dbt's ``run_results.json``: where the time went, and which models grow with history."""
    from creditlake.settings import DBT_TARGET_DIR

    path = Path(os.environ.get("DBT_TARGET_PATH") or DBT_TARGET_DIR) / "run_results.json"
    found: dict[str, float] = {"tests": 0.0}
    for result in json.loads(path.read_text())["results"]:
        kind, *_, name = result["unique_id"].split(".")
        if kind == "model":
            found[name] = round(result["execution_time"], 3)
        elif kind in ("test", "unit_test"):
            found["tests"] += result["execution_time"]
    found["tests"] = round(found["tests"], 3)
    return found


def bronze_rows(warehouse: Path, as_of_date: dt.date) -> tuple[int, int]:
    """Rows of the pinned bronze views delivered by the date (what staging reads for it) and on
    the date (what it adds), counted in the warehouse the build used."""
    import duckdb

    from creditlake.sources import PARTITION_COLUMN, SOURCES

    read = new = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for source in SOURCES:
            by, on = con.execute(
                f"select count(*) filter (where cast({PARTITION_COLUMN} as date) <= ?), "
                f"count(*) filter (where cast({PARTITION_COLUMN} as date) = ?) "
                f'from bronze."{source}"',
                [as_of_date, as_of_date],
            ).fetchone()
            read += by
            new += on
    return read, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.warehouse_history")
    parser.add_argument("step", choices=("prepare", "build"))
    parser.add_argument("--date", type=dt.date.fromisoformat, help="build: the date to build")
    parser.add_argument("--first", type=dt.date.fromisoformat, help="prepare: the extract date")
    parser.add_argument("--through", type=dt.date.fromisoformat, help="prepare: the last date")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        if args.first is None or args.through is None:
            parser.error("prepare needs --first and --through")
        result = prepare(args.first, args.through)
    else:
        if args.date is None:
            parser.error("build needs --date")
        result = build(args.date)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
