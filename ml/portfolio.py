"""The book as a risk committee looks at it: vintage curves, roll rates, scores by decision.

For an as-of date D, :func:`main` reads the warehouse's view of the book as known on D (the
``fct_vintage_curves`` and ``fct_roll_rates`` slices of D, and the decisions made up to D), draws
three plots and logs them, with the tables behind them, to one MLflow run of the experiment
``portfolio`` named ``portfolio <D>``:

- ``vintage_ever_30.png`` and ``vintage_ever_90.png``: each origination cohort's share of loans
  ever 30+ (90+) days past due by months on book;
- ``roll_rates.png``: the month-to-month transition matrix between delinquency buckets, loans
  pooled over the last :data:`ROLL_RATE_MONTHS` month ends;
- ``scores_by_decision.png``: the credit PD of the applications decided up to D, per decision.

The platform summary prints where they are. Read-only on the warehouse, like training.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import mlflow
import pandas as pd

from creditlake.lake import parse_date
from creditlake.settings import Settings, get_settings
from ml import plots
from ml.data import read_table
from ml.tracking import configure_mlflow, ensure_experiment, write_report_csv

EXPERIMENT = "portfolio"
ROLL_RATE_MONTHS = 6
VINTAGE_TABLE = "marts.fct_vintage_curves"
ROLL_RATES_TABLE = "marts.fct_roll_rates"
DECISIONS_TABLE = "ml.application_decisions"


@dataclass
class PortfolioReport:
    as_of_date: str
    run_id: str
    artifact_uri: str
    plots: list[str] = field(default_factory=list)
    cohorts: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _slice(frame: pd.DataFrame | None, as_of_date: dt.date) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame[pd.to_datetime(frame["as_of_date"]).dt.date == as_of_date]


def roll_rate_matrix(rolls: pd.DataFrame, months: int = ROLL_RATE_MONTHS) -> pd.DataFrame:
    """Roll rates pooled over the last ``months`` month ends: from-bucket rows, to-bucket columns.

    Pooling the counts (not averaging the rates) weighs each month by its loans. A loan that has
    closed stays closed, so the ``closed`` row is left out.
    """
    if rolls.empty:
        return pd.DataFrame(index=list(plots.BUCKETS[:-1]), columns=list(plots.BUCKETS))
    recent = sorted(rolls["month_end"].unique())[-months:]
    counts = (
        rolls[rolls["month_end"].isin(recent)]
        .groupby(["from_bucket", "to_bucket"])["loans_count"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=list(plots.BUCKETS[:-1]), columns=list(plots.BUCKETS), fill_value=0)
    )
    totals = counts.sum(axis=1)
    return counts.div(totals.where(totals > 0), axis=0)


def main(as_of_date: str | dt.date, settings: Settings | None = None) -> PortfolioReport:
    """Draw the book's plots as known on ``as_of_date`` and log them to MLflow."""
    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    vintages = _slice(read_table(settings.warehouse_path, VINTAGE_TABLE), as_of_date)
    rolls = _slice(read_table(settings.warehouse_path, ROLL_RATES_TABLE), as_of_date)
    decisions = read_table(settings.warehouse_path, DECISIONS_TABLE)
    if decisions is not None and not decisions.empty:
        decided = pd.to_datetime(decisions["decided_date"]).dt.date
        decisions = decisions[decided <= as_of_date]
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, EXPERIMENT, settings)
    with (
        tempfile.TemporaryDirectory(prefix="portfolio_") as tmp,
        mlflow.start_run(experiment_id=experiment_id, run_name=f"portfolio {as_of_date}") as run,
    ):
        folder = Path(tmp)
        drawn = []
        if not vintages.empty:
            for rate, name in (("ever_30_dpd_rate", "30"), ("ever_90_dpd_rate", "90")):
                drawn.append(
                    plots.plot_vintage_curves(
                        vintages,
                        folder / f"vintage_ever_{name}.png",
                        f"Vintage curves: ever {name}+ days past due, as of {as_of_date}",
                        rate,
                    )
                )
            write_report_csv(vintages.drop(columns=["as_of_date"]), folder / "vintages.csv")
        matrix = roll_rate_matrix(rolls)
        if not rolls.empty:
            drawn.append(
                plots.plot_roll_rates(
                    matrix,
                    folder / "roll_rates.png",
                    f"Roll rates, last {ROLL_RATE_MONTHS} month ends to {as_of_date}",
                )
            )
            write_report_csv(matrix.reset_index(names="from_bucket"), folder / "roll_rates.csv")
        if decisions is not None and not decisions.empty:
            drawn.append(
                plots.plot_score_distributions(
                    {
                        decision: rows["credit_pd"].to_numpy()
                        for decision, rows in decisions.groupby("decision")
                    },
                    folder / "scores_by_decision.png",
                    f"Credit PD of the applications decided up to {as_of_date}",
                    "credit PD (credit_pd champion)",
                )
            )
        mlflow.log_params(
            {"as_of_date": as_of_date.isoformat(), "roll_rate_months": ROLL_RATE_MONTHS}
        )
        mlflow.log_metric(
            "cohorts", int(vintages["cohort_month"].nunique()) if len(vintages) else 0
        )
        mlflow.log_artifacts(str(folder))
    return PortfolioReport(
        as_of_date=as_of_date.isoformat(),
        run_id=run.info.run_id,
        artifact_uri=run.info.artifact_uri,
        plots=[path.name for path in drawn],
        cohorts=int(vintages["cohort_month"].nunique()) if len(vintages) else 0,
    )
