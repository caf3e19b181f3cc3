"""The landing zone works the same on a local folder and on S3 (a moto server on loopback)."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditlake.landing import Landing, LandingError
from creditlake.settings import get_settings

DAY = dt.date(2026, 1, 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_landing(creditlake_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Landing]:
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        endpoint = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("CREDITLAKE_S3_ENDPOINT_URL", endpoint)
        # moto keeps buckets per process, and other tests use S3 too: a bucket of our own.
        bucket = f"landing-{uuid.uuid4().hex[:12]}"
        monkeypatch.setenv("CREDITLAKE_LANDING_URI", f"s3://{bucket}/raw")
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        yield Landing.from_settings(get_settings())
    finally:
        server.stop()


@pytest.fixture
def local_landing(creditlake_home: Path) -> Landing:
    return Landing.from_settings(get_settings())


@pytest.mark.parametrize("landing_fixture", ["local_landing", "s3_landing"])
def test_put_exists_fetch(
    landing_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    landing: Landing = request.getfixturevalue(landing_fixture)
    delivered = tmp_path / "customers.csv"
    delivered.write_text("customer_id\nC1\n")
    assert not landing.exists("customers", DAY, "customers.csv")
    with pytest.raises(LandingError, match=r"customers/2026-01-02/customers.csv"):
        landing.fetch("customers", DAY, "customers.csv")

    location = landing.put(delivered, "customers", DAY)
    assert location.endswith("customers/2026-01-02/customers.csv")
    assert landing.exists("customers", DAY, "customers.csv")
    assert landing.fetch("customers", DAY, "customers.csv").read_text() == "customer_id\nC1\n"
    assert not landing.exists("customers", DAY + dt.timedelta(days=1), "customers.csv")


def test_s3_objects_live_under_the_prefix(s3_landing: Landing, tmp_path: Path) -> None:
    import boto3

    delivered = tmp_path / "loans.csv"
    delivered.write_text("loan_id\n")
    s3_landing.put(delivered, "loans", DAY)
    client = boto3.client("s3", endpoint_url=s3_landing.settings.s3_endpoint_url)
    bucket = s3_landing.uri.removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["raw/loans/2026-01-02/loans.csv"]


@pytest.mark.parametrize("landing_fixture", ["local_landing", "s3_landing"])
def test_files_lists_everything_in_a_delivery_folder(
    landing_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    landing: Landing = request.getfixturevalue(landing_fixture)
    assert landing.files("loans", DAY) == []
    for name in ("loans.csv", "loans.csv.ctl.json", "loans_v2.csv"):
        (tmp_path / name).write_text("x")
        landing.put(tmp_path / name, "loans", DAY)
    (tmp_path / "other.csv").write_text("x")
    landing.put(tmp_path / "other.csv", "loans", DAY + dt.timedelta(days=1))
    assert landing.files("loans", DAY) == ["loans.csv", "loans.csv.ctl.json", "loans_v2.csv"]
