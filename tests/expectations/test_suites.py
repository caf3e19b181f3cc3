"""Suites are generated from the registry and the policy: their shape, severities and thresholds.

They hold only what Great Expectations is the home of (docs/quality.md): the bronze write contract,
distributions, point-in-time and cross-table rules, and policy with its severities. Keys, required
values, accepted values and row arithmetic live in the ingest job or in dbt, never here as well.
"""

from __future__ import annotations

from collections import Counter

import pytest

from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES, get_source
from expectations import suites


def _by_type(expectations) -> Counter:
    return Counter(e.expectation_type for e in expectations)


def _find(expectations, expectation_type: str, column: str):
    found = [
        e
        for e in expectations
        if e.expectation_type == expectation_type and getattr(e, "column", None) == column
    ]
    assert len(found) == 1, f"expected one {expectation_type} on {column}, found {len(found)}"
    return found[0]


def test_bronze_loans_suite_checks_the_registry_schema_in_order(settings: Settings) -> None:
    rules = suites.bronze_expectations(get_source("loans"), settings)

    ordered = rules[0]
    assert ordered.expectation_type == "expect_table_columns_to_match_ordered_list"
    assert ordered.column_list == [
        "loan_id",
        "application_id",
        "customer_id",
        "disbursed_at",
        "principal_cny",
        "apr",
        "term_months",
        "first_due_date",
        "_source_file",
        "_row_number",
        "_batch_id",
        "_ingested_at",
    ]
    # 1 schema + 12 column types + 2 policy caps (apr, principal).
    assert len(rules) == 15
    assert _by_type(rules) == {
        "expect_table_columns_to_match_ordered_list": 1,
        "expect_column_values_to_be_of_type": 12,
        "expect_column_values_to_be_between": 2,
    }


@pytest.mark.parametrize(
    ("source", "tokens"),
    [
        (
            "customers",
            {"name_token", "national_id_token", "mobile_token", "bank_card_number_token"},
        ),
        ("applications", {"device_id_token", "ip_address_token"}),
        ("app_events", {"device_id_token"}),
        ("loans", set()),
        ("transactions", set()),
    ],
)
def test_every_token_column_must_look_like_a_token(
    settings: Settings, source: str, tokens: set[str]
) -> None:
    rules = suites.bronze_expectations(get_source(source), settings)
    regex_rules = [e for e in rules if e.expectation_type == "expect_column_values_to_match_regex"]

    assert {e.column for e in regex_rules} == tokens
    assert all(e.regex == r"^[0-9a-f]{64}$" for e in regex_rules)


def test_policy_caps_are_warnings_that_follow_settings(
    creditlake_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITLAKE_APR_CAP", "0.36")
    monkeypatch.setenv("CREDITLAKE_CREDIT_LIMIT_CNY", "50000")
    settings = get_settings()
    rules = suites.bronze_expectations(get_source("applications"), settings)

    caps = [e for e in rules if e.severity == "warning"]
    assert {(e.column, e.max_value) for e in caps} == {
        ("apr", 0.36),
        ("requested_amount_cny", 50000.0),
        ("approved_amount_cny", 50000.0),
    }
    assert all(e.expectation_type == "expect_column_values_to_be_between" for e in caps)
    assert all(e.description.startswith("[warning] policy:") for e in caps)
    assert {e.severity for e in rules} == {"critical", "warning"}


#: What a bronze suite may hold: the write contract (schema, types, tokens) and policy caps.
BRONZE_RULE_TYPES = {
    "expect_table_columns_to_match_ordered_list",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_between",
}


def test_bronze_suites_repeat_no_rule_the_ingest_job_or_dbt_owns(settings: Settings) -> None:
    for name, source in SOURCES.items():
        suite = suites.bronze_suite(source, settings)
        assert suite.name == f"bronze_{name}"
        types = {e.expectation_type for e in suite.expectations}
        assert types <= BRONZE_RULE_TYPES, name
        ranges = [
            e
            for e in suite.expectations
            if e.expectation_type == "expect_column_values_to_be_between"
        ]
        assert all(e.severity == "warning" for e in ranges), f"{name}: only policy caps"


TRAINING_COLUMNS = [
    "application_id",
    "loan_id",
    "applied_at",
    "applied_date",
    "application_month",
    "disbursed_date",
    "performance_window_end_date",
    "age_at_application_years",
    "apr",
    "is_bad",
    "as_of_date",
]


def test_training_set_rules_with_every_column(settings: Settings) -> None:
    rules = suites.training_set_rules(TRAINING_COLUMNS, settings)

    assert rules.skipped == []
    # row count, bad rate, age, 5 dates, build date, apr
    assert len(rules.expectations) == 10
    age = _find(
        rules.expectations, "expect_column_values_to_be_between", "age_at_application_years"
    )
    assert (age.min_value, age.severity) == (18, "critical")
    bad_rate = _find(rules.expectations, "expect_column_mean_to_be_between", "is_bad")
    assert (bad_rate.min_value, bad_rate.max_value, bad_rate.severity) == (0.01, 0.5, "critical")
    apr = _find(rules.expectations, "expect_column_values_to_be_between", "apr")
    assert (apr.max_value, apr.severity) == (settings.policy.apr_cap, "warning")
    applied = _find(rules.expectations, "expect_column_values_to_be_between", "applied_at")
    assert applied.max_value == {"$PARAMETER": "as_of_end"}
    assert applied.strict_max is True
    # the training set as of the date: rows owned by that date or earlier, none by a later one
    owner = _find(rules.expectations, "expect_column_values_to_be_between", "as_of_date")
    assert (owner.min_value, owner.max_value) == (None, {"$PARAMETER": "as_of_date"})


def test_missing_optional_mart_columns_skip_only_their_rule(settings: Settings) -> None:
    columns = ["application_id", "is_bad", "applied_date"]
    rules = suites.training_set_rules(columns, settings)

    rule_columns = {getattr(e, "column", None) for e in rules.expectations}
    assert rule_columns == {None, "is_bad", "applied_date"}
    assert len(rules.skipped) == 7  # age, 4 other date columns, build date, apr cap
    assert any("'age_at_application_years'" in s for s in rules.skipped)
    assert any("'apr'" in s and "policy cap" in s for s in rules.skipped)


LOANS_COLUMNS = [
    "loan_id",
    "principal_cny",
    "scheduled_principal_cny",
    "term_months",
    "installments_count",
    "apr",
    "as_of_date",
]


#: Structural rules are dbt's (the marts' contracts and tests): never repeated by a warehouse suite.
STRUCTURAL_TYPES = {
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_in_set",
}


def test_warehouse_suites_leave_keys_and_label_values_to_dbt(settings: Settings) -> None:
    for rules in (
        suites.training_set_rules(TRAINING_COLUMNS, settings),
        suites.loans_rules(LOANS_COLUMNS, settings),
    ):
        assert not {e.expectation_type for e in rules.expectations} & STRUCTURAL_TYPES


def test_loans_rules(settings: Settings) -> None:
    full = suites.loans_rules(LOANS_COLUMNS, settings)

    assert full.skipped == []
    # the date's snapshot exists, completeness, schedule = principal, build date, apr cap,
    # principal cap
    assert len(full.expectations) == 6
    (row_count,) = [
        e for e in full.expectations if e.expectation_type == "expect_table_row_count_to_be_between"
    ]
    assert (row_count.min_value, row_count.severity) == (1, "critical")
    pairs = {
        (e.column_A, e.column_B): e
        for e in full.expectations
        if e.expectation_type == "expect_column_pair_values_to_be_equal"
    }
    principal = pairs[("scheduled_principal_cny", "principal_cny")]
    assert principal.severity == "critical"
    assert principal.row_condition.pass_through_filter == "installments_count == term_months"
    assert pairs[("installments_count", "term_months")].severity == "warning"
    warnings = {
        (getattr(e, "column", None), getattr(e, "max_value", None))
        for e in full.expectations
        if e.severity == "warning"
    }
    assert warnings == {
        (None, None),  # completeness is a column pair
        ("apr", settings.policy.apr_cap),
        ("principal_cny", settings.policy.credit_limit_cny),
    }


def test_schedule_sum_covers_every_loan_when_completeness_is_unknown(settings: Settings) -> None:
    rules = suites.loans_rules(["loan_id", "principal_cny", "scheduled_principal_cny"], settings)

    (principal,) = [
        e for e in rules.expectations if e.expectation_type.startswith("expect_column_pair")
    ]
    assert principal.row_condition is None
    assert any("'installments_count'" in s for s in rules.skipped)

    partial = suites.loans_rules(["loan_id", "principal_cny"], settings)
    assert not any(
        e.expectation_type.startswith("expect_column_pair") for e in partial.expectations
    )
    assert any("'scheduled_principal_cny'" in s for s in partial.skipped)


def test_every_expectation_speaks_the_platform_severity_model(settings: Settings) -> None:
    """fail or warn (creditlake.severity), in GX's words: nothing outside the one model."""
    from quality_fixtures import LOANS_COLUMNS, TRAINING_SET_COLUMNS

    from creditlake import severity

    every = [e for s in SOURCES.values() for e in suites.bronze_suite(s, settings).expectations]
    every += suites.training_set_rules(list(TRAINING_SET_COLUMNS), settings).expectations
    every += suites.loans_rules(list(LOANS_COLUMNS), settings).expectations
    found = {severity.of_gx(getattr(e.severity, "value", e.severity)) for e in every}
    assert found == {severity.FAIL, severity.WARN}
