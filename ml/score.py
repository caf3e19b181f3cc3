"""Daily batch scoring and decisions for the applications of a day.

For an as-of date D (the Airflow run's logical date), :func:`main` loads the champion of every
application model (``models:/credit_pd@champion``, required, and ``models:/fraud@champion`` when
there is one), reads the applications received on D from ``marts.fct_application_features``,
scores them with each, decides each application with the strategy of :mod:`ml.decisions`, and
replaces the rows of D in ``ml.application_scores`` and ``ml.application_decisions`` in one DuckDB
transaction (delete, then insert). Running a day twice gives the same tables; a day without
applications writes nothing.

Models are loaded through MLflow's ``pyfunc`` interface, so whichever family is champion the
output is the same (``pd``, ``score`` on one points scale, and the top adverse factors as
``reasons``), and each row records the model version that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from mlflow.exceptions import MlflowException

from creditlake.lake import parse_date
from creditlake.settings import DBT_MANIFEST_PATH, Settings, get_settings
from ml.decisions import DECISION_COLUMNS, column_descriptions, decide, decision_counts
from ml.names import CHAMPION, FEATURES_TABLE, MODELS, REGISTERED_MODEL
from ml.serving import conform_to_schema
from ml.tracking import configure_mlflow

#: Stored precision: what a decision or a monitoring report can use. More digits are model noise
#: (and print as long digit runs that the PII scanner would mistake for card or ID numbers).
PD_DECIMALS = 6
SCORE_DECIMALS = 2
SCORES_SCHEMA = "ml"
SCORES_TABLE = f"{SCORES_SCHEMA}.application_scores"
SCORES_DDL = f"""
create table if not exists {SCORES_TABLE} (
    application_id varchar not null,
    score double not null,
    pd double not null,
    model_name varchar not null,
    model_version integer not null,
    reasons varchar,
    scored_date date not null
)
"""
DECISIONS_TABLE = f"{SCORES_SCHEMA}.application_decisions"
DECISIONS_DDL = f"""
create table if not exists {DECISIONS_TABLE} (
    application_id varchar not null,
    decision varchar not null,
    credit_limit_cny decimal(12, 2),
    apr decimal(6, 4),
    credit_pd double not null,
    fraud_pd double,
    reason_codes varchar[] not null,
    adverse_factors varchar[] not null,
    reason_text varchar not null,
    credit_model_version integer not null,
    fraud_model_version integer,
    strategy_version varchar not null,
    decided_date date not null
)
"""


class NoChampionError(RuntimeError):
    """No model version holds the alias ``champion`` yet."""


class ScoringDataError(ValueError):
    """The features table cannot be scored; the message names the table and the problem."""


@dataclass
class ScoreResult:
    scored_date: str
    rows: int
    model_name: str
    model_version: str
    table: str
    #: Every model that scored, by name, with its version; and the day's decisions by outcome.
    models: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    decisions_table: str = DECISIONS_TABLE

    def to_dict(self) -> dict:
        return asdict(self)


def load_champion(settings: Settings, name: str = REGISTERED_MODEL):
    """A champion's pyfunc model and its version number, or a clear :class:`NoChampionError`."""
    import mlflow

    client = configure_mlflow(settings)
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        raise NoChampionError(
            f"registered model {name!r} has no version with alias {CHAMPION!r} in "
            f"{settings.mlflow_tracking_uri}: run the ml__train_{name} DAG first (a model "
            "becomes champion only when it passes the gate in ml/gate.py)"
        ) from None
    model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    return model, str(version.version)


def load_champions(settings: Settings) -> dict[str, tuple]:
    """Every application model's champion: ``credit_pd`` is required, the others optional.

    An application model is one that scores ``marts.fct_application_features`` (its target's
    ``features_table``).

    Decisions cannot be made without a PD; without a fraud champion they refer every
    application (:mod:`ml.decisions`) rather than fail the day.
    """
    champions = {REGISTERED_MODEL: load_champion(settings, REGISTERED_MODEL)}
    for name, target in MODELS.items():
        # only the models of applications: the collections model scores entries, not these rows
        if name not in champions and target.features_table == FEATURES_TABLE:
            try:
                champions[name] = load_champion(settings, name)
            except NoChampionError:
                continue
    return champions


def _application_date_expression(columns: list[str]) -> str:
    if "applied_date" in columns:
        return "applied_date"
    if "applied_at" in columns:
        return "cast(applied_at as date)"
    raise ScoringDataError(f"{FEATURES_TABLE} has neither applied_date nor applied_at")


def read_applications(warehouse_path: Path, as_of_date: dt.date) -> tuple[pd.DataFrame, bool]:
    """The day's feature rows, and whether ``ml.application_scores`` already holds that day's rows.

    Read-only: DuckDB allows one writer, and most days the write connection is then opened only
    for the insert.
    """
    import duckdb

    if not warehouse_path.is_file():
        raise ScoringDataError(f"warehouse {warehouse_path} does not exist")
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        if FEATURES_TABLE not in tables:
            raise ScoringDataError(f"table {FEATURES_TABLE} does not exist in {warehouse_path}")
        columns = [row[0] for row in con.execute(f"describe {FEATURES_TABLE}").fetchall()]
        if "application_id" not in columns:
            raise ScoringDataError(f"{FEATURES_TABLE} has no application_id column")
        day_expression = _application_date_expression(columns)
        frame = con.execute(
            f"select * from {FEATURES_TABLE} where {day_expression} = ? order by application_id",
            [as_of_date],
        ).df()
        has_rows = SCORES_TABLE in tables and bool(
            con.execute(
                f"select count(*) from {SCORES_TABLE} where scored_date = ?", [as_of_date]
            ).fetchall()[0][0]
        )
    finally:
        con.close()
    return frame, has_rows


class DayRows(NamedTuple):
    """One table's rows of a day: what :func:`replace_day` writes in place of the old ones."""

    table: str
    ddl: str
    date_column: str
    columns: Sequence[str]
    frame: pd.DataFrame


class TableRows(NamedTuple):
    """One table's new rows and which old rows they replace (``where`` with its ``params``)."""

    table: str
    ddl: str
    where: str
    params: list
    columns: Sequence[str]
    frame: pd.DataFrame


def replace_rows(warehouse_path: Path, schema: str, writes: Sequence[TableRows]) -> None:
    """Delete each table's ``where`` rows and insert its frame, all in one DuckDB transaction,
    so a reader sees every table old or every table new, never a mix."""
    import duckdb

    con = duckdb.connect(str(warehouse_path))
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {schema}")
        for rows in writes:
            con.execute(rows.ddl)
            con.execute(f"delete from {rows.table} where {rows.where}", rows.params)
            if len(rows.frame):
                con.register("new_rows", rows.frame)
                con.execute(
                    f"insert into {rows.table} select {', '.join(rows.columns)} from new_rows"
                )
                con.unregister("new_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.close()


def replace_day(warehouse_path: Path, day: dt.date, writes: Sequence[DayRows]) -> None:
    """Replace each table's rows of ``day`` by its frame, all in one DuckDB transaction.

    Deleting by the day, not by the new rows' keys, means a day that shrank leaves nothing
    stale.
    """
    by_day = [
        TableRows(w.table, w.ddl, f"{w.date_column} = ?", [day], w.columns, w.frame) for w in writes
    ]
    replace_rows(warehouse_path, SCORES_SCHEMA, by_day)


SCORE_COLUMNS = (
    "application_id",
    "score",
    "pd",
    "model_name",
    "model_version",
    "reasons",
    "scored_date",
)


def write_scores(
    warehouse_path: Path, scores: pd.DataFrame, decisions: pd.DataFrame, as_of_date: dt.date
) -> None:
    """Replace the rows of ``as_of_date`` in the scores and decisions tables, atomically."""
    replace_day(
        warehouse_path,
        as_of_date,
        [
            DayRows(SCORES_TABLE, SCORES_DDL, "scored_date", SCORE_COLUMNS, scores),
            DayRows(DECISIONS_TABLE, DECISIONS_DDL, "decided_date", DECISION_COLUMNS, decisions),
        ],
    )


def score_frame(
    model,
    version: str,
    applications: pd.DataFrame,
    as_of_date: dt.date,
    name: str = REGISTERED_MODEL,
) -> pd.DataFrame:
    """The rows of ``ml.application_scores`` for one day's applications and one model.

    A champion logged before models gave reasons has no ``reasons`` output: its rows have none.
    """
    if applications.empty:
        return pd.DataFrame(
            {
                "application_id": pd.Series(dtype="str"),
                "score": pd.Series(dtype="float64"),
                "pd": pd.Series(dtype="float64"),
                "model_name": pd.Series(dtype="str"),
                "model_version": pd.Series(dtype="int64"),
                "reasons": pd.Series(dtype="str"),
                "scored_date": pd.Series(dtype="datetime64[s]"),
            }
        )
    inputs = conform_to_schema(applications, model.metadata.get_input_schema())
    predictions = model.predict(inputs)
    return pd.DataFrame(
        {
            "application_id": applications["application_id"].astype("str").to_numpy(),
            "score": predictions["score"].to_numpy(dtype=float).round(SCORE_DECIMALS),
            "pd": predictions["pd"].to_numpy(dtype=float).round(PD_DECIMALS),
            "model_name": name,
            "model_version": int(version),
            "reasons": (
                predictions["reasons"].astype("str").to_numpy()
                if "reasons" in predictions.columns
                else None
            ),
            "scored_date": as_of_date,
        }
    )


def main(as_of_date: str | dt.date, settings: Settings | None = None) -> ScoreResult:
    """Score and decide the applications of ``as_of_date``; replace that day's rows."""
    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    champions = load_champions(settings)
    applications, has_rows = read_applications(settings.warehouse_path, as_of_date)
    scores = pd.concat(
        [
            score_frame(model, version, applications, as_of_date, name)
            for name, (model, version) in champions.items()
        ],
        ignore_index=True,
    )
    decisions = decide(
        applications,
        scores,
        settings.policy,
        as_of_date,
        descriptions=column_descriptions(DBT_MANIFEST_PATH),
    )
    if len(scores) or has_rows:
        write_scores(settings.warehouse_path, scores, decisions, as_of_date)
    return ScoreResult(
        as_of_date.isoformat(),
        len(applications),
        REGISTERED_MODEL,
        champions[REGISTERED_MODEL][1],
        SCORES_TABLE,
        models={name: version for name, (_, version) in champions.items()},
        decisions=decision_counts(decisions),
    )
