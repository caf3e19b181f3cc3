"""Case ``ingest``: one source's bronze ingest of the initial extract, engine against engine.

Peers, per source: the Spark job (``python -m spark_jobs.ingest`` with
``CREDITLAKE_INGEST_ENGINE=spark``), the same command on the in-process DuckDB engine
(``CREDITLAKE_INGEST_ENGINE=duckdb``, recorded as not available while ``Settings`` has no
``ingest_engine``), and the pandas peer (``bench/peers/pandas_ingest.py``) for the sources it
implements. Each run gets a fresh home holding a copy of just that delivery. After each scale the
outputs are compared with the reference engine's (the Spark job's, or the first of
``--ingest-engines``): row counts per outcome, quarantine reasons, and the set of bronze keys; a
difference is reported as a mismatch in results.json and summary.md. ``--ingest-engines
duckdb,pandas`` leaves the Spark job out, for scales where it would take most of the bench's
time (its parity with the DuckDB engine is proved by ``tests/spark_jobs/test_engine_parity.py``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bench.core import Peer, RunRecord, python_module
from bench.data import Scale, bench_pii_key, child_env, copy_delivery, home_settings, new_home
from bench.peers.pandas_ingest import SUPPORTED as PANDAS_SOURCES
from creditlake.settings import PROJECT_ROOT, Settings

#: The heaviest deliveries of the initial extract (app events and transactions are millions of
#: JSON lines at 1x; repayment schedules the largest CSV).
DEFAULT_SOURCES = ("app_events", "transactions", "repayment_schedules")
ENGINES = ("spark", "duckdb", "pandas")
#: What must agree between engines for one delivery.
COUNTS = ("landing_rows", "bronze_rows", "quarantined_rows", "duplicates_dropped")


def duckdb_engine_missing() -> str | None:
    """Why ``CREDITLAKE_INGEST_ENGINE=duckdb`` cannot run here, or None when it can."""
    names = {item.name for item in dataclasses.fields(Settings)}
    if "ingest_engine" not in names:
        return "not available: creditlake.settings.Settings has no ingest_engine yet"
    return None


def _json_tail(stdout: str) -> dict[str, Any]:
    """The JSON object a peer printed last (the Spark job logs before it, on stderr or not)."""
    start = stdout.rfind("\n{")
    text = stdout[start + 1 :] if start >= 0 else stdout
    text = text[text.find("{") :]
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"no JSON result in the output: {error}") from None


class IngestCase:
    name = "ingest"
    baseline = ENGINES[0]  # until engines() reads the options

    def __init__(self) -> None:
        self.homes: dict[tuple[int, str, str], Path] = {}

    def engines(self, options: Any) -> list[str]:
        """The engines to run, the first being the reference (ratios and checks against it)."""
        chosen = list(getattr(options, "ingest_engines", None) or ENGINES)
        unknown = [e for e in chosen if e not in ENGINES]
        if unknown or not chosen:
            raise SystemExit(f"unknown ingest engine(s) {unknown}; known: {', '.join(ENGINES)}")
        self.baseline = chosen[0]
        return chosen

    def sources(self, options: Any) -> list[str]:
        from creditlake.sources import SOURCES

        wanted = list(SOURCES) if options.sources == ["all"] else options.sources
        unknown = [s for s in wanted if s not in SOURCES]
        if unknown:
            raise SystemExit(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
        return wanted

    def peers(self, scale: Scale, options: Any) -> list[Peer]:
        peers = []
        date = scale.extract_date.isoformat()
        for source in self.sources(options):
            job = python_module("spark_jobs.ingest", "--source", source, "--as-of-date", date)
            for engine in self.engines(options):
                home = self._home_path(options.out, scale, source, engine)
                prepare = self._preparer(options.out, scale, source, engine, home)
                if engine == "pandas":
                    argv = python_module(
                        "bench.peers.pandas_ingest", "--source", source, "--as-of-date", date,
                        "--out", str(home / "pandas"),
                    )  # fmt: skip
                    missing = None if source in PANDAS_SOURCES else "no pandas peer for it yet"
                else:
                    argv = job
                    missing = duckdb_engine_missing() if engine == "duckdb" else None
                peers.append(
                    Peer(
                        subject=source, engine=engine, argv=argv, prepare=prepare,
                        parse=_json_tail, unavailable=missing, cwd=PROJECT_ROOT,
                    )
                )  # fmt: skip
        return peers

    def _home_path(self, out: Path, scale: Scale, source: str, engine: str) -> Path:
        return (out / "runs" / f"ingest-{scale.label}-{source}-{engine}").resolve()

    def _preparer(self, out: Path, scale: Scale, source: str, engine: str, home: Path):
        def prepare(repeat: int) -> dict[str, str]:
            fresh = new_home(out, home.name, bench_pii_key(out))
            copy_delivery(scale, fresh, source, scale.extract_date)
            self.homes[(scale.factor, source, engine)] = fresh
            if engine == "pandas":  # not an engine of the job: settings would refuse the name
                return child_env(fresh)
            return child_env(fresh, CREDITLAKE_INGEST_ENGINE=engine)

        return prepare

    def check(self, scale: Scale, runs: list[RunRecord]) -> dict[str, Any]:
        """Each engine's last successful run of a source against the reference engine's."""
        found: dict[str, Any] = {}
        last: dict[tuple[str, str], RunRecord] = {}
        for run in runs:
            if run.status == "ok":
                last[(run.subject, run.engine)] = run
        for source in sorted({run.subject for run in runs}):
            reference = last.get((source, self.baseline))
            for engine in ENGINES:
                other = last.get((source, engine))
                if engine == self.baseline or other is None:
                    continue
                if reference is None:
                    found[f"{source} {engine}"] = {
                        "note": f"no successful {self.baseline} run to compare"
                    }
                    continue
                found[f"{source} {engine}"] = self._compare(scale, source, engine, reference, other)
        return found

    def _compare(
        self, scale: Scale, source: str, engine: str, reference: RunRecord, other: RunRecord
    ) -> dict[str, Any]:
        base = self.baseline
        differences = {
            name: {base: reference.extra.get(name), engine: other.extra.get(name)}
            for name in (*COUNTS, "quarantined_by_reason")
            if reference.extra.get(name) != other.extra.get(name)
        }
        keys = self._key_sets(scale, source, engine, reference, other)
        if keys.get("differ"):
            differences["bronze_keys"] = keys
        return {
            "equal": not differences,
            "what": f"{engine} vs {base}: counts, reasons"
            + (", bronze keys" if f"{base}_keys" in keys else " (bronze keys not read)"),
            "differences": differences,
            "bronze_rows": reference.extra.get("bronze_rows"),
        }

    def _key_sets(
        self, scale: Scale, source: str, engine: str, reference: RunRecord, other: RunRecord
    ) -> dict[str, Any]:
        """The bronze keys each engine wrote: a job's staged snapshot, the pandas peer's file."""
        from creditlake.sources import get_source

        key = get_source(source).key
        base = self.baseline
        reference_keys = self._keys(scale, source, base, reference, key)
        other_keys = self._keys(scale, source, engine, other, key)
        if reference_keys is None or other_keys is None:
            return {}
        only_reference, only_other = reference_keys - other_keys, other_keys - reference_keys
        return {
            f"{base}_keys": len(reference_keys),
            f"{engine}_keys": len(other_keys),
            "differ": bool(only_reference or only_other),
            f"only_{base}_sample": sorted(map(str, only_reference))[:10],
            f"only_{engine}_sample": sorted(map(str, only_other))[:10],
        }

    def _keys(self, scale: Scale, source: str, engine: str, run: RunRecord, key: str) -> set | None:
        if engine != "pandas":
            return self._lake_keys(scale, source, engine, run, key)
        import pyarrow.parquet as pq

        path = run.extra.get("bronze_file")
        return set(pq.read_table(path, columns=[key])[key].to_pylist()) if path else None

    def _lake_keys(
        self, scale: Scale, source: str, engine: str, run: RunRecord, key: str
    ) -> set | None:
        from creditlake.lake import Lake, bronze_table

        home = self.homes.get((scale.factor, source, engine))
        snapshot = run.extra.get("bronze_snapshot_id")
        if home is None or snapshot is None:
            return None
        lake = Lake.from_settings(home_settings(home))
        rows = lake.read(bronze_table(source), snapshot_id=snapshot).select([key])
        return set(rows[key].to_pylist())
