"""The landing zone: files exactly as sources delivered them, never modified.

Layout: ``<landing>/<source>/<yyyy-mm-dd>/<file>``. The landing zone is a local folder by default
or an S3 prefix (``s3://bucket/prefix``) read through boto3. Spark reads local files only here (no
``hadoop-aws`` jar can be fetched offline), so :meth:`Landing.fetch` copies an S3 delivery to local
scratch space first; on a cluster with s3a the same job can read the URI directly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from creditlake.settings import Settings, get_settings


class LandingError(RuntimeError):
    """A delivery is missing or unreadable; the message names the file or folder."""


def delivery_key(source: str, as_of_date: dt.date, file_name: str = "") -> str:
    return f"{source}/{as_of_date.isoformat()}/{file_name}".rstrip("/")


@dataclass
class Landing:
    uri: str
    settings: Settings

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Landing:
        settings = settings or get_settings()
        return cls(settings.landing_uri.rstrip("/"), settings)

    # S3 helpers ---------------------------------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    def _bucket_prefix(self) -> tuple[str, str]:
        rest = self.uri[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        return bucket, prefix.strip("/")

    def _s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.settings.s3_endpoint_url)

    def _s3_key(self, key: str) -> str:
        _, prefix = self._bucket_prefix()
        return f"{prefix}/{key}" if prefix else key

    # Public API ---------------------------------------------------------------------------------
    def location(self, source: str, as_of_date: dt.date, file_name: str = "") -> str:
        return f"{self.uri}/{delivery_key(source, as_of_date, file_name)}"

    def exists(self, source: str, as_of_date: dt.date, file_name: str) -> bool:
        key = delivery_key(source, as_of_date, file_name)
        if not self.is_s3:
            return (Path(self.uri) / key).is_file()
        bucket, _ = self._bucket_prefix()
        response = self._s3().list_objects_v2(Bucket=bucket, Prefix=self._s3_key(key), MaxKeys=1)
        return response.get("KeyCount", 0) > 0

    def files(self, source: str, as_of_date: dt.date) -> list[str]:
        """Every file in a delivery folder, by its path relative to the folder, sorted.

        Files in sub-folders are listed as ``sub/name``, so nothing delivered there is hidden.
        """
        folder_key = delivery_key(source, as_of_date)
        if not self.is_s3:
            folder = Path(self.uri) / folder_key
            if not folder.is_dir():
                return []
            return sorted(
                p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
            )
        bucket, _ = self._bucket_prefix()
        prefix = self._s3_key(folder_key) + "/"
        names = []
        for page in (
            self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        ):
            names.extend(
                item["Key"][len(prefix) :]
                for item in page.get("Contents", [])
                if not item["Key"].endswith("/")  # a "folder" marker, not a file
            )
        return sorted(names)

    def fetch(self, source: str, as_of_date: dt.date, file_name: str) -> Path:
        """A local path to the delivered file (downloaded first when the landing zone is S3)."""
        key = delivery_key(source, as_of_date, file_name)
        if not self.exists(source, as_of_date, file_name):
            raise LandingError(
                f"landing file {self.location(source, as_of_date, file_name)} "
                "has not been delivered"
            )
        if not self.is_s3:
            return Path(self.uri) / key
        local = self.settings.staging_dir / "landing" / key
        local.parent.mkdir(parents=True, exist_ok=True)
        bucket, _ = self._bucket_prefix()
        self._s3().download_file(bucket, self._s3_key(key), str(local))
        return local

    def put(self, local_file: Path, source: str, as_of_date: dt.date) -> str:
        """Deliver a file (used by the generator and by tests); returns its landing location."""
        key = delivery_key(source, as_of_date, local_file.name)
        if self.is_s3:
            bucket, _ = self._bucket_prefix()
            self._s3().upload_file(str(local_file), bucket, self._s3_key(key))
        else:
            target = Path(self.uri) / key
            target.parent.mkdir(parents=True, exist_ok=True)
            if local_file.resolve() != target.resolve():
                shutil.copyfile(local_file, target)
        return self.location(source, as_of_date, local_file.name)
