"""The harness's kernel: measure one child process tree, interleave peers, summarise.

A case (``bench/cases/``) says *what* to run as a list of :class:`Peer` per scale; this module says
*how* it is measured, so every case is measured the same way:

- each run is a fresh child process (imports, JVM start and all, as a task pays them), timed by
  wall clock from start to exit;
- its peak memory is the largest sum of resident set sizes over the child and all of its
  descendants, sampled every :data:`SAMPLE_SECONDS` (``/usr/bin/time -v`` would see only one
  process: the Spark JVM, the bulk of an ingest, is a grandchild of the harness);
- the peers of one scale run interleaved (A B C A B C ...), so that load from other jobs on a
  shared machine falls on every peer alike, and the figure compared is a ratio of medians.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

#: How often the process tree's memory is sampled. Shorter costs the harness CPU that the measured
#: process then lacks on a 2-core machine; longer misses short peaks.
SAMPLE_SECONDS = 0.05
#: Engines that cannot run here are recorded with this status rather than failing the bench.
NOT_AVAILABLE = "not available"


# Measuring one child ------------------------------------------------------------------------------
@dataclasses.dataclass
class Measurement:
    """One run of one peer: its wall time, the peak RSS of its process tree, what it printed."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str = ""
    stderr_tail: str = ""
    samples: int = 0


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all of its descendants now (0 once it has gone).

    Processes that exit between listing and reading are skipped: the sum is a lower bound of
    the instant, which is what sampling can give.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total


def run_measured(
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> Measurement:
    """Run ``argv`` as a child with ``env`` added to this environment; time and sample it.

    stdout is kept (peers print their JSON result there); stderr goes to a temporary file of
    which only the tail is kept, so a chatty JVM cannot fill a pipe and stall the child.
    """
    full_env = {**os.environ, **(env or {})}
    peak = 0
    samples = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), env=full_env, cwd=cwd, stdout=out, stderr=err)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, samples
            while not done.is_set():
                peak = max(peak, tree_rss(child.pid))
                samples += 1
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            returncode = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(child.pid)
            returncode = child.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    tail = "\n".join(stderr.strip().splitlines()[-20:])
    return Measurement(seconds, peak / 2**20, returncode, stdout, tail, samples)


def _kill_tree(pid: int) -> None:
    """Stop a timed-out child and its descendants (only the tree this harness started)."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for process in [*root.children(recursive=True), root]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue


def last_json(stdout: str) -> dict[str, Any]:
    """The JSON object a peer printed last on a line of its own (what it logged before, Spark's
    and Airflow's lines included, is ignored)."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError("no JSON result in the output")
    return json.loads(lines[-1])


def python_module(module: str, *args: str) -> list[str]:
    """The argv that runs ``python -m module args`` with the harness's own interpreter."""
    return [sys.executable, "-m", module, *args]


# What a case declares -------------------------------------------------------------------------
@dataclasses.dataclass
class Peer:
    """One engine's way of doing one subject's work at one scale.

    ``prepare`` runs before every repeat, untimed (a fresh home, a copy of the input); it returns
    the run's environment additions. ``parse`` turns the child's stdout into extra figures kept
    with the run (rows written, task times). ``unavailable`` names why the engine cannot run here;
    such a peer is recorded, not run.
    """

    subject: str
    engine: str
    argv: list[str] = dataclasses.field(default_factory=list)
    prepare: Callable[[int], dict[str, str]] = lambda repeat: {}
    parse: Callable[[str], dict[str, Any]] | None = None
    unavailable: str | None = None
    cwd: Path | None = None


class Case(Protocol):
    """A benchmark: its peers per scale, the engine ratios are taken against, and a check."""

    name: str
    #: The engine whose median time and memory every other engine's are divided by.
    baseline: str

    def peers(self, scale: Any, options: Any) -> list[Peer]:
        """Every peer to run at ``scale`` (one or more subjects, several engines each)."""

    def check(self, scale: Any, runs: list[RunRecord]) -> dict[str, Any]:
        """After a scale: findings that must hold across engines (equal outputs); may be {}."""


@dataclasses.dataclass
class RunRecord:
    """One measured repeat of one peer, as results.json keeps it."""

    case: str
    scale: int
    subject: str
    engine: str
    repeat: int
    seconds: float | None
    peak_mb: float | None
    status: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


# Order, medians and ratios --------------------------------------------------------------------
def interleave(peers: Sequence[Peer], repeats: int) -> Iterator[tuple[int, Peer]]:
    """``(repeat, peer)`` for every peer and repeat, all peers once per round: A B C A B C ...

    Interleaving rather than A A A B B B: a slow minute on a shared machine then lands on one
    run of each peer instead of on all runs of one.
    """
    for repeat in range(1, repeats + 1):
        for peer in peers:
            yield repeat, peer


def median(values: Sequence[float]) -> float | None:
    """The median, or None when there is nothing to take it of (a peer that never succeeded)."""
    return statistics.median(values) if values else None


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``, or None when either is missing or the baseline is zero."""
    if value is None or not baseline:
        return None
    return value / baseline


def summarise(runs: Sequence[RunRecord], baseline: str) -> list[dict[str, Any]]:
    """One row per (scale, subject, engine): runs, medians, and ratios to the baseline engine of
    the same scale and subject. Failed runs count in ``runs`` but not in the medians."""
    groups: dict[tuple[int, str, str], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.scale, run.subject, run.engine), []).append(run)
    rows = []
    for (scale, subject, engine), group in groups.items():
        ok = [r for r in group if r.status == "ok"]
        rows.append(
            {
                "scale": scale,
                "subject": subject,
                "engine": engine,
                "status": "ok" if ok else group[0].status,
                "runs": len(group),
                "ok_runs": len(ok),
                "seconds": [r.seconds for r in group],
                "peak_mb": [r.peak_mb for r in group],
                "median_seconds": median([r.seconds for r in ok if r.seconds is not None]),
                "median_peak_mb": median([r.peak_mb for r in ok if r.peak_mb is not None]),
            }
        )
    by_key = {(r["scale"], r["subject"], r["engine"]): r for r in rows}
    for row in rows:
        base = by_key.get((row["scale"], row["subject"], baseline))
        row["baseline"] = baseline
        row["ratio_seconds"] = ratio(row["median_seconds"], base and base["median_seconds"])
        row["ratio_peak_mb"] = ratio(row["median_peak_mb"], base and base["median_peak_mb"])
    return sorted(rows, key=lambda r: (r["subject"], r["scale"], r["engine"] != baseline))


def scratch_root(out: Path) -> Path:
    """Where runs' homes live; emptied by the harness when a case is done with a scale."""
    return out / "runs"
