"""ROC and KS curves as PNG files for MLflow runs and validation reports.

Figures are drawn on matplotlib's Agg canvas through the object API (``Figure``), never through
``pyplot``: no global figure state and no GUI backend, so plotting is safe inside Airflow workers
and in parallel tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
