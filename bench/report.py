"""What a bench leaves behind: ``results.json``, one plot per case and ``summary.md``.

The JSON carries the machine's facts beside the figures, because a time means nothing without
the cores, memory and versions it was taken on; the Markdown table is the short form a person
pastes into the README.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.core import RunRecord, summarise

#: Distributions whose versions decide the figures.
VERSIONS = (
    "pyspark",
    "duckdb",
    "pandas",
    "pyarrow",
    "pyiceberg",
    "dbt-core",
    "dbt-duckdb",
    "apache-airflow",
    "astronomer-cosmos",
    "great-expectations",
    "mlflow",
)


def machine_facts() -> dict[str, Any]:
    import psutil

    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "java": _java_version(),
        "git_commit": _git_commit(),
        "versions": versions,
    }


def _java_version() -> str | None:
    try:
        found = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (found.stderr or found.stdout).strip().splitlines()
    return lines[0] if lines else None


def _git_commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip() or None


def results(
    options: Any,
    cases: list[Any],
    records: list[RunRecord],
    checks: dict[str, dict[str, Any]],
    started: dt.datetime,
    machine: dict[str, Any],
) -> dict[str, Any]:
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "options": {
            "scales": options.scales,
            "repeats": options.repeats,
            "cases": options.cases,
            "sources": options.sources,
        },
        "cases": {
            case.name: {
                "baseline": case.baseline,
                "summary": summarise([r for r in records if r.case == case.name], case.baseline),
                "checks": checks.get(case.name, {}),
                "runs": [dataclasses.asdict(r) for r in records if r.case == case.name],
            }
            for case in cases
        },
    }


def plot_case(name: str, summary: list[dict[str, Any]], path: Path) -> None:
    """Median time and median peak memory against data size, one line per subject and engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in summary:
        if row["median_seconds"] is not None:
            series.setdefault((row["subject"], row["engine"]), []).append(row)
    for (subject, engine), rows in sorted(series.items()):
        rows.sort(key=lambda r: r["scale"])
        scales = [r["scale"] for r in rows]
        label = engine if subject == name else f"{subject} · {engine}"
        left.plot(scales, [r["median_seconds"] for r in rows], marker="o", label=label)
        right.plot(scales, [r["median_peak_mb"] for r in rows], marker="o", label=label)
    for axis, what in ((left, "median wall time (s)"), (right, "median peak memory (MB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("data size (× the demo's default)")
        axis.set_ylabel(what)
        axis.grid(True, which="both", alpha=0.3)
    if series:
        left.legend(fontsize="small")
    figure.suptitle(f"{name}: process tree of each run (cold start included)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _figure(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def summary_markdown(found: dict[str, Any]) -> str:
    machine = found["machine"]
    lines = [
        f"Benchmarks on {machine['cores']} cores, {machine['memory_gb']} GB "
        f"(commit {machine['git_commit']}, {found['options']['repeats']} interleaved runs per "
        "engine and scale; medians; peak memory of the whole process tree).",
        "",
    ]
    for name, case in found["cases"].items():
        lines += [
            f"**{name}** (ratios against `{case['baseline']}`)",
            "",
            "| subject | scale | engine | runs | median s | ratio | median peak MB | ratio |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        if not case["summary"]:
            lines = [*lines[:-4], f"**{name}**: not run yet", ""]
            continue
        for row in case["summary"]:
            if row["status"] != "ok":
                lines.append(
                    f"| {row['subject']} | {row['scale']}× | {row['engine']} | 0 | "
                    f"{row['status']} | | | |"
                )
                continue
            lines.append(
                f"| {row['subject']} | {row['scale']}× | {row['engine']} | "
                f"{row['ok_runs']}/{row['runs']} | {_figure(row['median_seconds'])} | "
                f"{_figure(row['ratio_seconds'], 2)} | {_figure(row['median_peak_mb'], 0)} | "
                f"{_figure(row['ratio_peak_mb'], 2)} |"
            )
        notes = _check_notes(case["checks"])
        lines += ["", *notes, ""] if notes else [""]
    return "\n".join(lines)


def _check_notes(checks: dict[str, Any]) -> list[str]:
    """One line per finding a case reported, mismatches first and in capitals."""
    notes = []
    for scale, found in checks.items():
        for subject, item in sorted(found.items()):
            if isinstance(item, dict) and "equal" in item:
                verdict = "equal" if item["equal"] else "MISMATCH"
                notes.append(f"- {scale}× {subject}: {verdict}: {item.get('what', '')}")
            elif isinstance(item, dict) and "note" in item:
                notes.append(f"- {scale}× {subject}: {item['note']}")
    return sorted(notes, key=lambda n: "MISMATCH" not in n)


def write_outputs(
    options: Any,
    cases: list[Any],
    records: list[RunRecord],
    checks: dict[str, dict[str, Any]],
    started: dt.datetime,
    machine: dict[str, Any],
) -> list[Path]:
    """Everything measured so far; ``machine`` is taken when the bench starts (its commit is the
    code that ran, even if the checkout moves on meanwhile)."""
    out: Path = options.out
    found = results(options, cases, records, checks, started, machine)
    paths = [out / "results.json", out / "summary.md"]
    paths[0].write_text(json.dumps(found, indent=2, default=str))
    paths[1].write_text(summary_markdown(found))
    for name, case in found["cases"].items():
        plot = out / f"{name}.png"
        plot_case(name, case["summary"], plot)
        paths.append(plot)
    return paths
