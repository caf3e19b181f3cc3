"""The monitoring tables in the warehouse, and the one transaction that replaces a model's months.

``ml.monitoring_stability`` and ``ml.monitoring_performance`` hold exactly one row per model and
month, ``ml.monitoring_feature_psi`` one per model, month and feature. Each run of a model
replaces, in one DuckDB transaction over the three tables, the rows of the months it measured
and any row left by another version of the model (a displaced champion's months that the new
one does not cover, such as months it has trained on). Running a date twice gives the same
tables, and a reader never sees one table of a run without the others.

Readers (the summary, the trend plots, the governance report) use :func:`read_monitoring` and
:func:`severity_by_model`, on a read-only connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ml.monitoring_rules import OK, SEVERITY_ORDER, worst

if TYPE_CHECKING:
    from creditlake.settings import Settings

SCHEMA = "ml"
STABILITY_TABLE = f"{SCHEMA}.monitoring_stability"
FEATURE_PSI_TABLE = f"{SCHEMA}.monitoring_feature_psi"
PERFORMANCE_TABLE = f"{SCHEMA}.monitoring_performance"
TABLES = {
    "stability": STABILITY_TABLE,
    "feature_psi": FEATURE_PSI_TABLE,
    "performance": PERFORMANCE_TABLE,
}

DDL = {
    STABILITY_TABLE: f"""
create table if not exists {STABILITY_TABLE} (
    model_name varchar not null,
    model_version integer not null,
    month varchar not null,
    rows integer not null,
    psi_score double not null,
    psi_feature_max double,
    worst_feature varchar,
    severity varchar not null,
    as_of_date date not null,
    primary key (model_name, month)
)
""",
    FEATURE_PSI_TABLE: f"""
create table if not exists {FEATURE_PSI_TABLE} (
    model_name varchar not null,
    model_version integer not null,
    month varchar not null,
    feature varchar not null,
    psi double not null,
    severity varchar not null,
    as_of_date date not null,
    primary key (model_name, month, feature)
)
""",
    PERFORMANCE_TABLE: f"""
create table if not exists {PERFORMANCE_TABLE} (
    model_name varchar not null,
    model_version integer not null,
    month varchar not null,
    rows integer not null,
    bads integer not null,
    bad_rate double not null,
    predicted_bad_rate double not null,
    auc double,
    auc_standard_error double,
    reference_auc double,
    severity varchar not null,
    as_of_date date not null,
    primary key (model_name, month)
)
""",
}
COLUMNS = {
    STABILITY_TABLE: (
        "model_name",
        "model_version",
        "month",
        "rows",
        "psi_score",
        "psi_feature_max",
        "worst_feature",
        "severity",
        "as_of_date",
    ),
    FEATURE_PSI_TABLE: (
        "model_name",
        "model_version",
        "month",
        "feature",
        "psi",
        "severity",
        "as_of_date",
    ),
    PERFORMANCE_TABLE: (
        "model_name",
        "model_version",
        "month",
        "rows",
        "bads",
        "bad_rate",
        "predicted_bad_rate",
        "auc",
        "auc_standard_error",
        "reference_auc",
        "severity",
        "as_of_date",
    ),
}
#: Stored precision: a reader can use four decimals of a PSI or an AUC (and six of a rate); more
#: digits are noise that prints as long digit runs.
DECIMALS = {
    "psi_score": 4,
    "psi_feature_max": 4,
    "psi": 4,
    "auc": 4,
    "auc_standard_error": 4,
    "reference_auc": 4,
}
RATE_DECIMALS = 6


@dataclass
class MonitorResult:
    """One model's monitoring as of a date: its months' rows and their worst severities."""

    model_name: str
    model_version: int | None
    as_of_date: str
    stability: pd.DataFrame = field(repr=False)
    feature_psi: pd.DataFrame = field(repr=False)
    performance: pd.DataFrame = field(repr=False)
    plot: str | None = None

    @property
    def severity(self) -> str:
        return worst([*self.stability["severity"].tolist(), *self.performance["severity"].tolist()])

    def findings(self) -> list[str]:
        """One line per month that is not ok, worst first, for the task log."""
        lines = []
        for row in self.stability.itertuples():
            if row.severity != OK:
                lines.append(
                    (
                        row.severity,
                        f"{row.month}: score PSI {row.psi_score:.3f}, largest feature PSI "
                        f"{row.worst_feature} {row.psi_feature_max:.3f} ({row.severity})",
                    )
                )
        for row in self.performance.itertuples():
            if row.severity != OK:
                lines.append(
                    (
                        row.severity,
                        f"{row.month}: AUC {row.auc:.3f} (standard error "
                        f"{row.auc_standard_error:.3f}) against the out-of-time "
                        f"{row.reference_auc:.3f} on {row.rows} rows, {row.bads} bads "
                        f"({row.severity})",
                    )
                )
        lines.sort(key=lambda item: -SEVERITY_ORDER.index(item[0]))
        return [f"{self.model_name} v{self.model_version} {text}" for _, text in lines]

    def to_dict(self) -> dict[str, Any]:
        """What the Airflow task returns (XCom): counts and severities, no row-level data."""
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "as_of_date": self.as_of_date,
            "stability_months": self.stability["month"].tolist(),
            "performance_months": self.performance["month"].tolist(),
            "severity": self.severity,
            "findings": self.findings(),
            "plot": self.plot,
        }


def _rows_of(result: MonitorResult, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the model, version and date columns, rounded, in the table's order."""
    rows = frame.assign(
        model_name=result.model_name,
        model_version=result.model_version,
        as_of_date=dt.date.fromisoformat(result.as_of_date),
    )
    for column in rows.columns:
        if column in DECIMALS:
            rows[column] = rows[column].astype("float64").round(DECIMALS[column])
        elif column.endswith("_rate"):
            rows[column] = rows[column].astype("float64").round(RATE_DECIMALS)
    return rows[list(COLUMNS[table])]


def write_monitoring(warehouse_path: Path, result: MonitorResult) -> None:
    """Replace ``result``'s months (and other versions' rows) of its model, in one transaction."""
    from ml.score import TableRows, replace_rows

    frames = {
        STABILITY_TABLE: result.stability,
        FEATURE_PSI_TABLE: result.feature_psi,
        PERFORMANCE_TABLE: result.performance,
    }
    months = sorted(set(result.stability["month"]) | set(result.performance["month"]))
    where = "model_name = ? and (model_version <> ? or month in (select unnest(?::varchar[])))"
    params = [result.model_name, result.model_version, months]
    writes = [
        TableRows(table, DDL[table], where, params, COLUMNS[table], _rows_of(result, table, frame))
        for table, frame in frames.items()
    ]
    replace_rows(warehouse_path, SCHEMA, writes)


def _connect_read_only(settings: Settings) -> Any | None:
    import duckdb

    if not settings.warehouse_path.is_file():
        return None
    return duckdb.connect(str(settings.warehouse_path), read_only=True)


def _exists(con: Any, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def read_monitoring(settings: Settings, kind: str, model: str | None = None) -> pd.DataFrame:
    """The rows of one monitoring table (``kind`` of :data:`TABLES`), of one model or all, by
    model and month; empty when the table does not exist yet."""
    table = TABLES[kind]
    con = _connect_read_only(settings)
    if con is None:
        return pd.DataFrame(columns=list(COLUMNS[table]))
    try:
        if not _exists(con, table):
            return pd.DataFrame(columns=list(COLUMNS[table]))
        where, params = ("where model_name = ?", [model]) if model else ("", [])
        return con.execute(f"select * from {table} {where} order by model_name, month", params).df()
    finally:
        con.close()


def severity_by_model(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per model: version, as-of date, months monitored and the worst severity of stability and
    of performance, with the months that have it (for the console summary and the report)."""

    found: dict[str, dict[str, Any]] = {}
    for kind in ("stability", "performance"):
        frame = read_monitoring(settings, kind)
        for model, rows in frame.groupby("model_name", sort=True):
            severity = worst(rows["severity"])
            entry = found.setdefault(
                str(model),
                {
                    "model_version": int(rows["model_version"].max()),
                    "as_of_date": str(rows["as_of_date"].max())[:10],
                },
            )
            entry[kind] = {
                "months": len(rows),
                "severity": severity,
                "months_at_severity": (
                    rows.loc[rows["severity"] == severity, "month"].tolist()
                    if severity != OK
                    else []
                ),
            }
    for entry in found.values():
        entry["severity"] = worst(
            entry[kind]["severity"] for kind in ("stability", "performance") if kind in entry
        )
    return found
