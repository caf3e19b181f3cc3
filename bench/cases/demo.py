"""Case ``demo``: ``creditlake demo`` at a scale, timed whole, with its tasks' profile.

One peer, ``demo`` (``bench/peers/demo.py``), in a fresh home per run on the scale's customer and
event counts. Besides its wall time and peak memory (the issue's "make demo under 5 minutes" at
1×), :meth:`DemoCase.check` reports what the demo's Airflow metadata says: the Great Expectations
gate's share of every gated step (target ≤ 15 %), and the orchestration overhead (Σ DAG-run wall
against Σ task time). The last run's home is kept as the ``ml`` case's prepared platform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.core import Peer, RunRecord, last_json, python_module
from bench.data import Scale, bench_pii_key, child_env, generator_config, new_home
from creditlake.settings import PROJECT_ROOT

#: The issue's target for a gated step: the gate at most this share of it.
GX_SHARE_TARGET = 0.15


def demo_home(out: Path, scale: Scale) -> Path:
    return (out / "runs" / f"demo-{scale.label}").resolve()


class DemoCase:
    name = "demo"
    baseline = "demo"

    def peers(self, scale: Scale, options: Any) -> list[Peer]:
        config = generator_config(scale.factor)

        def prepare(repeat: int) -> dict[str, str]:
            home = new_home(options.out, f"demo-{scale.label}", bench_pii_key(options.out))
            return child_env(home)

        argv = python_module(
            "bench.peers.demo",
            "--customers",
            str(config.customers),
            "--behaviour-events",
            str(config.behaviour_events),
        )
        return [
            Peer(
                subject="demo",
                engine="demo",
                argv=argv,
                prepare=prepare,
                parse=last_json,
                cwd=PROJECT_ROOT,
            )
        ]

    def check(self, scale: Scale, runs: list[RunRecord]) -> dict[str, Any]:
        done = [r for r in runs if r.status == "ok" and r.extra]
        if not done:
            return {}
        last = done[-1].extra
        shares = last["gx_share"]
        worst = shares["worst"] or {}
        above = [s for s in shares["steps"] if s["share"] > GX_SHARE_TARGET]
        orchestration = last["orchestration"]
        top = list(last["task_seconds"].items())[:6]
        return {
            "gx share": {
                "note": (
                    f"GX gate median {shares['median']:.0%} of a gated step, worst "
                    f"{worst.get('share', 0):.0%} ({worst.get('dag')} {worst.get('subject')}); "
                    f"{len(above)} of {len(shares['steps'])} steps above "
                    f"{GX_SHARE_TARGET:.0%}"
                )
            },
            "orchestration": {
                "note": (
                    f"{last['dag_runs']} DAG runs: Σ run wall {orchestration['sum_run_seconds']} s"
                    f" = Σ tasks {orchestration['sum_task_seconds']} s + orchestration "
                    f"{orchestration['overhead_seconds']} s"
                )
            },
            "task profile": {"note": ", ".join(f"{name} {sec:.0f} s" for name, sec in top)},
        }
