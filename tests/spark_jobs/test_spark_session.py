"""The SparkSession factory: settings decide master, memory and shuffles; a session is reused."""

from __future__ import annotations

from pathlib import Path

import pytest
from secret_files import put_pii_key
from spark_job_helpers import PII_KEY

from creditlake.settings import get_settings
from creditlake.spark import get_spark, launch_configs, session_configs


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str):
    monkeypatch.setenv("CREDITLAKE_HOME", str(tmp_path))
    put_pii_key(tmp_path, PII_KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return get_settings()


def test_configs_come_from_settings(monkeypatch, tmp_path):
    settings = _settings(
        monkeypatch,
        tmp_path,
        CREDITLAKE_SPARK_DRIVER_MEMORY="3g",
        CREDITLAKE_SPARK_SHUFFLE_PARTITIONS="7",
    )
    assert launch_configs(settings)["spark.driver.memory"] == "3g"
    assert launch_configs(settings)["spark.ui.enabled"] == "false"
    assert launch_configs(settings)["spark.log.level"] == "WARN"
    assert session_configs(settings)["spark.sql.shuffle.partitions"] == "7"
    assert session_configs(settings)["spark.sql.session.timeZone"] == "UTC"


def test_the_active_session_is_reused_and_given_the_runtime_settings(spark, monkeypatch, tmp_path):
    settings = _settings(monkeypatch, tmp_path, CREDITLAKE_SPARK_SHUFFLE_PARTITIONS="3")
    before = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        session = get_spark("another-job", settings)
        assert session is spark
        assert session.conf.get("spark.sql.shuffle.partitions") == "3"
        assert session.conf.get("spark.sql.session.timeZone") == "UTC"
        assert session.conf.get("spark.sql.parquet.outputTimestampType") == "TIMESTAMP_MICROS"
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


def test_timestamp_text_means_utc(spark):
    [row] = spark.sql(
        "select unix_timestamp(cast('2026-01-01 08:00:00' as timestamp)) as seconds"
    ).collect()
    assert row["seconds"] == 1767254400  # 2026-01-01T08:00:00Z
