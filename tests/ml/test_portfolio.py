"""ml.portfolio: the book's plots as known on a date, logged to MLflow."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from ml import portfolio
from ml.tracking import client_for

DAY = dt.date(2026, 1, 4)


def _rolls(rows: list[tuple[str, str, str, int]], as_of: dt.date = DAY) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "month_end": dt.date.fromisoformat(month),
                "from_bucket": a,
                "to_bucket": b,
                "loans_count": n,
                "as_of_date": as_of,
            }
            for month, a, b, n in rows
        ]
    )


def test_roll_rates_pool_the_counts_of_the_last_months() -> None:
    rolls = _rolls(
        [
            ("2025-05-31", "M1", "M2", 100),  # outside the last 6 month ends: ignored
            ("2025-11-30", "M1", "M0", 30),
            ("2025-11-30", "M1", "M2", 10),
            ("2025-12-31", "M1", "M0", 10),
            ("2025-12-31", "M1", "M2", 30),
            ("2025-06-30", "M0", "M0", 1),
            ("2025-07-31", "M0", "M0", 1),
            ("2025-08-31", "M0", "M0", 1),
            ("2025-09-30", "M0", "M0", 1),
        ]
    )
    matrix = portfolio.roll_rate_matrix(rolls, months=6)
    assert matrix.loc["M1", "M0"] == pytest.approx(0.5)  # (30 + 10) / 80, by loans, not months
    assert matrix.loc["M1", "M2"] == pytest.approx(0.5)
    assert matrix.loc["M0", "M0"] == pytest.approx(1.0)
    assert list(matrix.columns)[-1] == "closed" and "closed" not in matrix.index
    assert matrix.loc["M3"].isna().all()  # no loan was in M3: no rate, not 0%


def test_the_report_logs_its_plots_for_the_date(ml_settings) -> None:
    vintages = pd.DataFrame(
        {
            "vintage_cell_id": ["2025-01:01", "2025-01:02", "2025-02:01"],
            "cohort_month": [dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1)],
            "months_on_book": [1, 2, 1],
            "ever_30_dpd_rate": [0.02, 0.08, 0.03],
            "ever_90_dpd_rate": [0.0, 0.01, 0.0],
            "as_of_date": [DAY, DAY, DAY],
        }
    )
    stale = vintages.assign(as_of_date=DAY - dt.timedelta(days=1), ever_30_dpd_rate=0.9)
    decisions = pd.DataFrame(
        {
            "decision": ["approve", "decline", "refer", "approve"],
            "credit_pd": [0.05, 0.5, 0.25, 0.1],
            "decided_date": [DAY, DAY, DAY, DAY + dt.timedelta(days=1)],
        }
    )
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(ml_settings.warehouse_path)) as con:
        con.execute("create schema marts; create schema ml")
        for table, frame in (
            ("marts.fct_vintage_curves", pd.concat([vintages, stale])),
            ("marts.fct_roll_rates", _rolls([("2025-12-31", "M0", "M1", 3)])),
            ("ml.application_decisions", decisions),
        ):
            con.register("frame", frame)
            con.execute(f"create table {table} as select * from frame")
            con.unregister("frame")

    report = portfolio.main(DAY, ml_settings)

    assert report.plots == [
        "vintage_ever_30.png",
        "vintage_ever_90.png",
        "roll_rates.png",
        "scores_by_decision.png",
    ]
    assert report.cohorts == 2
    client = client_for(ml_settings)
    logged = {a.path for a in client.list_artifacts(report.run_id)}
    assert set(report.plots) | {"vintages.csv", "roll_rates.csv"} <= logged
    vintages_logged = pd.read_csv(client.download_artifacts(report.run_id, "vintages.csv"))
    assert vintages_logged["ever_30_dpd_rate"].max() < 0.9  # only the date's slice
