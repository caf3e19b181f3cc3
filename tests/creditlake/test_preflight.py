"""What the settings point at is checked early: folders, key, buckets and catalog, each mistake
one line naming the setting and the fix, within seconds rather than after S3's retries."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest

from creditlake import preflight
from creditlake.settings import SettingsError, get_settings
from tests.aws_env import NO_AWS


def without_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in NO_AWS.items():
        monkeypatch.setenv(name, value)


def test_the_default_configuration_passes(creditlake_home: Path) -> None:
    preflight.check(get_settings())


def test_a_home_that_cannot_be_written_names_the_setting(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a regular file where a folder should be: refused for every user, root included
    blocker = creditlake_home.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("CREDITLAKE_HOME", str(blocker / "home"))
    with pytest.raises(SettingsError) as raised:
        preflight.check(get_settings(), [preflight.FOLDERS])
    assert str(raised.value) == (
        f"CREDITLAKE_HOME: the folder {blocker / 'home'} cannot be written (Not a directory); "
        "point CREDITLAKE_HOME at a folder this user can write to, or make "
        f"{blocker / 'home'} writable"
    )


def test_a_missing_pii_key_says_how_to_make_one(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITLAKE_SECRETS_DIR", str(creditlake_home / "empty"))
    with pytest.raises(SettingsError, match=r"'pii-key' is missing: .*creditlake init-secrets"):
        preflight.check(get_settings(), [preflight.PII_KEY])


def test_s3_without_credentials_fails_at_once(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_aws_credentials(monkeypatch)
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://a-bucket-that-does-not-exist")
    started = time.monotonic()
    with pytest.raises(SettingsError) as raised:
        preflight.check(get_settings(), [preflight.LANDING])
    assert time.monotonic() - started < 5
    assert str(raised.value).startswith(
        "CREDITLAKE_LANDING_URI=s3://a-bucket-that-does-not-exist is on S3 but no AWS "
        "credentials were found; set AWS_ACCESS_KEY_ID"
    )


def test_an_unreachable_endpoint_fails_within_seconds(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "creditlake-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "creditlake-test")
    monkeypatch.setenv("CREDITLAKE_S3_ENDPOINT_URL", "http://127.0.0.1:9")  # discard: closed
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://landing")
    started = time.monotonic()
    with pytest.raises(SettingsError, match=r"^CREDITLAKE_S3_ENDPOINT_URL=http://127\.0\.0\.1:9 "):
        preflight.check(get_settings(), [preflight.LANDING])
    assert time.monotonic() - started < 10


def test_buckets_must_exist_at_the_endpoint(
    creditlake_home: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITLAKE_S3_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://a-bucket-that-does-not-exist/landing")
    with pytest.raises(SettingsError) as raised:
        preflight.check(get_settings(), [preflight.LANDING])
    assert str(raised.value) == (
        "CREDITLAKE_LANDING_URI=s3://a-bucket-that-does-not-exist/landing: the bucket "
        f"'a-bucket-that-does-not-exist' does not exist at CREDITLAKE_S3_ENDPOINT_URL="
        f"{moto_endpoint}; create it (`aws s3 mb s3://a-bucket-that-does-not-exist`) or correct "
        "CREDITLAKE_LANDING_URI"
    )
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="landing-here")
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://landing-here/landing")
    preflight.check(get_settings(), [preflight.LANDING])
    monkeypatch.setenv("CREDITLAKE_CATALOG_WAREHOUSE", "s3://no-lake-bucket/iceberg")
    with pytest.raises(SettingsError, match=r"^CREDITLAKE_CATALOG_WAREHOUSE=s3://no-lake-bucket"):
        preflight.check(get_settings(), [preflight.CATALOG])


def test_a_catalog_database_that_cannot_be_opened_names_the_uri_without_its_password(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CREDITLAKE_CATALOG_URI", "postgresql+psycopg2://lake:hunter2@127.0.0.1:9/lake"
    )
    with pytest.raises(SettingsError) as raised:
        preflight.check(get_settings(), [preflight.CATALOG])
    message = str(raised.value)
    assert message.startswith(
        "the lake catalog cannot be opened "
        "(CREDITLAKE_CATALOG_URI=postgresql+psycopg2://lake:***@127.0.0.1:9/lake)"
    )
    assert message.endswith(
        "start the database or correct CREDITLAKE_CATALOG_URI (unset it for "
        "the embedded SQLite catalog under CREDITLAKE_LAKE_DIR)"
    )
    assert "hunter2" not in message and "\n" not in message


def test_each_check_passes_once_per_process_and_settings(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    preflight.check(settings, [preflight.PII_KEY])
    (creditlake_home / "secrets" / "pii-key").unlink()
    preflight.check(settings, [preflight.PII_KEY])  # passed already: not checked again
    monkeypatch.setenv("CREDITLAKE_SPARK_SHUFFLE_PARTITIONS", "3")  # other settings: checked
    with pytest.raises(SettingsError, match="'pii-key' is missing"):
        preflight.check(get_settings(), [preflight.PII_KEY])
