"""ml.split: the out-of-time split takes the latest whole months nearest 20% of the rows."""

from __future__ import annotations

import pandas as pd
import pytest

from ml import split
from ml.data import TrainingDataError


@pytest.mark.parametrize(
    ("counts", "expected_oot"),
    [
        ({f"2024-{m:02d}": 100 for m in range(1, 6)}, ["2024-05"]),
        ({f"2024-{m:02d}": 100 for m in range(1, 11)}, ["2024-09", "2024-10"]),
        ({"2024-01": 500, "2024-02": 400, "2024-03": 60, "2024-04": 40}, ["2024-03", "2024-04"]),
        ({"2024-01": 100, "2024-02": 900}, ["2024-02"]),
        ({"2024-01": 50, "2024-02": 50, "2024-03": 50, "2024-04": 350}, ["2024-04"]),
    ],
)  # fmt: skip
def test_out_of_time_split_takes_the_latest_months_nearest_20_percent(counts, expected_oot) -> None:
    months = pd.Series([m for m, n in counts.items() for _ in range(n)]).sample(
        frac=1, random_state=1
    )
    train_months, oot_months = split.out_of_time_split(months)
    assert oot_months == expected_oot
    assert train_months == sorted(set(counts) - set(expected_oot))


def test_out_of_time_split_needs_two_months() -> None:
    with pytest.raises(TrainingDataError, match="at least two"):
        split.out_of_time_split(pd.Series(["2024-01"] * 10))
