"""``python -m bench``: run the chosen cases at each scale, then write results, plots and a table.

    python -m bench --scales 1,4,16 --repeats 3 --cases ingest,warehouse --out var/bench

Scales run smallest first, and within a scale each case's peers run interleaved. The results
are rewritten after every scale, so an interrupted bench keeps what it measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import NOT_AVAILABLE, Peer, RunRecord, interleave, run_measured, scratch_root
from bench.report import machine_facts, write_outputs


def _ints(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: scales are positive integers such as 1,4,16")
    return values


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    from bench.cases import CASES
    from bench.cases.ingest import DEFAULT_SOURCES, ENGINES

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=_ints, default=[1, 4, 16], help="default 1,4,16")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each peer per scale")
    parser.add_argument(
        "--cases", type=_names, default=list(CASES), help=f"any of {','.join(CASES)}"
    )
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument(
        "--sources",
        type=_names,
        default=list(DEFAULT_SOURCES),
        help=f"ingest case: sources to ingest, or 'all' (default {','.join(DEFAULT_SOURCES)})",
    )
    parser.add_argument(
        "--ingest-engines",
        type=_names,
        default=list(ENGINES),
        help=f"ingest case: engines to run, the first the reference (default {','.join(ENGINES)})",
    )
    parser.add_argument(
        "--history-days",
        type=_ints,
        default=None,
        help="warehouse-history case: days of history before the measured daily runs "
        "(default 30,365)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds before a run is stopped"
    )
    return parser


def run_case(
    case: Any, scale: Any, options: argparse.Namespace, step: list[int], total: int
) -> list[RunRecord]:
    """Every repeat of every peer of one case at one scale, interleaved."""
    peers: list[Peer] = case.peers(scale, options)
    records: list[RunRecord] = []
    for peer in [p for p in peers if p.unavailable]:
        print(f"  {case.name} {peer.subject} {scale.factor}× {peer.engine}: {peer.unavailable}")
        records.append(
            RunRecord(
                case.name, scale.factor, peer.subject, peer.engine, 0, None, None,
                NOT_AVAILABLE, {"why": peer.unavailable},
            )
        )  # fmt: skip
    runnable = [p for p in peers if not p.unavailable]
    for repeat, peer in interleave(runnable, options.repeats):
        step[0] += 1
        env = peer.prepare(repeat)
        measured = run_measured(peer.argv, env=env, cwd=peer.cwd, timeout=options.timeout)
        status = "ok" if measured.returncode == 0 else f"failed (exit {measured.returncode})"
        extra: dict[str, Any] = {}
        if measured.returncode == 0 and peer.parse is not None:
            try:
                extra = peer.parse(measured.stdout)
            except ValueError as error:
                status, extra = "failed (unreadable output)", {"error": str(error)}
        if status != "ok":
            extra["stderr_tail"] = measured.stderr_tail
        records.append(
            RunRecord(
                case.name, scale.factor, peer.subject, peer.engine, repeat,
                round(measured.seconds, 3), round(measured.peak_mb, 1), status, extra,
            )
        )  # fmt: skip
        note = "" if status == "ok" else f"  {status}:\n{measured.stderr_tail}"
        print(
            f"[{step[0]}/{total}] {case.name} {peer.subject} {scale.factor}× {peer.engine} "
            f"run {repeat}/{options.repeats}: {measured.seconds:.1f} s, "
            f"{measured.peak_mb:.0f} MB{note}",
            flush=True,
        )
    return records


def count_runs(cases: list[Any], scales: list[Any], options: argparse.Namespace) -> int:
    """How many measured runs the bench will make, for the ``[n/total]`` progress lines."""
    return sum(
        len([p for p in case.peers(scale, options) if not p.unavailable]) * options.repeats
        for case in cases
        for scale in scales
    )


def main(argv: list[str] | None = None) -> int:
    from bench.cases import CASES
    from bench.data import ensure_scale

    options = build_parser().parse_args(argv)
    unknown = [name for name in options.cases if name not in CASES]
    if unknown:
        print(f"error: unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
        return 2
    if shutil.which("java") is None:
        print("error: Java 17 is required for the Spark peers (openjdk-17-jre-headless)")
        return 2
    options.out = options.out.resolve()
    options.out.mkdir(parents=True, exist_ok=True)
    cases = [CASES[name] for name in options.cases]
    started = dt.datetime.now(dt.UTC)
    machine = machine_facts()
    scales = [ensure_scale(options.out, factor) for factor in options.scales]
    total = count_runs(cases, scales, options)
    step = [0]
    records: list[RunRecord] = []
    checks: dict[str, dict[str, Any]] = {case.name: {} for case in cases}
    clock = time.monotonic()
    for scale in scales:
        for case in cases:
            print(f"{case.name} at {scale.factor}× ({scale.home})", flush=True)
            runs = run_case(case, scale, options, step, total)
            records += runs
            found = case.check(scale, runs)
            checks[case.name][str(scale.factor)] = found
            for what, item in found.items():
                if isinstance(item, dict) and item.get("equal") is False:
                    print(f"MISMATCH {case.name} {scale.factor}× {what}: {item}", flush=True)
            shutil.rmtree(scratch_root(options.out), ignore_errors=True)
            write_outputs(options, cases, records, checks, started, machine)
    paths = write_outputs(options, cases, records, checks, started, machine)
    print(f"done in {time.monotonic() - clock:.0f} s: {', '.join(map(str, paths))}")
    failed = [r for r in records if r.status.startswith("failed")]
    return 1 if failed or any(_mismatch(c) for c in checks.values()) else 0


def _mismatch(found: dict[str, Any]) -> bool:
    return any(isinstance(v, dict) and v.get("equal") is False for v in _walk(found))


def _walk(value: Any):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)


if __name__ == "__main__":
    sys.exit(main())
