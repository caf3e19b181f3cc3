"""Checks of what the settings point at, made once per process before any work starts.

:mod:`creditlake.settings` checks that each value is well formed; this module checks that what
the values name is usable: the folders can be written, the PII key is there, the landing zone's
and the lake's S3 buckets answer, the catalog opens. A mistake found here is a
:class:`~creditlake.settings.SettingsError` (one line: the setting, what is wrong, how to fix
it) raised at the start of a CLI command, a job or an Airflow task, instead of a driver's
traceback (or half a minute of S3 retries) in the middle of one.

Each check passes once per process and per settings: ``airflow dags test`` runs every task in
one process and pays for it once; a scheduler's task process pays for it once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from creditlake.settings import Settings, SettingsError

JAVA = "java"
FOLDERS = "folders"
PII_KEY = "pii-key"
LANDING = "landing"
CATALOG = "catalog"
#: Everything a job that ingests needs; other entry points name a subset.
EVERYTHING = (FOLDERS, PII_KEY, LANDING, CATALOG)

#: Spark 4 runs on Java 17 or later.
MIN_JAVA = 17
#: S3 must answer within seconds: a wrong endpoint is a configuration mistake, not a slow network.
S3_CONNECT_TIMEOUT_SECONDS = 3
S3_READ_TIMEOUT_SECONDS = 5

_passed: set[tuple[Settings, str]] = set()


def check(settings: Settings, needs: Iterable[str] = EVERYTHING) -> None:
    """Raise the first configuration mistake among ``needs``; each check passes once."""
    for need in needs:
        if (settings, need) in _passed:
            continue
        CHECKS[need](settings)
        _passed.add((settings, need))


def writable_folders(settings: Settings) -> list[tuple[str, Path]]:
    """The folders creditlake writes to, each with the setting that places it."""
    return [
        ("CREDITLAKE_HOME", settings.home),
        ("CREDITLAKE_LAKE_DIR", settings.lake_dir),
        ("CREDITLAKE_WAREHOUSE_PATH", settings.warehouse_path.parent),
    ]


def check_writable(setting: str, folder: Path) -> None:
    """Create ``folder`` if needed and write a file in it, as the job will."""
    probe = folder / f".creditlake-write-check-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SettingsError(
            f"{setting}: the folder {folder} cannot be written ({reason})",
            f"point {setting} at a folder this user can write to, or make {folder} writable",
        ) from None


def java() -> str:
    """The Java that Spark will start: found, and recent enough; a description of it."""
    path = shutil.which("java")
    if path is None:
        raise SettingsError(
            "Java was not found (Spark needs Java 17 or later)",
            "install it with `sudo apt-get install -y openjdk-17-jre-headless` (or set JAVA_HOME)",
        )
    shown = subprocess.run(
        [path, "-version"], capture_output=True, text=True, timeout=30, check=False
    ).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):  # "1.8.0": Java 8
        major = int(found.group(2))
    if major < MIN_JAVA:
        raise SettingsError(
            f"{path} is Java {major or 'of unknown version'}; Spark needs Java {MIN_JAVA} or later",
            "install openjdk-17-jre-headless and put it first on PATH (or set JAVA_HOME)",
        )
    return f"Java {major} at {path}"


def check_java(settings: Settings) -> None:
    java()


def check_folders(settings: Settings) -> None:
    for setting, folder in writable_folders(settings):
        check_writable(setting, folder)


def check_pii_key(settings: Settings) -> None:
    from creditlake.secrets import pii_key

    pii_key(settings)


def check_bucket(settings: Settings, setting: str, uri: str) -> None:
    """The bucket of ``uri`` exists and answers with these credentials, within seconds."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    bucket = uri.removeprefix("s3://").partition("/")[0]
    endpoint = settings.s3_endpoint_url
    local_s3 = "; for a local S3 (MinIO, moto) set CREDITLAKE_S3_ENDPOINT_URL too"
    no_credentials = SettingsError(
        f"{setting}={uri} is on S3 but no AWS credentials were found",
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role"
        + ("" if endpoint else local_s3),
    )
    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise no_credentials
    config = Config(
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        retries={"max_attempts": 1, "mode": "standard"},
    )
    try:
        client = session.client(
            "s3", endpoint_url=endpoint, region_name=settings.catalog_region, config=config
        )
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        raise no_credentials from None
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise SettingsError(
                f"{setting}={uri}: the bucket {bucket!r} does not exist"
                + (f" at CREDITLAKE_S3_ENDPOINT_URL={endpoint}" if endpoint else ""),
                f"create it (`aws s3 mb s3://{bucket}`) or correct {setting}",
            ) from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise SettingsError(
                f"{setting}={uri}: access to the bucket {bucket!r} was denied ({code})",
                "use credentials that may list the bucket (s3:ListBucket)",
            ) from None
        raise SettingsError(
            f"{setting}={uri}: S3 answered {code or 'an error'} for the bucket {bucket!r}",
            f"check {setting}, CREDITLAKE_CATALOG_REGION and CREDITLAKE_S3_ENDPOINT_URL",
        ) from None
    except (BotoCoreError, ValueError) as error:  # unreachable endpoint, timeout, bad URL
        if endpoint:
            raise SettingsError(
                f"CREDITLAKE_S3_ENDPOINT_URL={endpoint} cannot be reached ({type(error).__name__})",
                "start the S3 service or correct the URL (unset it for AWS S3)",
            ) from None
        raise SettingsError(
            f"{setting}={uri}: S3 cannot be reached ({type(error).__name__})",
            "check the network and the AWS region" + local_s3,
        ) from None


def check_landing(settings: Settings) -> None:
    """An S3 landing zone's bucket answers; a local one, where it exists, can be read (the jobs
    only read it: sources, or the generator, write it)."""
    if settings.landing_is_s3:
        check_bucket(settings, "CREDITLAKE_LANDING_URI", settings.landing_uri)
        return
    folder = Path(settings.landing_uri)
    if folder.exists() and not (folder.is_dir() and os.access(folder, os.R_OK | os.X_OK)):
        raise SettingsError(
            f"CREDITLAKE_LANDING_URI={folder} is not a folder that can be read",
            "point it at the landing folder (or an s3:// prefix)",
        )


def check_catalog(settings: Settings) -> None:
    """The lake's warehouse bucket answers and its catalog opens.

    An embedded SQLite catalog that was never written is not opened (opening it creates an empty
    one, which readers would then take for a lake): its folder was checked with the others.
    """
    from creditlake import catalog

    if settings.catalog_warehouse.startswith("s3://"):
        check_bucket(settings, "CREDITLAKE_CATALOG_WAREHOUSE", settings.catalog_warehouse)
    if not catalog.catalog_exists(settings):
        return
    opened = catalog.open_catalog(settings)
    try:
        opened.list_namespaces()
    except Exception as error:  # the driver's own error types vary (sqlalchemy, botocore)
        raise SettingsError(
            f"the lake catalog ({catalog.describe(settings)}) cannot be read: "
            f"{type(error).__name__}: {error}",
            "check CREDITLAKE_CATALOG_URI (or CREDITLAKE_CATALOG_TYPE and its region)",
        ) from None


CHECKS: dict[str, Callable[[Settings], None]] = {
    JAVA: check_java,
    FOLDERS: check_folders,
    PII_KEY: check_pii_key,
    LANDING: check_landing,
    CATALOG: check_catalog,
}
