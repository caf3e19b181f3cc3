"""The secrets backend: local files (generated, private) and AWS Secrets Manager (moto's server)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from creditlake.secrets import (
    LEGACY_PII_KEY_FILE,
    PII_KEY,
    ensure_pii_key,
    pii_key,
    put_secret,
    read_secret,
    secret,
    secrets_backend,
)
from creditlake.settings import SettingsError, get_settings


def test_local_secrets_are_generated_once_into_private_files(creditlake_home: Path) -> None:
    settings = get_settings()
    first = secret(settings, "airflow/some_key", lambda: "generated-0123456789")
    again = secret(settings, "airflow/some_key", lambda: "a-different-value-0123")
    assert (first, again) == ("generated-0123456789", "generated-0123456789")
    path = settings.secrets_dir / "airflow" / "some_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [("s3cret-value-0123456789", 0o640, "chmod 600"), ("  \n", 0o600, "is empty")],
)
def test_a_readable_or_empty_secret_file_is_refused(
    creditlake_home: Path, content: str, mode: int, message: str
) -> None:
    settings = get_settings()
    put_secret(settings, "users/admin", content)
    (settings.secrets_dir / "users" / "admin").chmod(mode)
    with pytest.raises(SettingsError, match=message):
        read_secret(settings, "users/admin")


def test_put_replaces_a_local_secret_and_read_never_generates(creditlake_home: Path) -> None:
    settings = get_settings()
    with pytest.raises(SettingsError, match=r"'airflow/sql_alchemy_conn' is missing: no file"):
        read_secret(settings, "airflow/sql_alchemy_conn")
    assert not (settings.secrets_dir / "airflow" / "sql_alchemy_conn").exists()
    put_secret(settings, "airflow/sql_alchemy_conn", "postgresql://one")
    put_secret(settings, "airflow/sql_alchemy_conn", "postgresql://two")
    assert read_secret(settings, "airflow/sql_alchemy_conn") == "postgresql://two"
    assert sorted(p.name for p in (settings.secrets_dir / "airflow").iterdir()) == [
        "sql_alchemy_conn"
    ]


def test_a_pii_key_of_old_is_renamed_not_replaced(creditlake_home: Path) -> None:
    settings = get_settings()
    (settings.secrets_dir / PII_KEY).unlink()
    (settings.secrets_dir / LEGACY_PII_KEY_FILE).write_text("a" * 64)
    (settings.secrets_dir / LEGACY_PII_KEY_FILE).chmod(0o600)
    assert ensure_pii_key(settings) is False
    assert pii_key(get_settings()) == b"a" * 64
    (settings.secrets_dir / PII_KEY).unlink()
    assert ensure_pii_key(settings) is True
    assert len(bytes.fromhex(pii_key(get_settings()).decode())) == 32


@pytest.fixture
def aws_settings(moto_endpoint: str, creditlake_home: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings on Secrets Manager (moto's server reached through boto3's own endpoint
    variable), under a prefix of this test's own."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("CREDITLAKE_SECRETS_BACKEND", "aws")
    monkeypatch.setenv("CREDITLAKE_SECRETS_PREFIX", f"creditlake-{creditlake_home.parent.name}")
    return get_settings()


def test_aws_secrets_are_read_under_the_deployments_prefix(aws_settings) -> None:
    import boto3

    client = boto3.client("secretsmanager")
    prefix = aws_settings.secrets_prefix
    client.create_secret(Name=f"{prefix}/pii-key", SecretString="b" * 64 + "\n")
    client.create_secret(Name="someone-else/pii-key", SecretString="c" * 64)
    assert pii_key(aws_settings) == b"b" * 64
    put_secret(aws_settings, "airflow/variables/threshold", "0.25")
    put_secret(aws_settings, "airflow/variables/threshold", "0.30")
    got = client.get_secret_value(SecretId=f"{prefix}/airflow/variables/threshold")
    assert got["SecretString"] == "0.30"
    assert secret(aws_settings, "airflow/variables/threshold") == "0.30"
    assert (
        secrets_backend(aws_settings).where(PII_KEY) == f"{prefix}/pii-key in AWS Secrets Manager"
    )


def test_a_missing_aws_secret_says_how_to_put_it_and_is_never_generated(aws_settings) -> None:
    import boto3

    name = f"{aws_settings.secrets_prefix}/users/admin"
    with pytest.raises(SettingsError) as raised:
        secret(aws_settings, "users/admin")
    assert f"no secret {name} in AWS Secrets Manager" in str(raised.value)
    assert f"aws secretsmanager put-secret-value --secret-id {name}" in str(raised.value)
    with pytest.raises(SettingsError, match="pii-key"):
        ensure_pii_key(aws_settings)
    listed = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert [s["Name"] for s in listed if s["Name"].startswith(aws_settings.secrets_prefix)] == []
    assert not aws_settings.secrets_dir.joinpath("users").exists()


def test_an_empty_aws_secret_is_refused(aws_settings) -> None:
    import boto3

    boto3.client("secretsmanager").create_secret(
        Name=f"{aws_settings.secrets_prefix}/pii-key", SecretString=" "
    )
    with pytest.raises(SettingsError, match="has no value: put it with"):
        _ = pii_key(aws_settings)
