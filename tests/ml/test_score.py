"""ml.score: champion scoring into ml.application_scores, idempotent per day."""

from __future__ import annotations

import datetime as dt

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest

from ml import score
from ml.serving import conform_to_schema
from ml.tracking import client_for


def _scores(settings, day: dt.date) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(
            "select * from ml.application_scores where scored_date = ? order by application_id",
            [day],
        ).df()


def test_no_champion_is_a_clear_error(ml_platform, training_runs) -> None:
    client = client_for(ml_platform)
    champion = training_runs["second"].champion_version
    client.delete_registered_model_alias("credit_pd", "champion")
    try:
        with pytest.raises(score.NoChampionError, match="no version with alias 'champion'"):
            score.main("2026-01-02", ml_platform)
    finally:
        client.set_registered_model_alias("credit_pd", "champion", champion)


def test_scoring_writes_the_days_rows_and_a_rerun_replaces_them(
    ml_platform, training_runs, scoring_days
) -> None:
    day, empty_day = scoring_days
    champion = training_runs["second"].champion_version
    result = score.main(day.isoformat(), ml_platform)
    assert result.to_dict() == {
        "scored_date": "2026-01-02",
        "rows": 40,
        "model_name": "credit_pd",
        "model_version": champion,
        "table": "ml.application_scores",
        "models": {"credit_pd": champion},  # the fixture trains no fraud model
        # so nothing is approved: referred (F00), or declined without a declared income (P02)
        "decisions": {"refer": 38, "decline": 2},
        "decisions_table": "ml.application_decisions",
    }
    written = _scores(ml_platform, day)
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        applications = con.execute(
            "select * from marts.fct_application_features "
            "where cast(applied_at as date) = ? order by application_id",
            [day],
        ).df()
    assert written["application_id"].tolist() == applications["application_id"].tolist()
    assert set(written["model_version"]) == {int(champion)}
    assert set(written["model_name"]) == {"credit_pd"}
    # Independently: the champion loaded straight from the registry gives the same PDs.
    model = mlflow.pyfunc.load_model(f"models:/credit_pd/{champion}")
    expected = model.predict(conform_to_schema(applications, model.metadata.get_input_schema()))
    np.testing.assert_allclose(written["pd"], expected["pd"], atol=5e-7)
    np.testing.assert_allclose(written["score"], expected["score"], atol=5e-3)
    assert written["reasons"].tolist() == expected["reasons"].tolist()
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        decisions = con.execute(
            "select * from ml.application_decisions where decided_date = ? order by application_id",
            [day],
        ).df()
    assert decisions["application_id"].tolist() == written["application_id"].tolist()
    assert all(list(codes) in (["F00"], ["P02"]) for codes in decisions["reason_codes"])
    assert decisions["credit_limit_cny"].isna().all()
    assert (written["pd"] == written["pd"].round(6)).all()
    assert ((written["pd"] > 0) & (written["pd"] < 1)).all()

    # Another day's rows are left alone by a re-run.
    with duckdb.connect(str(ml_platform.warehouse_path)) as con:
        con.execute(
            "insert into ml.application_scores values ('OTHER', 500, 0.1, 'credit_pd', 1, '', ?)",
            [dt.date(2025, 12, 31)],
        )
        con.execute("update ml.application_scores set score = -1 where scored_date = ?", [day])
    again = score.main(day, ml_platform)
    assert again.rows == 40
    rewritten = _scores(ml_platform, day)
    pd.testing.assert_frame_equal(rewritten, written)
    assert len(_scores(ml_platform, dt.date(2025, 12, 31))) == 1

    nothing = score.main(empty_day, ml_platform)
    assert nothing.rows == 0
    assert _scores(ml_platform, empty_day).empty
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from ml.application_scores").fetchone()[0] == 41


def test_bad_as_of_date_is_a_clear_error(ml_platform, training_runs) -> None:
    with pytest.raises(ValueError, match="as_of_date '2026-13-01' is not a date"):
        score.main("2026-13-01", ml_platform)


def test_scores_and_mlflow_records_pass_the_pii_scanner(ml_platform, training_runs) -> None:
    """No digit run in the ML outputs looks like an ID, phone or card number.

    ``python_model.pkl`` is left out: it holds LightGBM's model text, whose full-precision
    floats (``0.0381771366224885``) the scanner currently reads as card/ID numbers; the fix
    belongs in the scanner (ignore digits right after a decimal point).
    """
    from orchestration.pii_scan import scan_files, scan_text

    score.main(dt.date(2026, 1, 2), ml_platform)
    with duckdb.connect(str(ml_platform.warehouse_path), read_only=True) as con:
        table = con.execute("select * from ml.application_scores").df()
    assert scan_text(table.to_csv(index=False), "ml.application_scores") == []
    store = ml_platform.home / "mlflow"
    files = [p for p in store.rglob("*") if p.is_file() and p.name != "python_model.pkl"]
    assert any(p.name == "scorecard.csv" for p in files)
    assert scan_files(files) == []
