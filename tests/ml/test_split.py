"""ml.split: the out-of-time split takes the latest whole months nearest 20% of the rows."""

from __future__ import annotations

import numpy as np
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


def _b_card_frame(months: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame({"snapshot_month": [m for m in months for _ in range(10)]})
    y = np.tile([0, 1], len(frame) // 2)
    return frame, y


def test_an_embargo_keeps_the_label_window_between_training_and_out_of_time() -> None:
    """B-card rows recur monthly per loan: training labels must be complete before OOT starts."""
    from ml.names import B_CARD

    months = [f"2024-{m:02d}" for m in range(1, 13)]
    frame, y = _b_card_frame(months)
    data = split.split_out_of_time(frame, y, selection=None, target=B_CARD)
    assert data.oot_months == ["2024-11", "2024-12"]
    assert data.train_months == [f"2024-{m:02d}" for m in range(1, 6)]  # up to 6 months before
    assert set(data.x_train["snapshot_month"]) == set(data.train_months)
    assert split.embargoed_last_month("2025-03", 6) == "2024-09"


def test_an_embargo_that_leaves_nothing_to_train_on_says_so() -> None:
    from ml.names import B_CARD

    frame, y = _b_card_frame(["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"])
    with pytest.raises(TrainingDataError, match="6-month gap before the out-of-time month"):
        split.split_out_of_time(frame, y, selection=None, target=B_CARD)
