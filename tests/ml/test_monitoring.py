"""Monitoring: PSI and AUC by month against thresholds, one row per model and month, re-runs.

Synthetic populations with a known shift (a feature moved by two standard deviations in one
month) and a known model (the PD is a logistic function of that feature), so the expected
severities follow from the construction; one test monitors a champion trained by ml.train.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from creditlake.severity import FAIL, WARN
from ml import metrics
from ml.monitoring import Champion, main, monitor, performance, stability
from ml.monitoring_plots import monitoring_plots
from ml.monitoring_rules import OK, MonitoringError, Thresholds, worst
from ml.monitoring_tables import (
    PERFORMANCE_TABLE,
    STABILITY_TABLE,
    MonitorResult,
    read_monitoring,
    severity_by_model,
    write_monitoring,
)
from ml.names import CREDIT_PD

THRESHOLDS = Thresholds(
    psi_watch=0.10, psi_act=0.25, auc_warn_drop=0.05, auc_fail_drop=0.10, min_bads=30, min_rows=200
)
TRAIN_MONTHS = ("2025-01", "2025-02", "2025-03")
LATER_MONTHS = ("2025-04", "2025-05", "2025-06")
SHIFTED_MONTH = "2025-06"
AS_OF = dt.date(2025, 6, 30)


def _champion(version: int = 3, oot_auc: float = 0.75) -> Champion:
    return Champion(
        model_name=CREDIT_PD.name,
        version=version,
        train_months=TRAIN_MONTHS,
        trained_as_of=dt.date(2025, 4, 1),
        oot_auc=oot_auc,
        features=("x", "channel"),
    )


def _predict_pd(frame: pd.DataFrame) -> np.ndarray:
    """The model: risk grows with ``x`` (so a shift in ``x`` shifts the score)."""
    return 1 / (1 + np.exp(-(-2.0 + 1.2 * frame["x"].to_numpy(dtype=float))))


def _population(rows_per_month: int = 1500, seed: int = 5) -> pd.DataFrame:
    """Applications of six months; in :data:`SHIFTED_MONTH` ``x`` is two SDs higher."""
    rng = np.random.default_rng(seed)
    months = [*TRAIN_MONTHS, *LATER_MONTHS, "2025-07"]  # July: after the as-of date
    frames = []
    for month in months:
        shift = 2.0 if month == SHIFTED_MONTH else 0.0
        frames.append(
            pd.DataFrame(
                {
                    "application_month": f"{month}-01",
                    "x": rng.normal(shift, 1.0, rows_per_month),
                    "channel": rng.choice(["app", "web", "partner"], rows_per_month),
                    "as_of_date": dt.date.fromisoformat(f"{month}-01") + dt.timedelta(days=40),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _labelled(population: pd.DataFrame, seed: int = 9) -> pd.DataFrame:
    """The matured rows: every month up to May, labelled by the model's own PD (well calibrated)."""
    rng = np.random.default_rng(seed)
    matured = population[population["application_month"] <= "2025-05-01"].copy()
    matured["is_bad"] = (rng.random(len(matured)) < _predict_pd(matured)).astype(int)
    return matured.reset_index(drop=True)


def _monitor(champion: Champion | None = None, thresholds: Thresholds = THRESHOLDS):
    population = _population()
    return monitor(
        champion or _champion(),
        _predict_pd,
        population,
        _labelled(population),
        CREDIT_PD,
        AS_OF,
        thresholds,
    )


def test_a_shifted_feature_gives_a_high_psi_and_fails_its_month() -> None:
    result = _monitor()
    by_month = result.stability.set_index("month")
    assert by_month.loc[SHIFTED_MONTH, "psi_score"] > THRESHOLDS.psi_act
    assert by_month.loc[SHIFTED_MONTH, "worst_feature"] == "x"
    assert by_month.loc[SHIFTED_MONTH, "severity"] == FAIL
    assert set(by_month.loc[["2025-04", "2025-05"], "severity"]) == {OK}
    assert by_month.loc[["2025-04", "2025-05"], "psi_score"].max() < THRESHOLDS.psi_watch
    features = result.feature_psi.set_index(["month", "feature"])
    assert features.loc[(SHIFTED_MONTH, "x"), "severity"] == FAIL
    assert features.loc[(SHIFTED_MONTH, "channel"), "severity"] == OK
    assert result.severity == FAIL
    assert any(SHIFTED_MONTH in line and "(fail)" in line for line in result.findings())


def test_the_score_psi_compares_the_points_with_the_development_sample() -> None:
    """The development sample: the training months' rows as known when the champion trained
    (March's rows were owned after 2025-04-01, so only January and February count)."""
    from ml.models import SCORE_SCALE

    population = _population()
    result = _monitor()
    months = population["application_month"].str[:7]
    development = population[months.isin(["2025-01", "2025-02"])]
    shifted = population[months == SHIFTED_MONTH]
    expected = metrics.psi(
        SCORE_SCALE.score(_predict_pd(development)), SCORE_SCALE.score(_predict_pd(shifted))
    )
    psi = result.stability.set_index("month").loc[SHIFTED_MONTH, "psi_score"]
    assert psi == pytest.approx(expected)


def test_one_row_per_later_month_up_to_the_as_of_date() -> None:
    result = _monitor()
    # after the development window, not after June (July's rows are owned after the as-of date)
    assert result.stability["month"].tolist() == list(LATER_MONTHS)
    assert result.stability["rows"].tolist() == [1500, 1500, 1500]
    assert sorted(result.feature_psi["month"].unique()) == list(LATER_MONTHS)
    assert len(result.feature_psi) == len(LATER_MONTHS) * 2
    # performance: the matured months after the window only (June has no labels yet)
    assert result.performance["month"].tolist() == ["2025-04", "2025-05"]


def test_maturing_performance_counts_bads_and_measures_the_auc_of_each_month() -> None:
    population = _population()
    labelled = _labelled(population)
    result = _monitor()
    april = labelled[labelled["application_month"] == "2025-04-01"]
    row = result.performance.set_index("month").loc["2025-04"]
    assert (row["rows"], row["bads"]) == (len(april), int(april["is_bad"].sum()))
    assert row["bad_rate"] == pytest.approx(april["is_bad"].mean())
    assert row["predicted_bad_rate"] == pytest.approx(_predict_pd(april).mean())
    assert row["auc"] == pytest.approx(metrics.auc(april["is_bad"], _predict_pd(april)))
    assert row["severity"] == OK  # the model is the truth: its AUC holds


def test_a_month_whose_auc_falls_well_below_the_out_of_time_auc_fails() -> None:
    result = _monitor(_champion(oot_auc=0.99))
    assert set(result.performance["severity"]) == {FAIL}


@pytest.mark.parametrize(
    ("auc", "standard_error", "bads", "goods", "expected"),
    [
        (0.80, 0.01, 100, 900, OK),  # at the reference
        (0.74, 0.01, 100, 900, OK),  # 0.06 below, 0.04 beyond two SE: under the warn drop
        (0.72, 0.01, 100, 900, WARN),  # 0.08 below, 0.06 beyond two SE
        (0.66, 0.01, 100, 900, FAIL),  # 0.14 below, 0.12 beyond two SE
        (0.66, 0.05, 100, 900, OK),  # the same AUC measured on fewer rows: within the noise
        (0.62, 0.05, 100, 900, WARN),  # 0.18 below, 0.08 beyond two SE
        (0.50, 0.01, 29, 900, OK),  # too few bads to judge
        (0.50, 0.01, 900, 29, OK),  # too few goods to judge
        (None, None, 0, 900, OK),  # one class: no AUC
    ],
)
def test_auc_severity(auc, standard_error, bads, goods, expected) -> None:
    reference = 0.80
    assert THRESHOLDS.auc_severity(auc, standard_error, reference, bads, goods) == expected


def test_auc_standard_error_matches_a_bootstrap() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(1200) < 0.15).astype(int)
    risk = rng.normal(0, 1, y.size) + 1.1 * y
    area = metrics.auc(y, risk)
    resampled = []
    for _ in range(300):
        index = rng.integers(0, y.size, y.size)
        resampled.append(metrics.auc(y[index], risk[index]))
    se = metrics.auc_standard_error(area, int(y.sum()), int(y.size - y.sum()))
    assert se == pytest.approx(np.std(resampled), rel=0.2)
    with pytest.raises(metrics.MetricInputError):
        metrics.auc_standard_error(0.7, 0, 10)


def test_a_small_month_is_reported_but_not_judged() -> None:
    strict = dataclasses.replace(THRESHOLDS, min_rows=2000)
    result = _monitor(thresholds=strict)
    shifted = result.stability.set_index("month").loc[SHIFTED_MONTH]
    assert shifted["psi_score"] > strict.psi_act and shifted["severity"] == OK
    assert set(result.feature_psi["severity"]) == {OK}


def test_a_feature_beyond_act_makes_a_stable_score_month_a_warning() -> None:
    rng = np.random.default_rng(2)
    development = pd.DataFrame({"x": rng.normal(0, 1, 3000), "channel": "app"})
    recent = pd.DataFrame({"x": rng.normal(0, 1, 1000), "channel": "web"})  # a new channel
    summary, per_feature = stability(
        _champion(),
        development,
        _predict_pd(development),
        recent,
        _predict_pd(recent),
        pd.Series(["2025-04"] * len(recent)),
        THRESHOLDS,
    )
    row = summary.iloc[0]
    assert row["psi_score"] < THRESHOLDS.psi_watch
    assert (row["worst_feature"], row["severity"]) == ("channel", WARN)
    assert per_feature.set_index("feature").loc["channel", "severity"] == FAIL


def test_performance_of_a_month_with_one_class_has_no_auc() -> None:
    frame = performance(
        _champion(),
        np.zeros(50, dtype=int),
        np.full(50, 0.1),
        pd.Series(["2025-04"] * 50),
        THRESHOLDS,
    )
    assert frame["auc"].isna().all() and frame["severity"].tolist() == [OK]


def test_thresholds_refuse_a_warn_drop_above_the_fail_drop(ml_settings) -> None:
    bad = dataclasses.replace(ml_settings, monitoring_auc_warn_drop=0.2)
    with pytest.raises(MonitoringError, match="CREDITLAKE_MONITORING_AUC_WARN_DROP"):
        Thresholds.from_settings(bad)
    assert Thresholds.from_settings(ml_settings).psi_act == ml_settings.psi_act


def test_worst_orders_the_severities() -> None:
    assert [worst([]), worst([OK, WARN]), worst([WARN, FAIL, OK])] == [OK, WARN, FAIL]


def _counts(settings, table: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(
            f"select model_name, model_version, month, count(*) from {table} "
            "group by all order by all"
        ).fetchall()


def test_rerunning_replaces_the_months_and_never_duplicates(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    first = _monitor()
    write_monitoring(ml_settings.warehouse_path, first)
    write_monitoring(ml_settings.warehouse_path, first)
    stability_rows = _counts(ml_settings, STABILITY_TABLE)
    assert stability_rows == [(CREDIT_PD.name, 3, m, 1) for m in LATER_MONTHS]
    assert _counts(ml_settings, PERFORMANCE_TABLE) == [
        (CREDIT_PD.name, 3, m, 1) for m in ("2025-04", "2025-05")
    ]
    # another model's rows are left alone; a new champion replaces the old one's months
    other = dataclasses.replace(first, model_name="fraud")
    write_monitoring(ml_settings.warehouse_path, other)
    later = dataclasses.replace(_champion(version=4), train_months=(*TRAIN_MONTHS, "2025-04"))
    write_monitoring(ml_settings.warehouse_path, _monitor(later))
    rows = _counts(ml_settings, STABILITY_TABLE)
    assert [r for r in rows if r[0] == CREDIT_PD.name] == [
        (CREDIT_PD.name, 4, m, 1) for m in ("2025-05", "2025-06")
    ]
    assert [r for r in rows if r[0] == "fraud"] == [("fraud", 3, m, 1) for m in LATER_MONTHS]
    features = read_monitoring(ml_settings, "feature_psi", CREDIT_PD.name)
    assert set(features["model_version"]) == {4} and len(features) == 2 * 2


def test_summary_and_plots_read_the_tables(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    write_monitoring(ml_settings.warehouse_path, _monitor())
    found = severity_by_model(ml_settings)
    assert found[CREDIT_PD.name]["severity"] == FAIL
    assert found[CREDIT_PD.name]["stability"]["months_at_severity"] == [SHIFTED_MONTH]
    assert found[CREDIT_PD.name]["performance"] == {
        "months": 2,
        "severity": OK,
        "months_at_severity": [],
    }
    paths = monitoring_plots(ml_settings)
    assert paths == [ml_settings.reports_dir / "monitoring" / f"{CREDIT_PD.name}.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_warehouse_reads_as_no_monitoring(ml_settings) -> None:
    assert severity_by_model(ml_settings) == {}
    assert monitoring_plots(ml_settings) == []


def test_main_monitors_the_champion_that_training_registered(ml_platform, training_runs) -> None:
    first = training_runs["first"]
    result = main("2026-01-08", ml_platform, model=CREDIT_PD.name)
    assert isinstance(result, MonitorResult)
    assert str(result.model_version) == first.champion_version
    later = sorted(m for m in first.oot_months if m > max(first.train_months))
    assert result.performance["month"].tolist() == later
    assert result.stability["month"].tolist() == [*later, "2026-01"]
    assert result.severity in (OK, WARN, FAIL)
    again = main("2026-01-08", ml_platform, model=CREDIT_PD.name)
    assert again.to_dict()["stability_months"] == result.to_dict()["stability_months"]
    rows = _counts(ml_platform, STABILITY_TABLE)
    assert [r[2:] for r in rows if r[0] == CREDIT_PD.name] == [(m, 1) for m in [*later, "2026-01"]]
    assert (ml_platform.reports_dir / "monitoring" / f"{CREDIT_PD.name}.png").is_file()
    assert main("2026-01-08", ml_platform, model="c_card").model_version is None


def test_a_model_without_a_champion_gives_an_empty_result_that_still_reports(
    creditlake_home,
) -> None:
    """Nothing to watch is not a failure: the task returns counts of nothing (it crashed when
    the empty tables had no columns)."""
    from creditlake.settings import get_settings

    result = main(dt.date(2026, 1, 2), get_settings(), model="c_card")
    assert result.model_version is None
    assert result.to_dict()["stability_months"] == []
    assert result.to_dict()["performance_months"] == []
    assert result.severity == OK
