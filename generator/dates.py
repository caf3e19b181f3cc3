"""Time as plain integers, so that millions of events stay numpy arrays.

Timestamps are whole seconds since the Unix epoch (UTC) and dates are whole days since it. The
lender's customers live in Beijing time (UTC+8, no daylight saving), so behaviour such as "logged
in at night" is drawn on the local clock and converted to UTC before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAY = 86_400
HOUR = 3_600
BEIJING_OFFSET = 8 * HOUR
_EPOCH = dt.date(1970, 1, 1)


def day_number(value: dt.date) -> int:
    return (value - _EPOCH).days


def date_of(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def format_timestamps(seconds: np.ndarray) -> np.ndarray:
    """``yyyy-mm-dd HH:MM:SS`` strings, the landing contract's timestamp format."""
    text = np.datetime_as_string(np.asarray(seconds, dtype="int64").astype("datetime64[s]"))
    return np.strings.replace(text, "T", " ")


def format_dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(days, dtype="int64").astype("datetime64[D]"))


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Same day of month ``months`` later, clipped to the month's end (Jan 31 + 1 = Feb 28).

    This is how instalment due dates fall: the disbursement day of the month, every month.
    """
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype("int64")
    target = month + np.asarray(months, dtype="int64")
    days_in_target = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        "int64"
    )
    return (target.astype("datetime64[D]") + np.minimum(day_of_month, days_in_target - 1)).astype(
        "int64"
    )


def completed_years(birth_days: np.ndarray, on_days: np.ndarray) -> np.ndarray:
    """Age in completed years on a date, the way an ID-based age check computes it."""
    birth = np.asarray(birth_days, dtype="int64").astype("datetime64[D]")
    on = np.asarray(on_days, dtype="int64").astype("datetime64[D]")
    by, bm = _year_month(birth)
    oy, om = _year_month(on)
    bd = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype("int64")
    od = (on - on.astype("datetime64[M]").astype("datetime64[D]")).astype("int64")
    before_birthday = (om < bm) | ((om == bm) & (od < bd))
    return oy - by - before_birthday.astype("int64")


def _year_month(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    months = d.astype("datetime64[M]").astype("int64")
    return months // 12 + 1970, months % 12


@dataclass(frozen=True)
class Timeline:
    """The generated period and how records map to delivery dates.

    Everything dated on or before ``extract_date`` is delivered in the initial full extract under
    that date; each later date ``D`` (``days`` of them) holds the records dated on ``D`` (UTC).
    """

    history_start: dt.date
    extract_date: dt.date
    days: int

    @property
    def start(self) -> int:
        return day_number(self.history_start) * DAY

    @property
    def last_date(self) -> dt.date:
        return self.extract_date + dt.timedelta(days=self.days)

    @property
    def end(self) -> int:
        """Last second generated (inclusive): the end of the last daily date."""
        return (day_number(self.last_date) + 1) * DAY - 1

    @property
    def extract_day(self) -> int:
        return day_number(self.extract_date)

    @property
    def delivery_dates(self) -> list[dt.date]:
        return [self.extract_date + dt.timedelta(days=i) for i in range(self.days + 1)]

    def delivery_day(self, seconds: np.ndarray) -> np.ndarray:
        """Delivery date (as a day number) of records stamped at ``seconds``."""
        return np.maximum(np.asarray(seconds, dtype="int64") // DAY, self.extract_day)


#: Relative activity per Beijing hour outside the night band (0–5h), for daytime draws.
_DAY_HOURS = np.arange(5, 24)
_DAY_WEIGHTS = np.array(
    [0.3, 0.8, 2, 3, 3.5, 3.5, 3.5, 4, 3.5, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 5, 3.5], dtype=float
)
_DAY_WEIGHTS /= _DAY_WEIGHTS.sum()
NIGHT_HOURS = 5  # local hours 0:00–4:59 count as night


def local_seconds(n: int, rng: np.random.Generator, night_prob: np.ndarray | float) -> np.ndarray:
    """Seconds after local midnight: night (0–5h) with ``night_prob``, else a daytime profile."""
    night = rng.random(n) < night_prob
    hours = np.where(
        night,
        rng.integers(0, NIGHT_HOURS, n),
        rng.choice(_DAY_HOURS, size=n, p=_DAY_WEIGHTS),
    )
    return hours * HOUR + rng.integers(0, HOUR, n)


def at_local_time(local_day: np.ndarray, seconds_of_day: np.ndarray) -> np.ndarray:
    """UTC seconds of a Beijing-local day and time of day."""
    return np.asarray(local_day, dtype="int64") * DAY + seconds_of_day - BEIJING_OFFSET


def local_day_of(utc_seconds: np.ndarray) -> np.ndarray:
    return (np.asarray(utc_seconds, dtype="int64") + BEIJING_OFFSET) // DAY
