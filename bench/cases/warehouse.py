"""Case ``warehouse``: the warehouse build of the initial extract date, three ways.

- ``dag``: ``transform__warehouse`` through Airflow's ``dag.test`` (what the demo runs): waits for
  the ledger, pins bronze, three Cosmos ``dbt build`` tasks, ``dbt source freshness``, the GX gate.
  Its output also gives Σ task time from the metadata DB, the dbt tasks' share of it, and the
  orchestration overhead (DAG wall − Σ task time).
- ``dbt``: one ``dbt build`` for the date (``orchestration.dbt.run_dbt``), pinning included.
- ``duckdb``: the same models' compiled SQL in dependency order, then the data tests' SQL,
  straight in DuckDB after the same pin (``bench/peers/warehouse.py``).

The lake is loaded and published once per scale, untimed, and shared read-only by every run
(only the DAG's gate adds its verdict to the ledger); each run builds into an empty warehouse of
its own, with a copy of the prepared Airflow metadata DB and dbt target folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bench.core import Peer, RunRecord, last_json, python_module, run_measured
from bench.data import Scale, bench_pii_key, put_pii_key
from creditlake.settings import DBT_PROJECT_DIR, PROJECT_ROOT

ENGINES = ("dag", "dbt", "duckdb")
#: The build the ratios are taken against: the issue's target is DAG ≤ 1.5× direct DuckDB.
BASELINE = "duckdb"
SUBJECT = "warehouse"
#: Beside the prepared lake: the digest of the dbt project its manifest was compiled from.
COMPILED_STAMP = "compiled.json"


def _home_env(home: Path, lake_home: Path, scale: Scale) -> dict[str, str]:
    """A run's environment: its own home, warehouse, Airflow DB and dbt target; the shared lake."""
    return {
        "CREDITLAKE_HOME": str(home),
        "CREDITLAKE_LAKE_DIR": str(lake_home / "lake"),
        "CREDITLAKE_LANDING_URI": str(scale.landing),
        "CREDITLAKE_SECRETS_DIR": str(lake_home / "secrets"),
        "CREDITLAKE_SECRETS_BACKEND": "local",
        "CREDITLAKE_WAREHOUSE_PATH": str(home / "warehouse" / "creditlake.duckdb"),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "DBT_TARGET_PATH": str(home / "target"),
    }


def dbt_project_digest() -> str:
    """A digest of every file of the dbt project that dbt reads (models, macros, configuration)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        if path.suffix in (".sql", ".yml", ".yaml") and "target" not in path.parts:
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class WarehouseCase:
    name = "warehouse"
    baseline = BASELINE

    def __init__(self) -> None:
        self.prepared: dict[int, Path] = {}

    def lake_home(self, out: Path, scale: Scale) -> Path:
        """The scale's loaded and published lake, prepared once (and reused while the landing
        data it was loaded from is unchanged)."""
        if scale.factor in self.prepared:
            return self.prepared[scale.factor]
        home = scale.home / "warehouse-lake"
        stamp = home / "prepared.json"
        landing_stamp = json.loads((scale.home / "landing.stamp.json").read_text())
        wanted = landing_stamp["config_sha256"]
        if not (stamp.is_file() and json.loads(stamp.read_text()).get("landing") == wanted):
            print(f"  warehouse {scale.factor}×: loading and publishing {scale.extract_date}")
            shutil.rmtree(home, ignore_errors=True)
            put_pii_key(home, bench_pii_key(out))
            env = _home_env(home, home, scale)
            argv = python_module(
                "bench.peers.warehouse", "prepare", "--date", scale.extract_date.isoformat()
            )
            done = run_measured(argv, env=env, cwd=PROJECT_ROOT)
            if done.returncode != 0:
                raise SystemExit(f"preparing the warehouse lake failed:\n{done.stderr_tail}")
            print(f"  prepared in {done.seconds:.0f} s ({done.peak_mb:.0f} MB)")
            stamp.write_text(json.dumps({"landing": wanted, "result": last_json(done.stdout)}))
            # the preparation compiled the project as it is now
            (home / COMPILED_STAMP).write_text(json.dumps({"dbt_project": dbt_project_digest()}))
        self._compile_if_changed(home, scale)
        self.prepared[scale.factor] = home
        return home

    @staticmethod
    def _compile_if_changed(home: Path, scale: Scale) -> None:
        """Compile the dbt project again if it changed since the lake was prepared, so that the
        ``duckdb`` peer runs the SQL (and materializations) that ``dbt build`` runs today."""
        stamp = home / COMPILED_STAMP
        digest = dbt_project_digest()
        if stamp.is_file() and json.loads(stamp.read_text()).get("dbt_project") == digest:
            return
        print(f"  warehouse {scale.factor}×: compiling the dbt project (it changed)")
        argv = python_module(
            "bench.peers.warehouse", "compile", "--date", scale.extract_date.isoformat()
        )
        done = run_measured(argv, env=_home_env(home, home, scale), cwd=PROJECT_ROOT)
        if done.returncode != 0:
            raise SystemExit(f"compiling the dbt project failed:\n{done.stderr_tail}")
        stamp.write_text(json.dumps({"dbt_project": digest}))

    def peers(self, scale: Scale, options: Any) -> list[Peer]:
        date = scale.extract_date.isoformat()
        peers = []
        for engine in ENGINES:
            args = ["--date", date]
            if engine == "duckdb":
                manifest = scale.home / "warehouse-lake" / "target" / "manifest.json"
                args += ["--manifest", str(manifest)]
            peers.append(
                Peer(
                    subject=SUBJECT,
                    engine=engine,
                    argv=python_module("bench.peers.warehouse", engine, *args),
                    prepare=self._preparer(options.out, scale, engine),
                    parse=last_json,
                    cwd=PROJECT_ROOT,
                )
            )
        return peers

    def _preparer(self, out: Path, scale: Scale, engine: str):
        def prepare(repeat: int) -> dict[str, str]:
            lake_home = self.lake_home(out, scale)
            home = (out / "runs" / f"warehouse-{scale.label}-{engine}").resolve()
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir(parents=True)
            shutil.copytree(lake_home / "airflow", home / "airflow")
            shutil.copytree(lake_home / "target", home / "target")
            return _home_env(home, lake_home, scale)

        return prepare

    def check(self, scale: Scale, runs: list[RunRecord]) -> dict[str, Any]:
        """The DAG's orchestration overhead, and whether the direct build's tests found rows."""
        found: dict[str, Any] = {}
        dag = [r for r in runs if r.engine == "dag" and r.status == "ok"]
        if dag:
            last = dag[-1].extra
            found["dag overhead"] = {
                "note": (
                    f"dag.test {last['dag_seconds']:.1f} s = Σ tasks "
                    f"{last['sum_task_seconds']:.1f} s (dbt tasks "
                    f"{last['dbt_share_of_tasks']:.0%}) + orchestration "
                    f"{last['orchestration_seconds']:.1f} s; process "
                    f"{dag[-1].seconds:.1f} s"
                )
            }
        direct = [r for r in runs if r.engine == "duckdb" and r.status == "ok"]
        if direct:
            failing = direct[-1].extra.get("failing_tests") or {}
            warned = direct[-1].extra.get("warning_tests") or {}
            found["duckdb tests"] = {
                "equal": not failing,
                "what": f"{direct[-1].extra.get('models')} models and "
                f"{direct[-1].extra.get('tests')} data tests run directly; failing (severity "
                f"error): {', '.join(failing) or 'none'}; {len(warned)} of severity warn found "
                "rows, as they do in dbt build",
            }
        return found
