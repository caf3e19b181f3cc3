"""Every numeric setting is a row of one table: its type and range are checked, and a mistake is
one line naming the variable, what is wrong and how to fix it."""

from __future__ import annotations

import dataclasses

import pytest

from creditlake.policy import Policy
from creditlake.settings import (
    NUMBERS,
    ORDERED,
    SIZES,
    Settings,
    SettingsError,
    get_settings,
    read_settings,
)

#: The numeric settings a deployment may set, written out here rather than read from the table,
#: so that a row dropped from the table fails the test.
NUMERIC_VARIABLES = {
    "CREDITLAKE_APR_CAP",
    "CREDITLAKE_CREDIT_LIMIT_CNY",
    "CREDITLAKE_SPARK_SHUFFLE_PARTITIONS",
    "CREDITLAKE_SPARK_THRIFT_PORT",
    "CREDITLAKE_SENSOR_TIMEOUT_SECONDS",
    "CREDITLAKE_SENSOR_POKE_SECONDS",
    "CREDITLAKE_RETRY_DELAY_SECONDS",
    "CREDITLAKE_PSI_WATCH",
    "CREDITLAKE_PSI_ACT",
    "CREDITLAKE_CHAMPION_MIN_AUC",
    "CREDITLAKE_CHAMPION_MIN_KS",
    "CREDITLAKE_CHAMPION_MAX_AUC_DROP",
    "CREDITLAKE_GATE_CALIBRATION_TOLERANCE",
    "CREDITLAKE_GATE_FAIRNESS_MIN_RATIO",
    "CREDITLAKE_GATE_FAIRNESS_MIN_GROUP_ROWS",
    "CREDITLAKE_MONITORING_AUC_WARN_DROP",
    "CREDITLAKE_MONITORING_AUC_FAIL_DROP",
    "CREDITLAKE_MONITORING_MIN_BADS",
    "CREDITLAKE_MONITORING_MIN_ROWS",
    "CREDITLAKE_MAX_QUARANTINE_RATE",
    "CREDITLAKE_INGEST_DEADLINE_SECONDS",
    "CREDITLAKE_SNAPSHOT_RETENTION",
    "CREDITLAKE_STACK_POSTGRES_PORT",
    "CREDITLAKE_STACK_AIRFLOW_PORT",
    "CREDITLAKE_STACK_MLFLOW_PORT",
    "CREDITLAKE_STACK_REPORTS_PORT",
}


def _numeric_fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.type in ("int", "float")}


def test_the_table_holds_every_numeric_setting_and_field() -> None:
    assert {spec.env for spec in NUMBERS} == NUMERIC_VARIABLES
    policy_caps = {"apr_cap", "credit_limit_cny"}  # the rest of Policy is not configurable
    assert {spec.field for spec in NUMBERS} == _numeric_fields(Settings) | policy_caps
    assert policy_caps <= _numeric_fields(Policy)


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda spec: spec.env)
def test_a_wrong_type_names_the_variable_and_the_fix(spec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(spec.env, "twelve")
    with pytest.raises(SettingsError) as raised:
        get_settings()
    kind = "an integer" if isinstance(spec.default, int) else "a number"
    message = str(raised.value)
    assert message.startswith(f"{spec.env}='twelve' is not {kind}; set it to {kind}")
    assert message.endswith(f"or unset it for the default {spec.default!r}")
    assert "\n" not in message


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda spec: spec.env)
def test_a_value_out_of_range_is_refused(spec, monkeypatch: pytest.MonkeyPatch) -> None:
    too_low = str(int(spec.low) - 1)  # every row has a lowest value
    monkeypatch.setenv(spec.env, too_low)
    with pytest.raises(SettingsError, match=rf"^{spec.env}='{too_low}' is out of range; set"):
        get_settings()


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda spec: spec.env)
def test_a_value_in_range_is_read(spec, monkeypatch: pytest.MonkeyPatch) -> None:
    # a warning level stays below the level that acts: at the lowest it is, wherever that is
    warning_levels = {low for low, _ in ORDERED}
    highest = spec.high if spec.high is not None else spec.low + 7
    value = spec.low if spec.field in warning_levels else highest
    monkeypatch.setenv(spec.env, str(type(spec.default)(value)))
    settings = get_settings()
    holder = settings.policy if spec.field in ("apr_cap", "credit_limit_cny") else settings
    assert getattr(holder, spec.field) == value


def test_not_a_number_is_refused_as_out_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITLAKE_APR_CAP", "nan")
    with pytest.raises(SettingsError, match="CREDITLAKE_APR_CAP='nan' is out of range"):
        get_settings()


def test_a_warning_level_must_stay_below_the_level_that_acts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREDITLAKE_PSI_WATCH", "0.3")
    with pytest.raises(
        SettingsError, match=r"CREDITLAKE_PSI_WATCH=0\.3 is not below CREDITLAKE_PSI_ACT=0\.25"
    ):
        get_settings()


@pytest.mark.parametrize("spec", SIZES, ids=lambda spec: spec.env)
def test_memory_sizes_are_checked_before_a_tool_reads_them(
    spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(spec.env, "lots")
    with pytest.raises(SettingsError, match=rf"^{spec.env}='lots' is not a memory size; set it"):
        get_settings()
    monkeypatch.setenv(spec.env, "512m" if spec.default == "2g" else "512MB")
    assert getattr(get_settings(), spec.field) == ("512m" if spec.default == "2g" else "512MB")


def test_every_mistake_is_collected_and_the_first_says_how_many_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREDITLAKE_APR_CAP", "abc")
    monkeypatch.setenv("CREDITLAKE_SCHEDULES", "sometimes")
    monkeypatch.setenv("CREDITLAKE_CATALOG_TYPE", "hive")
    settings, errors = read_settings()
    assert [str(e).split("=")[0] for e in errors] == [
        "CREDITLAKE_APR_CAP",
        "CREDITLAKE_CATALOG_TYPE",
        "CREDITLAKE_SCHEDULES",
    ]
    # the defaults stand in for the wrong values, so a DAG file can still be built
    assert (settings.policy.apr_cap, settings.catalog_type, settings.schedules) == (
        0.24,
        "sql",
        True,
    )
    with pytest.raises(SettingsError, match=r"\(2 more configuration error\(s\): run `creditlake"):
        get_settings()


def test_a_message_is_one_line_whatever_the_driver_said() -> None:
    error = SettingsError("the catalog cannot be opened: refused\n  Is the server running?", "fix")
    assert str(error) == "the catalog cannot be opened: refused Is the server running?; fix"
    assert error.line() == f"configuration error: {error}"
