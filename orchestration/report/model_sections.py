"""The model section of the governance site: the registry's inventory, aliases and monitoring.

MLflow keeps only the current holder of an alias, so the history comes from the audit log
(:mod:`ml.alias_log`). Each version's validation report is an artifact of its run; it is copied
into the site next to the page, so the link works when the folder is copied or served elsewhere.
Monitoring comes from the warehouse tables the monitoring DAG writes, read-only.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from creditlake.lake import Lake
    from creditlake.settings import Settings

#: Monitoring tables shown per model (``ml.monitoring_tables.TABLES`` kinds): score stability and
#: maturing performance by month.
MONITORING_KINDS = ("stability", "performance")
#: Version tags shown in the inventory, in this order.
VERSION_TAGS = ("model_family", "oot_auc", "oot_ks", "as_of_date", "gate_decision")


@dataclass(frozen=True)
class VersionRow:
    """One registered version, as the committee reads it."""

    version: str
    tags: dict[str, str]
    aliases: list[str]
    run_id: str
    #: The validation report's path relative to the site's index, or "" when none exists.
    report_href: str


@dataclass(frozen=True)
class MonitoringTable:
    """One monitoring table's rows for one model (columns as the table has them)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model with its versions, alias holders, alias history and monitoring."""

    name: str
    aliases: dict[str, str]
    versions: list[VersionRow]
    history: list[dict[str, Any]]
    history_problems: list[str]
    monitoring: list[MonitoringTable] = field(default_factory=list)
    #: The monitoring trend plot's path relative to the site's index, or "".
    monitoring_plot: str = ""


def _has_artifact(client: MlflowClient, run_id: str, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        return any(info.path == name for info in client.list_artifacts(run_id))
    except (MlflowException, OSError):
        return False


def copy_validation_report(
    client: MlflowClient, run_id: str, model: str, version: str, out_dir: Path
) -> str:
    """Copy a version's validation report into the site; its relative link, or "" if none."""
    from ml.validation_report import REPORT_FILE

    if not run_id or not _has_artifact(client, run_id, REPORT_FILE):
        return ""
    target = out_dir / "models" / model / f"v{version}"
    target.mkdir(parents=True, exist_ok=True)
    (target / "download").mkdir(exist_ok=True)
    downloaded = Path(client.download_artifacts(run_id, REPORT_FILE, str(target / "download")))
    shutil.move(downloaded, target / REPORT_FILE)
    shutil.rmtree(target / "download", ignore_errors=True)
    return (target / REPORT_FILE).relative_to(out_dir).as_posix()


def monitoring_tables(settings: Settings, model: str) -> list[MonitoringTable]:
    """The model's rows of each monitoring table that has any (read-only, month by month)."""
    from ml.monitoring_tables import read_monitoring

    found = []
    for kind in MONITORING_KINDS:
        frame = read_monitoring(settings, kind, model)
        if frame.empty:
            continue
        rows = [[_cell(value) for value in row] for row in frame.itertuples(index=False)]
        found.append(MonitoringTable(kind, [str(c) for c in frame.columns], rows))
    return found


def monitoring_plot(settings: Settings, model: str, out_dir: Path) -> str:
    """Copy the model's monitoring trend plot into the site; its relative link, or ""."""
    plot = settings.reports_dir / "monitoring" / f"{model}.png"
    if not plot.is_file():
        return ""
    target = out_dir / "images" / "monitoring" / f"{model}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(plot, target)
    return target.relative_to(out_dir).as_posix()


def _cell(value: Any) -> Any:
    """Floats at four decimals (enough for PSI, AUC and bad rates); missing values blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return str(value)[:10] if isinstance(value, dt.date) else value


def model_entries(
    client: MlflowClient, lake: Lake, settings: Settings, out_dir: Path
) -> list[ModelEntry]:
    """Every registered model, newest version first, with everything the committee asks of it."""
    from ml import alias_log

    entries = []
    for registered in sorted(client.search_registered_models(), key=lambda m: m.name):
        aliases = {alias: str(v) for alias, v in (registered.aliases or {}).items()}
        holders: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            holders.setdefault(version, []).append(alias)
        versions = []
        found = client.search_model_versions(f"name='{registered.name}'")
        for version in sorted(found, key=lambda v: int(v.version), reverse=True):
            tags = dict(version.tags or {})
            run_id = tags.get("run_id") or version.run_id or ""
            versions.append(
                VersionRow(
                    version=str(version.version),
                    tags={tag: tags.get(tag, "") for tag in VERSION_TAGS},
                    aliases=sorted(holders.get(str(version.version), [])),
                    run_id=run_id,
                    report_href=copy_validation_report(
                        client, run_id, registered.name, str(version.version), out_dir
                    ),
                )
            )
        moves = alias_log.history(lake, registered.name)
        entries.append(
            ModelEntry(
                name=registered.name,
                aliases=dict(sorted(aliases.items())),
                versions=versions,
                history=[move.to_dict() for move in moves],
                history_problems=alias_log.discrepancies(client, registered.name, moves),
                monitoring=monitoring_tables(settings, registered.name),
                monitoring_plot=monitoring_plot(settings, registered.name, out_dir),
            )
        )
    return entries
