"""Generation and late delivery work the same when landing is an S3 prefix (moto on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from generator_helpers import PII_KEY
from secret_files import put_pii_key

from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES
from generator import GeneratorConfig, deliver_late, generate


@pytest.fixture
def s3_settings(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    import boto3

    for name, value in {
        "CREDITLAKE_HOME": str(tmp_path / "home"),
        "CREDITLAKE_S3_ENDPOINT_URL": moto_endpoint,
        "CREDITLAKE_LANDING_URI": "s3://landing-bucket/raw",
    }.items():
        monkeypatch.setenv(name, value)
    put_pii_key(tmp_path / "home", PII_KEY)
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="landing-bucket")
    return get_settings()


def _keys(settings: Settings) -> set[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    listing = client.list_objects_v2(Bucket="landing-bucket", Prefix="raw/")
    return {item["Key"] for item in listing.get("Contents", [])}


def test_generate_into_s3_then_deliver_late(s3_settings: Settings) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_settings.s3_endpoint_url)
    client.put_object(
        Bucket="landing-bucket", Key="raw/customers/2030-01-01/customers.csv", Body=b"x"
    )
    client.put_object(Bucket="landing-bucket", Key="raw/elsewhere/keep.txt", Body=b"x")
    config = GeneratorConfig(customers=50, behaviour_events=2_000, days=1, defect_rate=0.01)
    report = generate(config, s3_settings, progress=lambda _: None)
    keys = _keys(s3_settings)
    assert "raw/customers/2030-01-01/customers.csv" not in keys  # the old run's file is gone
    assert "raw/elsewhere/keep.txt" in keys  # not the generator's: left alone
    late = "raw/transactions/2026-01-02/transactions.jsonl"
    assert late not in keys
    assert "raw/transactions/2026-01-01/transactions.jsonl" in keys
    assert f"{late}.ctl.json" not in keys
    assert "raw/transactions/2026-01-01/transactions.jsonl.ctl.json" in keys
    # every source x 2 dates, each a file and its control file, minus the late pair, plus keep.txt
    assert len(keys) == (len(SOURCES) * 2 - 1) * 2 + 1
    assert not (s3_settings.staging_dir / "generator").exists() or not any(
        p.is_file() for p in (s3_settings.staging_dir / "generator").rglob("*")
    )
    held = Path(report.late_files[0]["held_at"])
    body = held.read_bytes()
    assert deliver_late(s3_settings) == [f"s3://landing-bucket/{late}"]
    assert client.get_object(Bucket="landing-bucket", Key=late)["Body"].read() == body
