"""The collections queue: each day's entries into collections, ordered by the collections model.

For an as-of date D, :func:`main` loads ``models:/c_card@champion``, scores the entries that
became known on D (``marts.fct_collection_entries``) whose due date is less than 30 days old (the
ones still in early collections) and replaces D's rows of ``ml.collections_queue``: the
probability of not curing, the points score, the top adverse factors, and ``priority`` (1 = the
least likely to cure, called first). Without a champion the day's queue is left empty and the
result says why: collections still run, unordered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from creditlake.lake import parse_date
from creditlake.settings import Settings, get_settings
from ml.data import read_table
from ml.names import C_CARD
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

QUEUE_TABLE = f"{SCORES_SCHEMA}.collections_queue"
QUEUE_DDL = f"""
create table if not exists {QUEUE_TABLE} (
    installment_id varchar not null,
    loan_id varchar not null,
    priority integer not null,
    pd double not null,
    score double not null,
    reasons varchar,
    model_version integer not null,
    queued_date date not null
)
"""
#: Entries older than this many days have rolled to 30+ days past due: a later stage's work.
WINDOW_DAYS = 30


@dataclass
class QueueResult:
    queued_date: str
    rows: int
    model_version: str | None
    table: str = QUEUE_TABLE
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def todays_entries(warehouse_path: Path, as_of_date: dt.date) -> pd.DataFrame:
    """The entries that became known on ``as_of_date`` and are still in early collections."""
    frame = read_table(warehouse_path, C_CARD.features_table)
    if frame is None or frame.empty:
        return pd.DataFrame()
    owned = pd.to_datetime(frame["as_of_date"]).dt.date == as_of_date
    fresh = pd.to_datetime(frame["due_date"]).dt.date >= as_of_date - dt.timedelta(WINDOW_DAYS)
    return frame[(owned & fresh).to_numpy()].reset_index(drop=True)


def order_queue(model, version: str, entries: pd.DataFrame, as_of_date: dt.date) -> pd.DataFrame:
    """The queue rows: the least likely to cure first."""
    predictions = model.predict(conform_to_schema(entries, model.metadata.get_input_schema()))
    queue = pd.DataFrame(
        {
            "installment_id": entries["installment_id"].astype("str").to_numpy(),
            "loan_id": entries["loan_id"].astype("str").to_numpy(),
            "pd": predictions["pd"].to_numpy(dtype=float).round(PD_DECIMALS),
            "score": predictions["score"].to_numpy(dtype=float).round(SCORE_DECIMALS),
            "reasons": predictions["reasons"].astype("str").to_numpy()
            if "reasons" in predictions.columns
            else None,
            "model_version": int(version),
            "queued_date": as_of_date,
        }
    )
    queue = queue.sort_values(["pd", "installment_id"], ascending=[False, True], kind="stable")
    queue.insert(2, "priority", range(1, len(queue) + 1))
    return queue.reset_index(drop=True)


QUEUE_COLUMNS = (
    "installment_id",
    "loan_id",
    "priority",
    "pd",
    "score",
    "reasons",
    "model_version",
    "queued_date",
)


def write_queue(warehouse_path: Path, queue: pd.DataFrame, as_of_date: dt.date) -> None:
    """Replace the rows of ``as_of_date`` in ``ml.collections_queue``, atomically."""
    replace_day(
        warehouse_path,
        as_of_date,
        [DayRows(QUEUE_TABLE, QUEUE_DDL, "queued_date", QUEUE_COLUMNS, queue)],
    )


def main(as_of_date: str | dt.date, settings: Settings | None = None) -> QueueResult:
    """Order the collections queue of ``as_of_date`` with the c_card champion."""
    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    try:
        model, version = load_champion(settings, C_CARD.name)
    except NoChampionError as error:
        write_queue(settings.warehouse_path, pd.DataFrame(), as_of_date)
        return QueueResult(as_of_date.isoformat(), 0, None, note=str(error))
    entries = todays_entries(settings.warehouse_path, as_of_date)
    queue = order_queue(model, version, entries, as_of_date) if len(entries) else pd.DataFrame()
    write_queue(settings.warehouse_path, queue, as_of_date)
    return QueueResult(as_of_date.isoformat(), len(queue), version)
