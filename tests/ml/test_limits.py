"""ml.limits: the month end's active book, scored by a champion in pandas or Spark, and the
proposals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest

from creditlake.policy import DEFAULT_POLICY
from ml import limits
from ml.serving import conform_to_schema
from ml.tracking import configure_mlflow

DAY = dt.date(2026, 1, 1)


def _book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "loan_month_id": ["L1:2025-12", "L2:2025-12", "L3:2025-12", "L4:2025-12", "L5:2025-11"],
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "month_end": [dt.date(2025, 12, 31)] * 4 + [dt.date(2025, 11, 30)],
            "principal_cny": [10_000.0, 10_000.0, 180_000.0, 8_000.0, 5_000.0],
            "outstanding_principal_share": [0.5, 0.5, 0.9, 0.42, 0.5],
            "max_days_past_due_to_date": [0, 3, 0, 0, 0],
            "months_on_book": [6, 6, 4, 2, 5],
            "as_of_date": [DAY] * 5,
        }
    )


def test_proposals_follow_the_strategy_and_the_unsecured_cap() -> None:
    book = _book().iloc[:4]
    scores = pd.DataFrame(
        {
            "pd": [0.01, 0.01, 0.02, 0.35],
            "score": [700, 700, 690, 520],
            "reasons": ["", "", "", "x"],
        }
    )
    out = limits.propose(book, scores, "3", DAY, DEFAULT_POLICY)
    assert out["proposal"].tolist() == ["increase", "hold", "increase", "decrease"]
    # L1 grows by 20 %; L2 was once past due; L3 is capped at the regulatory unsecured limit;
    # L4 shrinks to what is outstanding, rounded up to the step, with the reasons
    assert out["proposed_limit_cny"].tolist() == [12_000.0, 10_000.0, 200_000.0, 3_400.0]
    assert out["reasons"].isna().tolist() == [True, True, True, False]
    assert out["reasons"].iloc[3] == "x"
    assert set(out["model_version"]) == {3}


def test_only_the_latest_month_end_first_known_today_is_proposed(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(ml_settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.register("frame", _book())
        con.execute("create table marts.fct_b_card_snapshots as select * from frame")
    book = limits.active_book(ml_settings.warehouse_path, DAY)
    assert book["loan_id"].tolist() == ["L1", "L2", "L3", "L4"]
    assert limits.active_book(ml_settings.warehouse_path, dt.date(2026, 1, 2)).empty


def test_without_a_champion_there_are_no_proposals_and_the_result_says_why(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    result = limits.main(DAY, ml_settings)
    assert (result.rows, result.model_version) == (0, None)
    assert "'b_card' has no version with alias 'champion'" in result.note


@pytest.mark.slow
def test_the_spark_udf_scores_exactly_what_the_model_scores_in_python(
    ml_platform, training_runs
) -> None:
    """The Spark path is the pyfunc model itself: same PDs, scores and reasons, row for row."""
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select * from marts.fct_application_features order by application_id limit 200"
        ).df()
    configure_mlflow(ml_platform)  # another test in this process may have pointed MLflow elsewhere
    model = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    schema = model.metadata.get_input_schema()
    expected = model.predict(conform_to_schema(rows, schema))
    scored = limits.score_in_spark(rows, schema, ml_platform, model_name="credit_pd")
    assert len(scored) == len(rows)
    np.testing.assert_allclose(scored["pd"], expected["pd"], rtol=1e-12)
    np.testing.assert_allclose(scored["score"], expected["score"], rtol=1e-12)
    assert scored["reasons"].tolist() == expected["reasons"].tolist()


@pytest.mark.parametrize(
    ("master", "engine"), [("local[2]", "pandas"), ("spark://cluster:7077", "spark")]
)
def test_the_spark_master_decides_the_limits_engine(master, engine, monkeypatch) -> None:
    from creditlake.settings import get_settings

    monkeypatch.delenv("CREDITLAKE_LIMITS_ENGINE", raising=False)
    monkeypatch.setenv("CREDITLAKE_SPARK_MASTER", master)
    assert get_settings().limits_engine == engine


@pytest.mark.slow
def test_pandas_and_spark_propose_the_same_limits(ml_platform, training_runs) -> None:
    """Both engines run the champion's pyfunc: the same proposals, limits and reasons, row for
    row. The strategy's cut-offs sit at the PD's tertiles so that every proposal occurs."""
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select * from marts.fct_application_features order by application_id limit 300"
        ).df()
    configure_mlflow(ml_platform)
    model = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    rng = np.random.default_rng(5)
    book = rows.assign(
        loan_month_id=[f"L{i}:2025-12" for i in range(len(rows))],
        loan_id=[f"L{i}" for i in range(len(rows))],
        month_end=dt.date(2025, 12, 31),
        principal_cny=rng.choice([5_000.0, 20_000.0, 190_000.0], size=len(rows)),
        outstanding_principal_share=rng.uniform(0.1, 0.9, size=len(rows)).round(2),
        max_days_past_due_to_date=rng.choice([0, 0, 0, 5], size=len(rows)),
        months_on_book=rng.integers(1, 12, size=len(rows)),
    )
    proposals = {}
    for engine in ("pandas", "spark"):
        settings = dataclasses.replace(ml_platform, limits_engine=engine)
        scores = limits.score_book(book, model, settings, model_name="credit_pd")
        if engine == "pandas":
            low, high = np.quantile(scores["pd"], [1 / 3, 2 / 3])
            strategy = limits.LimitStrategy(increase_below_pd=low, decrease_from_pd=high)
        proposals[engine] = limits.propose(book, scores, "1", DAY, DEFAULT_POLICY, strategy)
    assert set(proposals["pandas"]["proposal"]) == {"increase", "hold", "decrease"}
    pd.testing.assert_frame_equal(proposals["pandas"], proposals["spark"])
