"""Case ``warehouse-history``: the daily warehouse run after N days of history vs the first one.

The marts are incremental per ``as_of_date`` (``dbt_project/README.md``), but staging reads every
bronze delivery up to the date to keep each key's latest one, so a daily run's cost can grow with
the history behind it. Engines, all the same ``dbt build`` of one date, interleaved:

- ``first``: the first daily date after the initial extract (the baseline);
- ``after<N>``: the daily date N days after the extract, for each N of ``--history-days``.

Preparation, cached under ``<out>/data/<k>x-history`` and extended rather than rebuilt when a
longer history is asked for: the scale's generator settings with as many daily deliveries as the
longest history, every date loaded and published in order (the Spark job, the bronze gate, the
publish; each date's time is kept and reported), and the first daily date built once, so that
each run starts from a warehouse whose relations exist (as on any day after the first). Every
run builds into its own copy of that warehouse; the bronze it reads is pinned to the lake's
published snapshot and filtered to the build's date, so a later date in the lake changes
nothing of what an earlier date's build reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from bench.core import Peer, RunRecord, last_json, python_module, run_measured
from bench.data import Scale, bench_pii_key, generator_config, home_settings, put_pii_key
from creditlake.settings import PROJECT_ROOT

BASELINE = "first"
SUBJECT = "daily build"
#: History lengths measured when ``--history-days`` is not given.
DEFAULT_HISTORY_DAYS = (30, 365)
#: Daily deliveries generated, whatever is measured: the landing zone (and so every date's data)
#: stays the same when a longer history is asked for later, and the lake is extended, not rebuilt.
GENERATED_DAYS = 365
#: The issue's target: a daily run after a year of history within this factor of the first.
TARGET_RATIO = 1.3


def _env(home: Path, lake_home: Path, warehouse: Path) -> dict[str, str]:
    return {
        "CREDITLAKE_HOME": str(home),
        "CREDITLAKE_LAKE_DIR": str(lake_home / "lake"),
        "CREDITLAKE_LANDING_URI": str(lake_home / "landing"),
        "CREDITLAKE_SECRETS_DIR": str(lake_home / "secrets"),
        "CREDITLAKE_SECRETS_BACKEND": "local",
        "CREDITLAKE_WAREHOUSE_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(home / "target"),
    }


class WarehouseHistoryCase:
    name = "warehouse-history"
    baseline = BASELINE

    def __init__(self) -> None:
        self.prepared: dict[int, Path] = {}
        self.preparation: dict[int, dict[str, Any]] = {}

    @staticmethod
    def history_days(options: Any) -> list[int]:
        return sorted(getattr(options, "history_days", None) or DEFAULT_HISTORY_DAYS)

    def lake_home(self, out: Path, scale: Scale, days: int) -> Path:
        """The scale's landing zone with ``days`` daily deliveries, loaded and published through
        the last of them, with the first daily date built: made once, extended when longer."""
        if scale.factor in self.prepared:
            return self.prepared[scale.factor]
        from orchestration.demo import _generate

        home = (out / "data" / f"{scale.factor}x-history").resolve()
        if not (home / "secrets" / "pii-key").is_file():
            put_pii_key(home, bench_pii_key(out))
        generated_days = max(GENERATED_DAYS, days)
        config = dataclasses.replace(generator_config(scale.factor), days=generated_days)
        settings = home_settings(home)
        print(
            f"  warehouse-history {scale.factor}×: landing with {generated_days} daily deliveries"
        )
        report = _generate(config, settings, print)
        generated = json.dumps(report.get("config"), sort_keys=True)
        stamp = home / "prepared.json"
        if stamp.is_file() and json.loads(stamp.read_text()).get("generated") != generated:
            # other landing data: the lake and warehouse loaded from the old one are stale
            for stale in ("lake", "warehouse", "loaded.json", "target"):
                shutil.rmtree(home / stale, ignore_errors=True)
                (home / stale).unlink(missing_ok=True)
        first = config.extract_date
        warehouse = home / "warehouse" / "creditlake.duckdb"
        env = _env(home, home, warehouse)
        argv = python_module(
            "bench.peers.warehouse_history",
            "prepare",
            "--first",
            first.isoformat(),
            "--through",
            (first + dt.timedelta(days=days)).isoformat(),
        )
        print(f"  warehouse-history {scale.factor}×: loading {first} + {days} days (cached)")
        done = run_measured(argv, env=env, cwd=PROJECT_ROOT)
        if done.returncode != 0:
            raise SystemExit(f"preparing the history lake failed:\n{done.stderr_tail}")
        print(f"  loaded {last_json(done.stdout)['loaded_now']} dates in {done.seconds:.0f} s")
        if not warehouse.is_file():
            first_daily = first + dt.timedelta(days=1)
            argv = python_module(
                "bench.peers.warehouse_history", "build", "--date", first_daily.isoformat()
            )
            built = run_measured(argv, env=env, cwd=PROJECT_ROOT)
            if built.returncode != 0:
                raise SystemExit(f"the warm build of {first_daily} failed:\n{built.stderr_tail}")
        stamp.write_text(json.dumps({"generated": generated}))
        self.prepared[scale.factor] = home
        return home

    def peers(self, scale: Scale, options: Any) -> list[Peer]:
        days = self.history_days(options)
        targets = {BASELINE: 1, **{f"after{n}": n for n in days}}
        return [
            Peer(
                subject=SUBJECT,
                engine=engine,
                argv=python_module(
                    "bench.peers.warehouse_history",
                    "build",
                    "--date",
                    (scale.extract_date + dt.timedelta(days=offset)).isoformat(),
                ),
                prepare=self._preparer(options.out, scale, engine, max(days)),
                parse=last_json,
                cwd=PROJECT_ROOT,
            )
            for engine, offset in targets.items()
        ]

    def _preparer(self, out: Path, scale: Scale, engine: str, days: int):
        def prepare(repeat: int) -> dict[str, str]:
            lake_home = self.lake_home(out, scale, days)
            home = (out / "runs" / f"warehouse-history-{scale.label}-{engine}").resolve()
            shutil.rmtree(home, ignore_errors=True)
            (home / "warehouse").mkdir(parents=True)
            warehouse = home / "warehouse" / "creditlake.duckdb"
            shutil.copy2(lake_home / "warehouse" / "creditlake.duckdb", warehouse)
            return _env(home, lake_home, warehouse)

        return prepare

    def check(self, scale: Scale, runs: list[RunRecord]) -> dict[str, Any]:
        """Each history's build-time ratio to the first daily run, its rows read per new row,
        and what preparing the lake cost."""
        from bench.core import median, ratio
        from bench.peers.warehouse_history import loaded_dates

        ok = [r for r in runs if r.status == "ok"]
        build = {
            engine: median([r.extra["build_seconds"] for r in ok if r.engine == engine])
            for engine in {r.engine for r in ok}
        }
        found: dict[str, Any] = {}
        for engine in sorted(build, key=lambda e: (e != BASELINE, len(e), e)):
            last = [r for r in ok if r.engine == engine][-1].extra
            share = ratio(build[engine], build.get(BASELINE))
            found[engine] = {
                "equal": share is not None and share <= TARGET_RATIO,
                "what": f"dbt build {build[engine]:.1f} s ({share:.2f}× the first daily run; "
                f"target ≤ {TARGET_RATIO}×); bronze rows read {last['bronze_rows_read']:,} for "
                f"{last['bronze_rows_new']:,} new: {last['rows_read_per_new_row']} per new row"
                + _growth(ok, engine),
            }
        home = self.prepared.get(scale.factor)
        if home is not None:
            loaded = loaded_dates(home)
            daily = [s for d, s in sorted(loaded.items())[1:]]
            found["preparation"] = {
                "note": f"{len(loaded)} dates loaded and published, {sum(loaded.values()):.0f} s "
                f"in all ({sorted(loaded.items())[0][1]:.0f} s the initial extract, "
                f"{(sum(daily) / len(daily)) if daily else 0:.1f} s a daily date on average)"
            }
        return found


def _growth(runs: list[RunRecord], engine: str, top: int = 4) -> str:
    """The dbt nodes whose median time grew most from the first daily run to ``engine``'s."""
    from bench.core import median

    def medians(of: str) -> dict[str, float]:
        times = [r.extra.get("node_seconds") or {} for r in runs if r.engine == of]
        return {n: median([t[n] for t in times if n in t]) for n in set().union(*times)}

    if engine == BASELINE:
        return ""
    first, after = medians(BASELINE), medians(engine)
    grown = sorted(((after[n] - first.get(n, 0.0), n) for n in after), reverse=True)[:top]
    parts = [f"{n} {first.get(n, 0.0):.2f} → {after[n]:.2f} s" for _, n in grown]
    return f"; grew most: {', '.join(parts)}" if parts else ""
