"""Trend plots of monitoring: per model, PSI and AUC by month against their thresholds.

One PNG per model, ``<reports_dir>/monitoring/<model>.png``, drawn from the monitoring tables
(:mod:`ml.monitoring_tables`) so that it can be drawn again at any time without the models:
the top panel shows the score's PSI and the largest feature PSI of each month with the
``psi_watch`` and ``psi_act`` lines, the bottom one each matured month's AUC with the champion's
out-of-time AUC and the warn and fail lines below it (a month counts only when its error bar
is clear of a line). The governance report embeds them
(:func:`monitoring_plots`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from creditlake.settings import Settings
from ml.monitoring_rules import STANDARD_ERRORS, Thresholds
from ml.monitoring_tables import read_monitoring
from ml.plots import _save

SEVERITY_COLOURS = {"ok": "tab:green", "warn": "tab:orange", "fail": "tab:red"}


def monitoring_dir(settings: Settings) -> Path:
    """Where the trend plots are written."""
    return settings.reports_dir / "monitoring"


def plot_trend(
    model: str,
    stability: pd.DataFrame,
    performance: pd.DataFrame,
    thresholds: Thresholds,
    path: Path,
) -> Path:
    """The two-panel trend of one model (module docstring); markers coloured by severity."""
    figure = Figure(figsize=(8.0, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True)
    months = sorted(set(stability["month"]) | set(performance["month"]))
    position = {month: index for index, month in enumerate(months)}
    version = ", ".join(
        f"v{v}" for v in sorted(set(stability["model_version"]) | set(performance["model_version"]))
    )

    if len(stability):
        x = stability["month"].map(position)
        top.plot(x, stability["psi_score"], color="tab:blue", label="score PSI")
        top.plot(
            x,
            stability["psi_feature_max"],
            color="tab:grey",
            linestyle="--",
            label="largest feature PSI",
        )
        top.scatter(
            x,
            stability["psi_score"],
            c=stability["severity"].map(SEVERITY_COLOURS),
            zorder=3,
        )
    top.axhline(thresholds.psi_watch, color="tab:orange", linewidth=1, label="watch")
    top.axhline(thresholds.psi_act, color="tab:red", linewidth=1, label="act")
    top.set(ylabel="PSI vs development sample", title=f"{model} {version}: stability")
    top.legend(fontsize=7, loc="upper left")
    top.grid(alpha=0.3)

    judged = performance.dropna(subset=["auc"]) if len(performance) else performance
    if len(judged):
        x = judged["month"].map(position)
        bottom.errorbar(
            x,
            judged["auc"],
            yerr=STANDARD_ERRORS * judged["auc_standard_error"].astype("float64"),
            color="tab:blue",
            capsize=3,
            label=f"AUC of the month ± {STANDARD_ERRORS:g} standard errors",
        )
        bottom.scatter(x, judged["auc"], c=judged["severity"].map(SEVERITY_COLOURS), zorder=3)
        reference = float(judged["reference_auc"].iloc[-1])
        bottom.axhline(reference, color="tab:grey", linestyle="--", label="out-of-time AUC")
        bottom.axhline(
            reference - thresholds.auc_warn_drop, color="tab:orange", linewidth=1, label="warn"
        )
        bottom.axhline(
            reference - thresholds.auc_fail_drop, color="tab:red", linewidth=1, label="fail"
        )
        bottom.legend(fontsize=7, loc="lower left")
    else:
        bottom.text(0.5, 0.5, "no matured month yet", ha="center", va="center")
    bottom.set(ylabel="AUC (matured months)", xlabel="month", title="performance as loans mature")
    bottom.set_xticks(range(len(months)), labels=months, rotation=45, fontsize=7)
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    return _save(figure, path)


def plot_model(
    settings: Settings, model: str, stability: pd.DataFrame, performance: pd.DataFrame
) -> Path | None:
    """The trend plot of ``model`` from its rows, or ``None`` when it has none."""
    if stability.empty and performance.empty:
        return None
    return plot_trend(
        model,
        stability,
        performance,
        Thresholds.from_settings(settings),
        monitoring_dir(settings) / f"{model}.png",
    )


def monitoring_plots(settings: Settings) -> list[Path]:
    """Draw the trend plot of every monitored model from the tables; their paths, by model."""
    stability = read_monitoring(settings, "stability")
    performance = read_monitoring(settings, "performance")
    paths = []
    for model in sorted(set(stability["model_name"]) | set(performance["model_name"])):
        path = plot_model(
            settings,
            model,
            stability[stability["model_name"] == model],
            performance[performance["model_name"] == model],
        )
        if path is not None:
            paths.append(path)
    return paths
