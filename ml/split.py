"""The out-of-time split: earlier application months train, the latest ~20% of rows validate.

A target with an embargo (``ModelTarget.embargo_months``, the B-card's 6-month label window)
trains only on months whose labels were complete before the first out-of-time month: its rows
recur for the same loan every month, and a training label observed later would reveal the
outcome of the same loan's out-of-time row (measured on the demo: without the gap the B-card's
LightGBM scored above the generator's own oracle).

A model is judged on the months it never saw, cut by whole months, because it will score the
future and a vintage is the unit a lender reviews. Nothing about the out-of-time rows steers a
choice during fitting (LightGBM's tree count is cross-validated within the training
months), so their AUC and KS are an honest estimate, and the champion gate compares candidates
on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.data import TrainingDataError
from ml.features import FeatureSelection
from ml.names import CREDIT_PD, ModelTarget

OOT_SHARE = 0.2


def out_of_time_split(
    months: pd.Series, oot_share: float = OOT_SHARE, table: str = CREDIT_PD.training_table
) -> tuple[list, list]:
    """Training months and out-of-time months: the latest whole months nearest ``oot_share``.

    Whole months, because a vintage is the unit a lender reviews; the latest, because the model
    will score the future. Months are added from the latest backwards while that brings the
    out-of-time share closer to ``oot_share``; at least one month stays on each side.
    """
    counts = months.value_counts().sort_index()
    if len(counts) < 2:
        raise TrainingDataError(
            f"{table} spans {len(counts)} application month(s); an out-of-time split "
            "needs at least two"
        )
    total = counts.sum()
    oot: list[str] = []
    share = 0.0
    for month in reversed(counts.index.tolist()):
        new_share = share + counts[month] / total
        if oot and (abs(new_share - oot_share) >= abs(share - oot_share)):
            break
        oot.append(month)
        share = new_share
        if len(oot) == len(counts) - 1:
            break
    train = [m for m in counts.index if m not in oot]
    return train, sorted(oot)


def embargoed_last_month(first_oot_month: str, embargo_months: int) -> str:
    """The last ``yyyy-mm`` that may train when out-of-time starts at ``first_oot_month``."""
    period = pd.Period(first_oot_month, freq="M") - embargo_months
    return str(period)


@dataclass
class TrainingData:
    """The out-of-time split of the training set, and the features chosen for it."""

    x_train: pd.DataFrame
    y_train: np.ndarray
    x_oot: pd.DataFrame
    y_oot: np.ndarray
    train_months: list[str]
    oot_months: list[str]
    selection: FeatureSelection
    target: ModelTarget = CREDIT_PD

    @property
    def cv_groups(self) -> np.ndarray | None:
        """The training rows' groups for the inner cross-validation (``target.cv_group``)."""
        group = self.target.cv_group
        return None if group is None else self.x_train[group].to_numpy()

    @property
    def rows(self) -> dict[str, int]:
        return {"train": len(self.y_train), "oot": len(self.y_oot)}

    @property
    def bad_rates(self) -> dict[str, float]:
        return {"train": float(self.y_train.mean()), "oot": float(self.y_oot.mean())}


def split_out_of_time(
    frame: pd.DataFrame,
    y: np.ndarray,
    selection: FeatureSelection,
    target: ModelTarget = CREDIT_PD,
) -> TrainingData:
    """Rows and labels on each side of :func:`out_of_time_split`; both sides need both classes."""
    train_months, oot_months = out_of_time_split(frame[target.month], table=target.training_table)
    if target.embargo_months:
        last = embargoed_last_month(oot_months[0], target.embargo_months)
        train_months = [m for m in train_months if m <= last]
        if not train_months:
            raise TrainingDataError(
                f"{target.training_table} has no month before {last} to train on: the "
                f"{target.embargo_months}-month gap before the out-of-time month {oot_months[0]} "
                "leaves none (wait for more months of matured snapshots)"
            )
    is_oot = frame[target.month].isin(oot_months).to_numpy()
    is_train = frame[target.month].isin(train_months).to_numpy()
    data = TrainingData(
        x_train=frame.loc[is_train],
        y_train=y[is_train],
        x_oot=frame.loc[is_oot],
        y_oot=y[is_oot],
        train_months=train_months,
        oot_months=oot_months,
        selection=selection,
        target=target,
    )
    for split, labels in (("training", data.y_train), ("out-of-time", data.y_oot)):
        if np.unique(labels).size < 2:
            raise TrainingDataError(
                f"the {split} months of {target.training_table} hold only one class of "
                f"{target.label}"
            )
    return data
