"""Plots as PNG files for MLflow runs and reports: ROC and KS curves of a model; vintage
curves, roll-rate heat maps and score distributions of the book.

Figures are drawn on matplotlib's Agg canvas through the object API (``Figure``), never through
``pyplot``: no global figure state and no GUI backend, so plotting is safe inside Airflow workers
and in parallel tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ml.metrics import ArrayLike, auc, roc_points

_DPI = 110


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})
    return path


def plot_roc(curves: Mapping[str, tuple[ArrayLike, ArrayLike]], path: Path, title: str) -> Path:
    """ROC curves, one per labelled ``(y_true, risk)`` pair (e.g. train and out-of-time).

    Showing train and out-of-time together makes over-fitting visible at a glance.
    """
    figure = Figure(figsize=(5.5, 5.0))
    axes = figure.add_subplot()
    for label, (y_true, risk) in curves.items():
        points = roc_points(y_true, risk)
        axes.plot(points["fpr"], points["tpr"], label=f"{label} (AUC {auc(y_true, risk):.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    axes.set(
        xlabel="false positive rate (share of goods)",
        ylabel="true positive rate (share of bads)",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title=title,
    )
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def plot_ks(y_true: ArrayLike, risk: ArrayLike, path: Path, title: str) -> Path:
    """Cumulative bad and good shares against the share of the population declined.

    The KS statistic is the widest vertical gap between the two curves; the plot marks it, so a
    reader sees where the best single cut-off lies.
    """
    points = roc_points(y_true, risk)
    gap = (points["tpr"] - points["fpr"]).to_numpy()
    best = int(np.argmax(gap))
    x = points["population_share"]
    figure = Figure(figsize=(5.5, 5.0))
    axes = figure.add_subplot()
    axes.plot(x, points["tpr"], label="bads (cumulative share)")
    axes.plot(x, points["fpr"], label="goods (cumulative share)")
    axes.vlines(
        x.iloc[best],
        points["fpr"].iloc[best],
        points["tpr"].iloc[best],
        colors="black",
        linestyles=":",
        label=f"KS {gap[best]:.3f}",
    )
    axes.set(
        xlabel="population share, riskiest first",
        ylabel="cumulative share",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title=title,
    )
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    return _save(figure, path)


#: Delinquency buckets in the order they deteriorate (closed last: a loan that paid out).
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6+", "closed")


def plot_vintage_curves(curves: pd.DataFrame, path: Path, title: str, rate: str) -> Path:
    """One line per origination cohort: ``rate`` (e.g. ever 30+ DPD) by months on book.

    Later cohorts are drawn darker, so a reader sees at once whether new vintages go bad faster
    than old ones at the same age, the first question a risk committee asks of a book.
    """
    figure = Figure(figsize=(8.0, 5.0))
    figure.subplots_adjust(right=0.8)
    axes = figure.add_subplot()
    cohorts = sorted(curves["cohort_month"].unique())
    colours = matplotlib.colormaps["viridis_r"](np.linspace(0.15, 1.0, max(len(cohorts), 1)))
    for colour, cohort in zip(colours, cohorts, strict=False):
        rows = curves[curves["cohort_month"] == cohort].sort_values("months_on_book")
        axes.plot(
            rows["months_on_book"],
            rows[rate],
            color=colour,
            marker="o",
            markersize=2.5,
            linewidth=1.2,
            label=str(cohort)[:7],
        )
    axes.set(xlabel="months on book", ylabel=rate.replace("_", " "), title=title)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(title="cohort", fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(figure, path)


def plot_roll_rates(matrix: pd.DataFrame, path: Path, title: str) -> Path:
    """A heat map of month-to-month roll rates: rows the bucket at the previous month end."""
    figure = Figure(figsize=(6.5, 5.5))
    axes = figure.add_subplot()
    values = matrix.to_numpy(dtype=float)
    image = axes.imshow(values, cmap="Reds", vmin=0.0, vmax=1.0)
    for (row, column), value in np.ndenumerate(values):
        if not np.isnan(value):
            axes.text(
                column,
                row,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > 0.6 else "black",
            )
    axes.set_xticks(range(len(matrix.columns)), labels=list(matrix.columns))
    axes.set_yticks(range(len(matrix.index)), labels=list(matrix.index))
    axes.set(xlabel="bucket at the month end", ylabel="bucket a month earlier", title=title)
    figure.colorbar(image, ax=axes, format=PercentFormatter(1.0), shrink=0.8)
    return _save(figure, path)


def plot_score_distributions(
    pd_by_group: Mapping[str, ArrayLike], path: Path, title: str, xlabel: str
) -> Path:
    """Overlaid histograms of predicted PD, one per group (e.g. per decision)."""
    figure = Figure(figsize=(6.5, 4.5))
    axes = figure.add_subplot()
    bins = np.linspace(0.0, 1.0, 41)
    for label, values in pd_by_group.items():
        values = np.asarray(values, dtype=float)
        axes.hist(values, bins=bins, alpha=0.55, label=f"{label} ({len(values)})")
    axes.set(xlabel=xlabel, ylabel="applications", title=title, xlim=(0, 1))
    axes.legend()
    axes.grid(alpha=0.3)
    return _save(figure, path)
