"""Calendar arithmetic on day numbers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from generator.dates import (
    DAY,
    Timeline,
    add_months,
    completed_years,
    date_of,
    day_number,
    format_timestamps,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 28)),
        (dt.date(2025, 3, 15), 12, dt.date(2026, 3, 15)),
        (dt.date(2025, 12, 30), 2, dt.date(2026, 2, 28)),
        (dt.date(2025, 5, 31), -3, dt.date(2025, 2, 28)),
    ],
)
def test_add_months_clips_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert date_of(add_months(np.array([day_number(start)]), months)[0]) == expected


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(2000, 6, 15), dt.date(2018, 6, 14), 17),
        (dt.date(2000, 6, 15), dt.date(2018, 6, 15), 18),
        (dt.date(2000, 2, 29), dt.date(2018, 2, 28), 17),
        (dt.date(2000, 2, 29), dt.date(2018, 3, 1), 18),
        (dt.date(1960, 12, 31), dt.date(2025, 12, 31), 65),
    ],
)
def test_completed_years(birth: dt.date, on: dt.date, age: int) -> None:
    result = completed_years(np.array([day_number(birth)]), np.array([day_number(on)]))
    assert int(result[0]) == age


def test_timeline_delivery_dates() -> None:
    timeline = Timeline(dt.date(2024, 7, 1), dt.date(2026, 1, 1), 3)
    assert timeline.last_date == dt.date(2026, 1, 4)
    assert format_timestamps(np.array([timeline.end]))[0] == "2026-01-04 23:59:59"
    stamps = np.array(
        [timeline.start, timeline.extract_day * DAY + 5, (timeline.extract_day + 2) * DAY + 7]
    )
    assert [date_of(d) for d in timeline.delivery_day(stamps)] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 3),
    ]
