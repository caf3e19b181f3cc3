"""Case ``ml``: MLflow's share of a training run, champion load time, scoring throughput.

The platform is built once per scale, untimed, by the demo peer (``bench/peers/demo.py``) in
``data/<k>x/ml-platform``; then, interleaved, a training run of ``credit_pd`` for the demo's last
date (each run registers new versions in that platform's MLflow, as a retraining does), a cold
process loading ``models:/credit_pd@champion``, and batch scoring of the application features
mart through the pyfunc and the bare fitted model (``bench/peers/ml.py``). Targets from the
issue: MLflow ≤ 10 % of a training run, champion load ≤ 3 s.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bench.core import Peer, RunRecord, last_json, python_module, run_measured
from bench.data import Scale, bench_pii_key, child_env, generator_config, put_pii_key
from creditlake.settings import PROJECT_ROOT

MODEL = "credit_pd"
WHAT = ("train", "load", "score")
MLFLOW_SHARE_TARGET = 0.10
LOAD_SECONDS_TARGET = 3.0


class MlCase:
    name = "ml"
    baseline = MODEL

    def __init__(self) -> None:
        self.prepared: dict[int, tuple[Path, str]] = {}

    def platform(self, out: Path, scale: Scale) -> tuple[Path, str]:
        """The scale's demo-built platform and its last date, built once (untimed)."""
        if scale.factor in self.prepared:
            return self.prepared[scale.factor]
        home = scale.home / "ml-platform"
        stamp = home / "prepared.json"
        wanted = json.loads((scale.home / "landing.stamp.json").read_text())["config_sha256"]
        if not (stamp.is_file() and json.loads(stamp.read_text()).get("landing") == wanted):
            print(f"  ml {scale.factor}×: building the platform with the demo (untimed)")
            shutil.rmtree(home, ignore_errors=True)
            put_pii_key(home, bench_pii_key(out))
            config = generator_config(scale.factor)
            argv = python_module(
                "bench.peers.demo",
                "--customers",
                str(config.customers),
                "--behaviour-events",
                str(config.behaviour_events),
            )
            done = run_measured(argv, env=child_env(home), cwd=PROJECT_ROOT)
            if done.returncode != 0:
                raise SystemExit(f"building the ml platform failed:\n{done.stderr_tail}")
            runs = json.loads((home / "reports" / "demo_runs.json").read_text())["runs"]
            last = max(run["as_of_date"] for run in runs)
            stamp.write_text(json.dumps({"landing": wanted, "last_date": last}))
        last = json.loads(stamp.read_text())["last_date"]
        self.prepared[scale.factor] = (home, last)
        return home, last

    def peers(self, scale: Scale, options: Any) -> list[Peer]:
        def prepare(repeat: int) -> dict[str, str]:
            home, _ = self.platform(options.out, scale)
            return child_env(home)

        peers = []
        for what in WHAT:
            args = ["--model", MODEL]
            if what == "train":
                args += ["--date", self.platform(options.out, scale)[1]]
            peers.append(
                Peer(
                    subject=what,
                    engine=MODEL,
                    argv=python_module("bench.peers.ml", what, *args),
                    prepare=prepare,
                    parse=last_json,
                    cwd=PROJECT_ROOT,
                )
            )
        return peers

    def check(self, scale: Scale, runs: list[RunRecord]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        by_subject = {r.subject: r.extra for r in runs if r.status == "ok" and r.extra}
        if "train" in by_subject:
            train = by_subject["train"]
            found["mlflow share"] = {
                "note": (
                    f"MLflow {train['mlflow_seconds']} s of a {train['train_seconds']} s "
                    f"training run: {train['mlflow_share']:.0%} (target "
                    f"≤ {MLFLOW_SHARE_TARGET:.0%})"
                )
            }
        if "load" in by_subject:
            load = by_subject["load"]
            found["champion load"] = {
                "note": f"{load['load_seconds']} s (target ≤ {LOAD_SECONDS_TARGET:g} s)"
            }
        if "score" in by_subject:
            score = by_subject["score"]
            found["scoring"] = {
                "note": (
                    f"{score['rows']:,} rows, {score['family']}: pyfunc "
                    f"{score['pyfunc_rows_per_second']:,} rows/s (with reasons), bare model "
                    f"{score['raw_rows_per_second']:,} rows/s"
                )
            }
        return found
