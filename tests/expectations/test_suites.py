"""Suites are generated from the registry and settings: their shape, severities and thresholds."""

from __future__ import annotations

from collections import Counter

import pytest

from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES, bronze_columns, get_source
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
    # 1 schema + 2 key + 12 column types + 7 required non-key columns + 2 positive (principal,
    # term) + 1 non-negative (apr) + 2 policy caps (apr, principal).
    assert len(rules) == 27
    assert _by_type(rules) == {
        "expect_table_columns_to_match_ordered_list": 1,
        "expect_column_values_to_be_of_type": 12,
        "expect_column_values_to_not_be_null": 8,
        "expect_column_values_to_be_unique": 1,
        "expect_column_values_to_be_between": 5,
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


def test_schedule_suite_checks_instalment_arithmetic(settings: Settings) -> None:
    rules = suites.bronze_expectations(get_source("repayment_schedules"), settings)
    query_rules = [e for e in rules if e.expectation_type == "unexpected_rows_expectation"]

    assert len(query_rules) == 1
    query = query_rules[0].unexpected_rows_query
    assert "{batch}" in query
    assert "total_due_cny <=> principal_due_cny + interest_due_cny" in query
    assert query.startswith("select installment_id ")  # the key only: no personal data sampled
    assert query_rules[0].severity == "critical"


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


def test_every_source_has_a_suite_with_key_rules(settings: Settings) -> None:
    for name, source in SOURCES.items():
        suite = suites.bronze_suite(source, settings)
        assert suite.name == f"bronze_{name}"
        rules = suite.expectations
        assert _find(rules, "expect_column_values_to_be_unique", source.key).severity == "critical"
        assert _find(rules, "expect_column_values_to_not_be_null", source.key)


def test_closed_domains_name_real_bronze_columns() -> None:
    for (source, column), values in suites.CLOSED_DOMAINS.items():
        assert column in [c.name for c in bronze_columns(get_source(source))], (source, column)
        assert len(values) == len(set(values)) >= 2


def test_closed_domains_become_value_set_rules(settings: Settings) -> None:
    customers = suites.bronze_expectations(get_source("customers"), settings)
    in_set = {
        e.column: list(e.value_set)
        for e in customers
        if e.expectation_type == "expect_column_values_to_be_in_set"
    }
    assert in_set == {
        "residence_type": ["urban", "rural"],
        "is_new_citizen": [0, 1],
        "sex": ["M", "F"],
    }


@pytest.mark.parametrize(
    ("registry_type", "spark_class"),
    [
        ("string", "StringType"),
        ("int", "IntegerType"),
        ("bigint", "LongType"),
        ("double", "DoubleType"),
        ("date", "DateType"),
        ("timestamp", "TimestampType"),
        ("decimal(12,2)", "DecimalType"),
        ("decimal(6,4)", "DecimalType"),
    ],
)
def test_spark_type_class(registry_type: str, spark_class: str) -> None:
    assert suites.spark_type_class(registry_type) == spark_class


def test_unknown_registry_type_names_where_to_map_it() -> None:
    with pytest.raises(ValueError, match=r"'map<string,int>'.*SPARK_TYPE_CLASSES"):
        suites.spark_type_class("map<string,int>")


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
    # row count, 3 key, 4 label (exists, not null, in {0,1}, mean), age, 5 dates, build date, apr
    assert len(rules.expectations) == 16
    age = _find(
        rules.expectations, "expect_column_values_to_be_between", "age_at_application_years"
    )
    assert (age.min_value, age.severity) == (18, "critical")
    bad_rate = _find(rules.expectations, "expect_column_mean_to_be_between", "is_bad")
    assert (bad_rate.min_value, bad_rate.max_value, bad_rate.severity) == (0.01, 0.5, "critical")
    apr = _find(rules.expectations, "expect_column_values_to_be_between", "apr")
    assert (apr.max_value, apr.severity) == (settings.apr_cap, "warning")
    applied = _find(rules.expectations, "expect_column_values_to_be_between", "applied_at")
    assert applied.max_value == {"$PARAMETER": "as_of_end"}
    assert applied.strict_max is True


def test_missing_optional_mart_columns_skip_only_their_rule(settings: Settings) -> None:
    columns = ["application_id", "is_bad", "applied_date"]
    rules = suites.training_set_rules(columns, settings)

    rule_columns = {getattr(e, "column", None) for e in rules.expectations}
    assert rule_columns == {None, "application_id", "is_bad", "applied_date"}
    assert len(rules.skipped) == 7  # age, 4 other date columns, build date, apr cap
    assert any("'age_at_application_years'" in s for s in rules.skipped)
    assert any("'apr'" in s and "policy cap" in s for s in rules.skipped)


def test_missing_key_is_not_skipped_but_checked(settings: Settings) -> None:
    rules = suites.training_set_rules(["is_bad"], settings)
    exists = [e for e in rules.expectations if e.expectation_type == "expect_column_to_exist"]
    assert {e.column for e in exists} == {"application_id", "is_bad"}


LOANS_COLUMNS = [
    "loan_id",
    "principal_cny",
    "scheduled_principal_cny",
    "term_months",
    "installments_count",
    "apr",
    "as_of_date",
]


def test_loans_rules(settings: Settings) -> None:
    full = suites.loans_rules(LOANS_COLUMNS, settings)

    assert full.skipped == []
    # 3 key, completeness, schedule = principal, build date, apr cap, principal cap
    assert len(full.expectations) == 8
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
        ("apr", settings.apr_cap),
        ("principal_cny", settings.credit_limit_cny),
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
