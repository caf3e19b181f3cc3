"""orchestration.dbt: dbt's environment and vars, parsing, and failures that name nodes."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from dbt_fixture_lake import fresh_settings

from creditlake.sources import SOURCES
from orchestration.dbt import (
    AS_OF_DATE_ENV,
    PROFILES_DIR,
    PROJECT_DIR,
    DbtRunError,
    dbt_env,
    dbt_vars,
    failure_message,
    pinned_as_of_date,
    run_dbt,
)

MARTS = {
    "dim_customers",
    "fct_loans",
    "fct_installments",
    "fct_application_features",
    "fct_application_training_set",
    "fct_fraud_training_set",
    "fct_collections_training_set",
    "fct_collection_entries",
    "fct_collection_outcomes",
    "fct_b_card_snapshots",
    "fct_b_card_training_set",
    "fct_loan_month_ends",
    "fct_vintage_curves",
    "fct_roll_rates",
}


def test_dbt_env_points_dbt_at_the_settings_locations(tmp_path) -> None:
    settings = fresh_settings(tmp_path / "home")
    env = dbt_env(settings)
    assert env["CREDITLAKE_WAREHOUSE_PATH"] == str(
        tmp_path / "home" / "warehouse" / "creditlake.duckdb"
    )
    assert env["CREDITLAKE_LAKE_DIR"] == str(tmp_path / "home" / "lake")
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert "DBT_PROJECT_DIR" not in env  # Cosmos runs dbt from a copy of the project
    assert AS_OF_DATE_ENV not in env
    assert dbt_env(settings, "2026-01-04")[AS_OF_DATE_ENV] == "2026-01-04"
    assert (PROJECT_DIR / "dbt_project.yml").is_file()
    assert (PROFILES_DIR / "profiles.yml").is_file()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-04", "2026-01-04"),
        (dt.date(2025, 12, 31), "2025-12-31"),
        (dt.datetime(2026, 1, 2, 23, 59), "2026-01-02"),
        ("2026-01-04T00:00:00+00:00", "2026-01-04"),
    ],
)
def test_builds_are_pinned_to_a_plain_as_of_date(value, expected: str) -> None:
    assert pinned_as_of_date(value) == expected


def test_a_malformed_as_of_date_is_refused() -> None:
    with pytest.raises(ValueError, match="as_of_date '04/01/2026'"):
        pinned_as_of_date("04/01/2026")


def test_dbt_vars_carry_the_label_policy_and_not_the_date(tmp_path, monkeypatch) -> None:
    """The vars are the same on every date (dbt re-parses the project when they change); the
    date travels in the environment, read only when SQL executes."""
    monkeypatch.setenv("CREDITLAKE_APR_CAP", "0.2")  # a cap is not a dbt var: GX checks it
    settings = fresh_settings(tmp_path / "home")
    assert dbt_vars(settings) == {
        "performance_window_months": 6,
        "bad_days_past_due": 30,
    }


@pytest.mark.slow
def test_parse_needs_no_as_of_date_and_yields_every_layer(parsed_manifest) -> None:
    models = {
        node["name"]: node
        for node in parsed_manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    schemas = {node["schema"] for node in models.values()}
    assert schemas == {"staging", "intermediate", "marts"}
    assert {name for name, node in models.items() if node["schema"] == "marts"} == MARTS
    assert all(models[name]["contract"]["enforced"] for name in MARTS)
    # each build replaces its own as-of date's slice of a mart (macros/slices.sql)
    assert {
        (models[name]["config"]["materialized"], models[name]["config"]["incremental_strategy"])
        for name in MARTS
    } == {("incremental", "replace_as_of_date")}
    staging = {name for name, node in models.items() if node["schema"] == "staging"}
    assert len(staging) == len(SOURCES)
    unit_tests = parsed_manifest["unit_tests"]
    assert {test["model"] for test in unit_tests.values()} >= {
        "int_installments_repaid",
        "int_loans_performance_labelled",
        "int_application_behaviour_features",
        "int_application_bureau_features",
        "int_application_features",
        "int_applications_known",
        "int_applications_scoped",
        "int_loans_known",
        "int_loans_first_payment",
        "int_application_link_features",
        "int_loan_month_ends",
        "int_collection_entries",
        "fct_installments",
        "fct_loans",
        "fct_application_training_set",
        "fct_fraud_training_set",
    }


@pytest.mark.slow
def test_a_failed_run_names_the_failed_node_and_the_cause(dbt_settings, parsed_manifest) -> None:
    with pytest.raises(DbtRunError) as raised:
        run_dbt(["run", "--select", "stg_los__customers"], dbt_settings, as_of_date=None)
    message = str(raised.value)
    assert "model.creditlake.stg_los__customers" in message
    assert "as-of date is required: set CREDITLAKE_AS_OF_DATE" in message
    assert "\x1b[" not in message


@pytest.mark.slow
def test_the_next_date_reuses_the_parsed_project(dbt_settings, parsed_manifest) -> None:
    """Each date's SQL carries its date, yet another date parses nothing again: the date is no
    part of what dbt parses (``macros/as_of_date.sql``), so partial parsing holds across dates."""
    from creditlake.settings import DBT_TARGET_DIR

    for day in ("2026-01-02", "2026-01-03"):
        run_dbt(["compile", "--select", "stg_los__loans"], dbt_settings, day)
        compiled = DBT_TARGET_DIR / "compiled/creditlake/models/staging/los/stg_los__loans.sql"
        assert f"cast('{day}' as date)" in compiled.read_text()
    run_dbt(["parse"], dbt_settings, "2026-01-04")  # dbt parse writes perf_info.json
    perf = json.loads((DBT_TARGET_DIR / "perf_info.json").read_text())
    assert perf["is_partial_parse_enabled"] is True
    assert perf["parsed_path_count"] == 0


def _result(unique_id: str, status: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(
        node=SimpleNamespace(unique_id=unique_id),
        status=SimpleNamespace(value=status),
        message=message,
    )


def test_failure_message_lists_failures_not_passes_or_warnings() -> None:
    run_result = SimpleNamespace(
        results=[
            _result("model.creditlake.ok", "success", "OK"),
            _result("test.creditlake.soft", "warn", "Got 3 results"),
            _result("test.creditlake.unique_key", "fail", "\x1b[31mGot 2 results\x1b[0m"),
            _result("model.creditlake.broken", "error", "Binder Error:\n  column x"),
        ]
    )
    message = failure_message(["build"], run_result, None)
    lines = message.splitlines()
    assert lines[0].startswith("dbt build failed")
    assert lines[1:] == [
        "  fail: test.creditlake.unique_key: Got 2 results",
        "  error: model.creditlake.broken: Binder Error: column x",
    ]


def test_failure_message_caps_the_list_and_reports_exceptions() -> None:
    run_result = SimpleNamespace(
        results=[_result(f"test.creditlake.t{i}", "fail", "bad") for i in range(25)]
    )
    message = failure_message(["test"], run_result, RuntimeError("boom"))
    assert message.count("  fail: ") == 20
    assert "... and 5 more failed nodes" in message
    assert message.splitlines()[-1] == "  RuntimeError: boom"
