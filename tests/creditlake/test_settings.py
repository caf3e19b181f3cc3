"""Settings: defaults follow CREDITLAKE_HOME, and bad configuration names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_files import TEST_PII_KEY, put_pii_key

from creditlake.secrets import LocalSecrets, pii_key
from creditlake.settings import SettingsError, get_settings


def test_locations_follow_the_home(creditlake_home: Path) -> None:
    settings = get_settings()
    assert settings.home == creditlake_home.resolve()
    lake = creditlake_home.resolve() / "lake"
    assert settings.catalog_uri == f"sqlite:///{lake / 'catalog.db'}"
    assert settings.catalog_warehouse == (lake / "iceberg").as_uri()
    assert settings.mlflow_tracking_uri.startswith("sqlite:///")
    assert str(creditlake_home.resolve()) in settings.mlflow_tracking_uri


def test_pii_key_comes_from_the_secrets_backend_never_the_environment(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITLAKE_PII_KEY", "e" * 64)  # the variable of old: ignored now
    assert pii_key(get_settings()) == TEST_PII_KEY.encode()
    (creditlake_home / "secrets" / "pii-key").unlink()
    with pytest.raises(SettingsError, match=r"'pii-key' is missing: no file .*secrets/pii-key"):
        _ = pii_key(get_settings())
    elsewhere = creditlake_home / "vault"
    LocalSecrets(elsewhere).put("pii-key", "f" * 64)
    monkeypatch.setenv("CREDITLAKE_SECRETS_DIR", str(elsewhere))
    assert pii_key(get_settings()) == b"f" * 64


def test_short_keys_are_refused(creditlake_home: Path) -> None:
    put_pii_key(creditlake_home, "short")
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        _ = pii_key(get_settings())


def test_secrets_backend_and_prefix_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert (settings.secrets_backend, settings.secrets_prefix) == ("local", "creditlake")
    monkeypatch.setenv("CREDITLAKE_SECRETS_BACKEND", "aws")
    monkeypatch.setenv("CREDITLAKE_SECRETS_PREFIX", "creditlake-prod/")
    settings = get_settings()
    assert (settings.secrets_backend, settings.secrets_prefix) == ("aws", "creditlake-prod")
    monkeypatch.setenv("CREDITLAKE_SECRETS_BACKEND", "vault")
    with pytest.raises(SettingsError, match="CREDITLAKE_SECRETS_BACKEND='vault' is not one of"):
        get_settings()


def test_bad_numbers_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITLAKE_APR_CAP", "24%")
    with pytest.raises(SettingsError, match="CREDITLAKE_APR_CAP"):
        get_settings()


def test_catalog_type_must_be_known(creditlake_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITLAKE_CATALOG_TYPE", "hive")
    with pytest.raises(
        SettingsError, match="CREDITLAKE_CATALOG_TYPE='hive' is not one of sql, glue"
    ):
        get_settings()


def test_the_dbt_target_is_duckdb_unless_set_and_must_be_a_profile_target(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.dbt import dbt_env

    settings = get_settings()
    assert settings.dbt_target == "dev"
    monkeypatch.setenv("CREDITLAKE_DBT_TARGET", "spark")
    monkeypatch.setenv("CREDITLAKE_SPARK_THRIFT_HOST", "10.0.0.7")
    monkeypatch.setenv("CREDITLAKE_SPARK_THRIFT_PORT", "10001")
    env = dbt_env(get_settings())
    assert (env["CREDITLAKE_SPARK_THRIFT_HOST"], env["CREDITLAKE_SPARK_THRIFT_PORT"]) == (
        "10.0.0.7",
        "10001",
    )
    monkeypatch.setenv("CREDITLAKE_DBT_TARGET", "bigquery")
    with pytest.raises(
        SettingsError, match="CREDITLAKE_DBT_TARGET='bigquery' is not one of dev, spark"
    ):
        get_settings()


def test_ingest_gate_settings_have_defaults_and_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = get_settings()
    assert (settings.max_quarantine_rate, settings.require_control_file) == (0.05, False)
    monkeypatch.setenv("CREDITLAKE_MAX_QUARANTINE_RATE", "0.2")
    monkeypatch.setenv("CREDITLAKE_REQUIRE_CONTROL_FILE", "yes")
    settings = get_settings()
    assert (settings.max_quarantine_rate, settings.require_control_file) == (0.2, True)
    monkeypatch.setenv("CREDITLAKE_MAX_QUARANTINE_RATE", "5")
    with pytest.raises(SettingsError, match="CREDITLAKE_MAX_QUARANTINE_RATE='5' is out of range"):
        get_settings()
    monkeypatch.setenv("CREDITLAKE_MAX_QUARANTINE_RATE", "0.05")
    monkeypatch.setenv("CREDITLAKE_REQUIRE_CONTROL_FILE", "sometimes")
    with pytest.raises(SettingsError, match="CREDITLAKE_REQUIRE_CONTROL_FILE='sometimes'"):
        get_settings()


def test_the_stack_lives_in_the_home_on_its_own_ports(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    home = creditlake_home.resolve()
    assert (settings.stack_dir, settings.secrets_dir) == (home / "stack", home / "secrets")
    ports = (
        settings.stack_postgres_port,
        settings.stack_airflow_port,
        settings.stack_mlflow_port,
        settings.stack_reports_port,
    )
    assert ports == (5433, 8080, 5000, 8081)
    monkeypatch.setenv("CREDITLAKE_STACK_MLFLOW_PORT", "15000")
    assert get_settings().stack_mlflow_port == 15000
    monkeypatch.setenv("CREDITLAKE_STACK_AIRFLOW_PORT", "http")
    with pytest.raises(SettingsError, match="CREDITLAKE_STACK_AIRFLOW_PORT"):
        get_settings()
