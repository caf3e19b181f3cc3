"""Objects under an ``s3://`` prefix, listed and copied through boto3.

The lake's warehouse may be an S3 prefix (``CREDITLAKE_CATALOG_WAREHOUSE=s3://...``). Readers that
have no S3 client of their own here (DuckDB without ``httpfs``, classic Spark without
``hadoop-aws``) work on local copies. Credentials come from boto3's own chain (environment,
profile, instance role), never from settings; the endpoint is ``CREDITLAKE_S3_ENDPOINT_URL`` when
set (a local S3 such as moto or MinIO).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from creditlake.settings import Settings


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → ``("bucket", "some/prefix")``."""
    if not is_s3(uri):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint and region."""
    import boto3

    return boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.catalog_region
    )


def list_keys(settings: Settings, uri: str) -> Iterator[str]:
    """Every object key under the prefix ``uri``."""
    bucket, prefix = split_uri(uri)
    paginator = client(settings).get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            yield item["Key"]


def download_prefix(settings: Settings, uri: str, target: Path) -> dict[Path, str]:
    """Copy every object under ``uri`` into ``target``, keeping the key layout below the prefix.

    Returns ``{local path: s3 URI}`` so that a finding about a copy can name the object.
    """
    bucket, prefix = split_uri(uri)
    s3 = client(settings)
    copied: dict[Path, str] = {}
    for key in list_keys(settings, uri):
        if key.endswith("/"):
            continue  # an empty "folder" marker, as S3 clients such as Arrow's leave
        relative = key[len(prefix) :].lstrip("/") if prefix else key
        local = target / relative
        local.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(local))
        copied[local] = f"s3://{bucket}/{key}"
    return copied
