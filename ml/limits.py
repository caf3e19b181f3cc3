"""Monthly credit-limit proposals on the active book, scored by the behaviour model.

For an as-of date D that owns the snapshots of the latest month end before it
(``marts.fct_b_card_snapshots``: every loan current at that month end), :func:`main` scores them
with ``models:/b_card@champion`` and replaces D's rows of ``ml.limit_proposals``: the probability
of going 30+ days past due within six months, the points score, the top adverse factors, and a
proposal per loan:

* **increase** when the PD is below ``LimitStrategy.increase_below_pd``, the loan has been on book
  at least ``increase_min_months`` months and was never past due: the line grows by
  ``increase_factor``, capped by the regulatory unsecured limit (``Policy.credit_limit_cny``);
* **decrease** when the PD is at least ``decrease_from_pd``: the line shrinks to what is still
  outstanding (no new drawdowns), with the adverse factors as the reasons;
* **hold** otherwise.

The engine is ``Settings.limits_engine`` (one rule with the ingest engine's,
:func:`creditlake.settings.embedded_engine`). On the embedded path (a ``local[...]`` Spark
master) the champion's pyfunc scores the book as one pandas frame in this process
(:func:`score_in_process`): a month end of ten thousand loans takes about a second, where
starting a JVM for a UDF took about 15 s. With a cluster master the book is scored by
``mlflow.pyfunc.spark_udf`` (:func:`score_in_spark`), so a book of millions spreads over the
executors; on a cluster deployment the marts are a catalog's tables and the Spark read replaces
the hand-over below. Both run the same pyfunc model, so both give the same proposals
(``tests/ml/test_limits.py``).
Without a champion the month's proposals are left empty and the result says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditlake.lake import parse_date
from creditlake.policy import Policy
from creditlake.settings import Settings, get_settings
from ml.data import read_table
from ml.names import B_CARD, CHAMPION
from ml.score import (
    PD_DECIMALS,
    SCORE_DECIMALS,
    SCORES_SCHEMA,
    DayRows,
    NoChampionError,
    load_champion,
    replace_day,
)
from ml.serving import conform_to_schema

PROPOSALS_TABLE = f"{SCORES_SCHEMA}.limit_proposals"
PROPOSALS_DDL = f"""
create table if not exists {PROPOSALS_TABLE} (
    loan_month_id varchar not null,
    loan_id varchar not null,
    month_end date not null,
    pd double not null,
    score double not null,
    proposal varchar not null,
    current_limit_cny double not null,
    proposed_limit_cny double not null,
    reasons varchar,
    model_version integer not null,
    proposed_date date not null
)
"""
PROPOSAL_COLUMNS = (
    "loan_month_id",
    "loan_id",
    "month_end",
    "pd",
    "score",
    "proposal",
    "current_limit_cny",
    "proposed_limit_cny",
    "reasons",
    "model_version",
    "proposed_date",
)
INCREASE, HOLD, DECREASE = "increase", "hold", "decrease"


@dataclass(frozen=True)
class LimitStrategy:
    """Cut-offs of the reference limit strategy (set on the demo's B-card score distribution)."""

    increase_below_pd: float = 0.03
    increase_min_months: int = 3
    increase_factor: float = 1.2
    decrease_from_pd: float = 0.20
    limit_step_cny: float = 100.0


REFERENCE_LIMIT_STRATEGY = LimitStrategy()


@dataclass
class LimitResult:
    proposed_date: str
    month_end: str | None
    rows: int
    by_proposal: dict[str, int]
    model_version: str | None
    table: str = PROPOSALS_TABLE
    engine: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def latest_month_end(as_of_date: dt.date) -> dt.date:
    """The last complete month end before ``as_of_date``."""
    return as_of_date.replace(day=1) - dt.timedelta(days=1)


def active_book(warehouse_path: Path, as_of_date: dt.date) -> pd.DataFrame:
    """Loans current at the latest month end, as first known on ``as_of_date`` (may be empty)."""
    frame = read_table(warehouse_path, B_CARD.features_table)
    if frame is None or frame.empty:
        return pd.DataFrame()
    owned = pd.to_datetime(frame["as_of_date"]).dt.date == as_of_date
    latest = pd.to_datetime(frame["month_end"]).dt.date == latest_month_end(as_of_date)
    return frame[(owned & latest).to_numpy()].reset_index(drop=True)


def score_in_process(book: pd.DataFrame, model) -> pd.DataFrame:
    """pd, score and reasons of every row (in order), computed by the champion's pyfunc here."""
    scored = model.predict(conform_to_schema(book, model.metadata.get_input_schema()))
    return scored[["pd", "score", "reasons"]].reset_index(drop=True)


def score_book(
    book: pd.DataFrame, model, settings: Settings, model_name: str = B_CARD.name
) -> pd.DataFrame:
    """The book's pd, score and reasons on ``settings.limits_engine`` (the module docstring)."""
    if settings.limits_engine == "spark":
        return score_in_spark(book, model.metadata.get_input_schema(), settings, model_name)
    return score_in_process(book, model)


def score_in_spark(
    book: pd.DataFrame, schema, settings: Settings, model_name: str = B_CARD.name
) -> pd.DataFrame:
    """pd, score and reasons of every row (in order), computed by a champion as a Spark UDF."""
    import mlflow
    from pyspark.sql import functions as F

    from creditlake.spark import get_spark
    from ml.tracking import configure_mlflow

    configure_mlflow(settings)
    spark = get_spark("creditlake-limit-proposals", settings)
    inputs = conform_to_schema(book, schema)
    inputs.insert(0, "_row", np.arange(len(inputs), dtype="int64"))
    udf = mlflow.pyfunc.spark_udf(
        spark,
        f"models:/{model_name}@{CHAMPION}",
        result_type="pd double, score double, reasons string",
        env_manager="local",
    )
    frame = spark.createDataFrame(inputs)
    names = schema.input_names()
    scored = frame.select("_row", udf(F.struct(*[F.col(f"`{n}`") for n in names])).alias("out"))
    result = scored.select("_row", "out.pd", "out.score", "out.reasons").toPandas()
    return result.sort_values("_row").reset_index(drop=True)


def propose(
    book: pd.DataFrame,
    scores: pd.DataFrame,
    version: str,
    as_of_date: dt.date,
    policy: Policy,
    strategy: LimitStrategy = REFERENCE_LIMIT_STRATEGY,
) -> pd.DataFrame:
    """One proposal per loan from its PD, history and the policy's unsecured cap."""
    pd_values = scores["pd"].to_numpy(dtype=float)
    current = pd.to_numeric(book["principal_cny"], errors="coerce").to_numpy(float)
    outstanding = current * pd.to_numeric(book["outstanding_principal_share"]).to_numpy(float)
    clean = pd.to_numeric(book["max_days_past_due_to_date"]).to_numpy() == 0
    seasoned = pd.to_numeric(book["months_on_book"]).to_numpy() >= strategy.increase_min_months
    increase = (pd_values < strategy.increase_below_pd) & clean & seasoned
    decrease = pd_values >= strategy.decrease_from_pd
    step = strategy.limit_step_cny
    raised = np.minimum(
        np.floor(current * strategy.increase_factor / step) * step, policy.credit_limit_cny
    )
    lowered = np.ceil(outstanding / step) * step
    proposal = np.where(decrease, DECREASE, np.where(increase, INCREASE, HOLD))
    reasons = scores["reasons"].astype("str").to_numpy(dtype=object)
    reasons[proposal != DECREASE] = None
    return pd.DataFrame(
        {
            "loan_month_id": book["loan_month_id"].astype("str").to_numpy(),
            "loan_id": book["loan_id"].astype("str").to_numpy(),
            "month_end": pd.to_datetime(book["month_end"]).dt.date.to_numpy(),
            "pd": pd_values.round(PD_DECIMALS),
            "score": scores["score"].to_numpy(dtype=float).round(SCORE_DECIMALS),
            "proposal": proposal,
            "current_limit_cny": current,
            "proposed_limit_cny": np.where(
                decrease, np.minimum(lowered, current), np.where(increase, raised, current)
            ),
            "reasons": reasons,
            "model_version": int(version),
            "proposed_date": as_of_date,
        }
    )


def write_proposals(warehouse_path: Path, proposals: pd.DataFrame, as_of_date: dt.date) -> None:
    """Replace the rows of ``as_of_date`` in ``ml.limit_proposals``, atomically."""
    replace_day(
        warehouse_path,
        as_of_date,
        [DayRows(PROPOSALS_TABLE, PROPOSALS_DDL, "proposed_date", PROPOSAL_COLUMNS, proposals)],
    )


def main(as_of_date: str | dt.date, settings: Settings | None = None) -> LimitResult:
    """Propose the limit changes of ``as_of_date``'s month end with the b_card champion."""
    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    month_end = latest_month_end(as_of_date).isoformat()
    try:
        model, version = load_champion(settings, B_CARD.name)
    except NoChampionError as error:
        write_proposals(settings.warehouse_path, pd.DataFrame(), as_of_date)
        return LimitResult(
            as_of_date.isoformat(),
            month_end,
            0,
            {},
            None,
            engine=settings.limits_engine,
            note=str(error),
        )
    book = active_book(settings.warehouse_path, as_of_date)
    if book.empty:
        write_proposals(settings.warehouse_path, pd.DataFrame(), as_of_date)
        return LimitResult(
            as_of_date.isoformat(),
            month_end,
            0,
            {},
            version,
            engine=settings.limits_engine,
            note=f"no month-end snapshot of {month_end} was first known on {as_of_date}",
        )
    scores = score_book(book, model, settings)
    proposals = propose(book, scores, version, as_of_date, settings.policy)
    write_proposals(settings.warehouse_path, proposals, as_of_date)
    counts = proposals["proposal"].value_counts()
    return LimitResult(
        as_of_date.isoformat(),
        month_end,
        len(proposals),
        {name: int(counts.get(name, 0)) for name in (INCREASE, HOLD, DECREASE)},
        version,
        engine=settings.limits_engine,
    )
