"""Quality gates on real bronze partitions (a GX file context in a tmp creditlake home), on both
gate engines: in-process pandas (after a DuckDB ingest) and Spark (after a Spark ingest)."""

from __future__ import annotations

import html
import json
from decimal import Decimal
from pathlib import Path

import pytest
from quality_fixtures import DAY, TEST_TOKEN_KEY, valid_row, write_bronze

from creditlake.pii import tokenise
from creditlake.settings import Settings
from expectations.validate import (
    MissingDataError,
    QualityGateError,
    data_docs_index,
    validate_bronze,
)

#: Real Spark and a real GX project: about a minute and a half for this module on 2 cores.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, params=["duckdb", "spark"])
def ingest_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both gate engines (the ingest engine decides which one the gate uses);
    autouse, so it sets the engine before the ``settings`` fixture reads the environment."""
    monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", request.param)
    return request.param


def _summary(settings: Settings, suite: str) -> dict:
    return json.loads((settings.reports_dir / "quality" / suite / f"{DAY}.json").read_text())


def _failures(summary: dict) -> dict[tuple[str, str | None], tuple[str, int | None]]:
    return {
        (f["type"], f["column"]): (f["severity"], f["unexpected_count"])
        for f in summary["failed_expectations"]
    }


def test_clean_partition_passes_and_a_rerun_is_idempotent(spark, settings: Settings) -> None:
    write_bronze(settings, "loans", [valid_row("loans", n) for n in range(3)])

    result = validate_bronze("loans", DAY, settings=settings, spark=spark)

    assert result.success
    assert (result.suite, result.as_of_date, result.rows) == ("bronze_loans", "2026-01-02", 3)
    assert (result.evaluated, result.passed) == (15, 15)  # see test_suites: 15 rules for loans
    assert result.failed == {"critical": 0, "warning": 0, "info": 0}
    assert _summary(settings, "bronze_loans") == result.to_dict()
    index = data_docs_index(settings)
    assert index == settings.gx_dir / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file()
    assert "bronze_loans" in index.read_text()

    rerun = validate_bronze("loans", "2026-01-02", settings=settings, spark=spark)

    assert rerun.to_dict() == result.to_dict()
    assert [p.name for p in (settings.gx_dir / "expectations").glob("*.json")] == [
        "bronze_loans.json"
    ]
    assert [p.name for p in (settings.gx_dir / "checkpoints").glob("*.json")] == [
        "bronze_loans.json"
    ]
    assert [p.name for p in (settings.reports_dir / "quality" / "bronze_loans").iterdir()] == [
        "2026-01-02.json"
    ]
    runs = settings.gx_dir / "uncommitted" / "validations" / "bronze_loans" / "2026-01-02"
    assert len(list(runs.iterdir())) == 2  # both runs are kept in the validation history


def test_policy_breach_is_a_recorded_warning_not_a_failure(spark, settings: Settings) -> None:
    rows = [
        valid_row("loans", 0),
        valid_row("loans", 1, apr=Decimal("0.3000")),
        valid_row("loans", 2, principal_cny=Decimal("250000.00")),
        valid_row("loans", 3, apr=Decimal("0.2400")),  # at the cap is within policy
    ]
    write_bronze(settings, "loans", rows)

    result = validate_bronze("loans", DAY, settings=settings, spark=spark)

    assert result.success
    assert result.failed == {"critical": 0, "warning": 2, "info": 0}
    assert (result.evaluated, result.passed) == (15, 13)
    summary = _summary(settings, "bronze_loans")
    assert _failures(summary) == {
        ("expect_column_values_to_be_between", "apr"): ("warning", 1),
        ("expect_column_values_to_be_between", "principal_cny"): ("warning", 1),
    }
    assert summary["success"] is True


def test_wrong_types_stop_the_gate(spark, settings: Settings) -> None:
    """A partition not typed as the registry says breaks the write contract: critical."""
    rows = [valid_row("loans", n) for n in range(2)]
    write_bronze(settings, "loans", rows, retype={"term_months": "string"})

    with pytest.raises(QualityGateError) as raised:
        validate_bronze("loans", DAY, settings=settings, spark=spark)

    message = str(raised.value)
    assert "quality gate bronze_loans failed for 2026-01-02: 1 critical" in message
    summary = _summary(settings, "bronze_loans")
    assert _failures(summary) == {
        ("expect_column_values_to_be_of_type", "term_months"): ("critical", None),
    }
    assert (summary["evaluated"], summary["passed"], summary["success"]) == (15, 14, False)
    assert raised.value.results[0].to_dict() == summary


def test_schema_drift_is_critical(spark, settings: Settings) -> None:
    write_bronze(settings, "transactions", [valid_row("transactions", 0)], drop=("merchant_name",))

    with pytest.raises(QualityGateError, match="expect_table_columns_to_match_ordered_list"):
        validate_bronze("transactions", DAY, settings=settings, spark=spark)

    failures = _failures(_summary(settings, "bronze_transactions"))
    assert failures[("expect_table_columns_to_match_ordered_list", None)][0] == "critical"
    assert failures[("expect_column_values_to_be_of_type", "merchant_name")][0] == "critical"


RAW_NAME = "张三丰"
RAW_NATIONAL_ID = "11010119900307123X"
RAW_MOBILE = "13812345678"
RAW_CARD = "6222020200112233445"


def _encodings(value: str) -> set[bytes]:
    """The ways a value could be written into JSON or HTML."""
    return {
        value.encode("utf-8"),
        json.dumps(value)[1:-1].encode("ascii"),
        html.escape(value).encode("ascii", "xmlcharrefreplace"),
    }


def _files_containing(root: Path, value: str) -> list[str]:
    needles = _encodings(value)
    return [
        str(p) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)
    ]


def test_failures_on_personal_columns_leave_no_values_behind(spark, settings: Settings) -> None:
    """Raw identifiers in token columns fail the gate, yet no value reaches GX files or reports."""
    leaked_token = tokenise("a-real-person", TEST_TOKEN_KEY)
    rows = [
        valid_row(
            "customers",
            0,
            name_token=RAW_NAME,
            national_id_token=RAW_NATIONAL_ID,
            mobile_token=RAW_MOBILE,
            bank_card_number_token=RAW_CARD,
            residence_type="suburban",
        ),
        valid_row("customers", 1, national_id_token=leaked_token),
        valid_row("customers", 2, national_id_token=leaked_token),  # duplicated token: allowed
    ]
    write_bronze(settings, "customers", rows)

    with pytest.raises(QualityGateError) as raised:
        validate_bronze("customers", DAY, settings=settings, spark=spark)

    failures = _failures(_summary(settings, "bronze_customers"))
    assert failures == {
        ("expect_column_values_to_match_regex", "name_token"): ("critical", 1),
        ("expect_column_values_to_match_regex", "national_id_token"): ("critical", 1),
        ("expect_column_values_to_match_regex", "mobile_token"): ("critical", 1),
        ("expect_column_values_to_match_regex", "bank_card_number_token"): ("critical", 1),
    }
    site = data_docs_index(settings).parent
    assert list(site.rglob("validations/bronze_customers/**/*.html"))
    for value in (RAW_NAME, RAW_NATIONAL_ID, RAW_MOBILE, RAW_CARD, "suburban", leaked_token):
        assert value not in str(raised.value)
        assert _files_containing(settings.gx_dir, value) == []
        assert _files_containing(settings.reports_dir, value) == []


def test_missing_delivery_names_source_and_date(spark, settings: Settings) -> None:
    with pytest.raises(MissingDataError, match="no staged bronze delivery of loans for 2026-01-02"):
        validate_bronze("loans", DAY, settings=settings, spark=spark)


def test_missing_partition_fails_the_airflow_task_without_retries(spark, settings) -> None:
    """Retrying cannot make a partition appear: the task fails at once, naming the partition."""
    import pendulum
    from airflow.sdk.exceptions import AirflowFailException

    from orchestration.ingest import build_ingest_dag

    task = build_ingest_dag("loan_origination", None).get_task("loans.validate_bronze")
    interval_start = pendulum.datetime(DAY.year, DAY.month, DAY.day, tz="UTC")

    with pytest.raises(
        AirflowFailException, match=r"no staged bronze delivery of loans for 2026-01-02"
    ):
        task.python_callable(data_interval_start=interval_start)


def test_unknown_source_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(KeyError, match="unknown source 'loan'"):
        validate_bronze("loan", DAY, settings=settings, spark=object())
