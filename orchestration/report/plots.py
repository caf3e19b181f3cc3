"""The governance site's figures as PNG: quality trend, quarantine by date, lineage graph.

Drawn like :mod:`ml.plots`: matplotlib's object API on the Agg canvas, never ``pyplot``, so no
global figure state and no display are needed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from orchestration.report.catalog_sections import LineageGraph
from orchestration.report.lake_sections import SEVERITIES, QuarantineCount, TrendPoint

_DPI = 110
_SEVERITY_COLOURS = {"critical": "#b2182b", "warning": "#ef8a62", "info": "#999999"}
_LAYER_NAMES = ("landing", "bronze", "staging", "intermediate", "marts", "other")


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})
    return path


def plot_quality_trend(trend: list[TrendPoint], path: Path) -> Path:
    """Suites passed/failed per date (left) and failed expectations by severity (right).

    A warning count that grows date after date is a data problem building up even while every
    gate still passes; the right-hand panel makes that visible.
    """
    dates = [p.as_of_date for p in trend]
    figure = Figure(figsize=(10, 3.8))
    gates, failures = figure.subplots(1, 2)
    passed = [p.passed for p in trend]
    gates.bar(dates, passed, color="#1a9850", label="passed")
    gates.bar(dates, [p.failed for p in trend], bottom=passed, color="#d73027", label="failed")
    gates.set(title="quality gates per date", ylabel="suites")
    gates.legend(loc="upper right", ncols=2)
    for severity in SEVERITIES:
        failures.plot(
            dates,
            [p.failed_by_severity[severity] for p in trend],
            marker="o",
            color=_SEVERITY_COLOURS[severity],
            label=severity,
        )
    failures.set(title="failed expectations by severity", ylabel="expectations")
    failures.legend(loc="upper right", ncols=3)
    for axes in (gates, failures):
        axes.set_ylim(0, max(1.0, axes.get_ylim()[1]) * 1.3)  # headroom for the legend
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(axis="x", labelrotation=30)
        axes.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return _save(figure, path)


def plot_quarantine(counts: list[QuarantineCount], path: Path) -> Path:
    """Quarantined rows per date, stacked by source."""
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in counts:
        by_source[count.source][count.as_of_date] += count.rows
    dates = sorted({c.as_of_date for c in counts})
    figure = Figure(figsize=(8, 3.8))
    axes = figure.add_subplot()
    bottom = [0] * len(dates)
    for source in sorted(by_source):
        heights = [by_source[source].get(d, 0) for d in dates]
        axes.bar(dates, heights, bottom=bottom, label=source)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set(title="quarantined rows per date", ylabel="rows")
    axes.set_ylim(0, max(1, max(bottom, default=0)) * 1.4)  # headroom for the legend
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="upper right", fontsize="small", ncols=3)
    axes.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return _save(figure, path)


def plot_lineage(graph: LineageGraph, path: Path) -> Path:
    """Nodes in columns by layer (landing → bronze → staging → intermediate → marts), edges as
    lines from left to right; each column's nodes in name order, so the drawing is stable."""
    columns: dict[int, list[str]] = defaultdict(list)
    for node, layer in graph.layers.items():
        columns[layer].append(node)
    tallest = max((len(nodes) for nodes in columns.values()), default=1)
    figure = Figure(figsize=(16, max(4.0, 0.16 * tallest + 1)))
    axes = figure.add_subplot()
    position: dict[str, tuple[float, float]] = {}
    for layer, nodes in columns.items():
        for rank, node in enumerate(sorted(nodes)):
            position[node] = (float(layer), 1 - (rank + 0.5) / tallest)
    for parent, child in graph.edges:
        if parent in position and child in position:
            (x0, y0), (x1, y1) = position[parent], position[child]
            axes.plot([x0, x1], [y0, y1], color="#4575b4", alpha=0.25, linewidth=0.6)
    for node, (x, y) in position.items():
        axes.plot(x, y, "o", color="#313695", markersize=3)
        axes.annotate(node, (x, y), xytext=(4, 0), textcoords="offset points", fontsize=5.5)
    axes.set_xticks(sorted(columns), [_LAYER_NAMES[min(i, 5)] for i in sorted(columns)])
    axes.set_yticks([])
    axes.set_xlim(-0.2, max(columns, default=0) + 0.9)
    axes.set_title(f"lineage: {len(position)} nodes, {len(graph.edges)} edges")
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    return _save(figure, path)
