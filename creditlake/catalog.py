"""The Iceberg catalog that holds the governed tables, chosen by configuration.

One machine: pyiceberg's SQL catalog on a SQLite file under ``CREDITLAKE_HOME`` with the table
files in a local folder. A shared deployment points ``CREDITLAKE_CATALOG_URI`` at PostgreSQL
(``postgresql+psycopg2://...``), or sets ``CREDITLAKE_CATALOG_TYPE=glue`` with an ``s3://``
warehouse: the AWS Glue Data Catalog that ``infra/terraform`` provisions and that EMR and Athena
read natively. Nothing else in the code changes between the three.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from creditlake.settings import Settings, SettingsError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

#: The catalog's name inside pyiceberg (it appears in its logs and in table identifiers).
CATALOG_NAME = "creditlake"


def _s3_properties(settings: Settings) -> dict[str, str]:
    properties = {"s3.region": settings.catalog_region}
    if settings.s3_endpoint_url:
        properties["s3.endpoint"] = settings.s3_endpoint_url
    return properties


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the configured catalog (no secrets: AWS keys come from boto3's
    own chain: the environment, a profile or the instance role)."""
    properties = {"warehouse": settings.catalog_warehouse}
    if settings.catalog_warehouse.startswith("s3://"):
        properties.update(_s3_properties(settings))
    if settings.catalog_type == "glue":
        properties.update({"type": "glue", "glue.region": settings.catalog_region})
        if settings.s3_endpoint_url:
            properties["glue.endpoint"] = settings.s3_endpoint_url
        return properties
    return {**properties, "type": "sql", "uri": settings.catalog_uri}


def shown_uri(uri: str) -> str:
    """A database URI fit for a message: any password replaced by ``***``."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", uri)


def _local_path(uri: str) -> Path | None:
    """The folder or file a ``sqlite:///`` or ``file://`` URI names, None for anything else."""
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).resolve()
    if uri.startswith("file://"):
        return Path(urlparse(uri).path).resolve()
    return None


def is_embedded(settings: Settings) -> bool:
    """Whether the catalog and its table files both live under ``settings.lake_dir`` (the
    default), so that removing that folder removes the lake and nothing else holds any of it."""
    parts = [_local_path(settings.catalog_uri) if settings.catalog_type == "sql" else None]
    parts.append(_local_path(settings.catalog_warehouse))
    return all(part is not None and part.is_relative_to(settings.lake_dir) for part in parts)


def catalog_exists(settings: Settings) -> bool:
    """Whether there is a catalog to read: an embedded SQLite catalog that was never written is
    not opened (opening it would create an empty one)."""
    path = _local_path(settings.catalog_uri) if settings.catalog_type == "sql" else None
    return path is None or path.is_file()


def describe(settings: Settings) -> str:
    """Where the lake is, for a summary or a log line (no password, no key)."""
    if settings.catalog_type == "glue":
        where = f"Glue catalog in {settings.catalog_region}"
    else:
        where = f"SQL catalog {shown_uri(settings.catalog_uri)}"
    return f"{where}, tables in {settings.catalog_warehouse}"


def open_catalog(settings: Settings) -> Catalog:
    """The configured catalog; an error naming the setting if it cannot be opened."""
    from pyiceberg.catalog import load_catalog

    try:
        if settings.catalog_type == "sql" and settings.catalog_uri.startswith("sqlite:///"):
            Path(settings.catalog_uri.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        if settings.catalog_warehouse.startswith("file://"):
            Path(urlparse(settings.catalog_warehouse).path).mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # pyiceberg warns that the SQL catalog is "not recommended for production" use.
            warnings.simplefilter("ignore")
            return load_catalog(CATALOG_NAME, **catalog_properties(settings))
    except Exception as error:  # the driver's own error types vary (sqlalchemy, botocore)
        if settings.catalog_type == "sql":
            where = f"CREDITLAKE_CATALOG_URI={shown_uri(settings.catalog_uri)}"
            fix = (
                "start the database or correct CREDITLAKE_CATALOG_URI (unset it for the "
                "embedded SQLite catalog under CREDITLAKE_LAKE_DIR)"
            )
        else:
            where = f"CREDITLAKE_CATALOG_TYPE=glue in {settings.catalog_region}"
            fix = "check CREDITLAKE_CATALOG_REGION and the AWS credentials (boto3's chain)"
        raise SettingsError(
            f"the lake catalog cannot be opened ({where}): {type(error).__name__}: {error}", fix
        ) from error


logging.getLogger("pyiceberg").setLevel(logging.WARNING)
