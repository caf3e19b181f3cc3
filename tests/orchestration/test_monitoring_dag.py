"""The monitoring DAG's tasks: each severity becomes the task state the severity model promises."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from orchestration.monitoring import check_severity


def _result(severity: str, findings: list[str], version: int | None = 4) -> dict:
    return {
        "model_name": "credit_pd",
        "model_version": version,
        "as_of_date": "2026-01-04",
        "stability_months": ["2025-06", "2025-07"],
        "performance_months": ["2025-06"],
        "severity": severity,
        "findings": findings,
        "plot": "/reports/monitoring/credit_pd.png",
    }


def test_a_fail_month_fails_the_task_without_retries_and_names_the_month() -> None:
    finding = "credit_pd v4 2025-07: score PSI 0.310, largest feature PSI x 0.400 (fail)"
    with pytest.raises(AirflowFailException, match="2025-07") as raised:
        check_severity(_result("fail", [finding]))
    assert "ml.monitoring_" in str(raised.value)


def test_a_warning_is_logged_and_the_task_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    finding = "credit_pd v4 2025-07: score PSI 0.150, largest feature PSI x 0.200 (warn)"
    result = _result("warn", [finding])
    with caplog.at_level("WARNING", logger="orchestration.monitoring"):
        assert check_severity(result) is result
    assert any("2025-07" in record.getMessage() for record in caplog.records)


def test_ok_succeeds_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="orchestration.monitoring"):
        assert check_severity(_result("ok", []))["severity"] == "ok"
    assert not caplog.records


def test_a_model_without_a_champion_is_skipped() -> None:
    with pytest.raises(AirflowSkipException, match="no champion"):
        check_severity(_result("ok", [], version=None))
