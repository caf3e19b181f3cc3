"""Thin-file inclusion: what behaviour data does for applicants the bureau cannot vouch for.

Consumer-finance lenders reach applicants without a bureau record and new citizens (新市民)
through behaviour data (app use, spending, devices). This module measures that on the training
run's out-of-time applications, for the application model: the run's best family is fitted again on
the same training rows without the behaviour features (the columns of dbt's
``int_application_behaviour_features``, read from the manifest), and both fits are compared per
group (everyone, thin-file, new citizens):

- AUC with and without behaviour features, and the lift;
- the approval rate at a fixed bad rate: applicants approved in order of predicted PD, as many as
  keep the **observed** out-of-time bad rate of those approved at or below
  :data:`INCLUSION_BAD_RATE`. Observed, not predicted: a model that is merely confident would
  otherwise look inclusive;
- group sizes (rows and bads), so nobody reads a lift off thirty loans.

The table is logged to the run as ``inclusion.json`` and ``inclusion.csv`` and printed by the
platform summary.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml import metrics
from ml.features import dbt_column_meta
from ml.fitting import build_model
from ml.models import FeatureSpec
from ml.split import TrainingData

#: The bad rate the approval rates are compared at: the lender's appetite for a new segment,
#: well under the book's matured bad rate (about 17% in the demo), so a model must sort risk to
#: approve anyone.
INCLUSION_BAD_RATE = 0.10
#: The dbt model whose columns are the behaviour features.
BEHAVIOUR_NODE = "model.creditlake.int_application_behaviour_features"
INCLUSION_FILE = "inclusion.json"


@dataclass(frozen=True)
class GroupInclusion:
    group: str
    rows: int
    bads: int
    auc_with_behaviour: float | None
    auc_without_behaviour: float | None
    approval_with_behaviour: float
    approval_without_behaviour: float

    @property
    def auc_lift(self) -> float | None:
        if self.auc_with_behaviour is None or self.auc_without_behaviour is None:
            return None
        return round(self.auc_with_behaviour - self.auc_without_behaviour, 4)

    def to_dict(self) -> dict:
        return {**asdict(self), "auc_lift": self.auc_lift}


def behaviour_columns(manifest_path: Path) -> set[str]:
    """The behaviour features: every column dbt documents on the behaviour-features model."""
    return set(dbt_column_meta(manifest_path, BEHAVIOUR_NODE)) - {"application_id"}


def approval_at_bad_rate(y: np.ndarray, pd_hat: np.ndarray, bad_rate: float) -> float:
    """Share approved, safest first, while the observed bad rate of those approved <= bad_rate."""
    if len(y) == 0:
        return 0.0
    order = np.argsort(pd_hat, kind="stable")
    cumulative = np.cumsum(np.asarray(y, dtype=float)[order]) / np.arange(1, len(y) + 1)
    within = np.flatnonzero(cumulative <= bad_rate + 1e-12)
    return round(float((within[-1] + 1) / len(y)) if len(within) else 0.0, 4)


def _auc(y: np.ndarray, risk: np.ndarray) -> float | None:
    return round(metrics.auc(y, risk), 4) if np.unique(y).size == 2 else None


#: The groups measured, as the summary names them.
GROUP_LABELS = {
    "all": "all applicants",
    "thin_file": "thin-file (no bureau record)",
    "new_citizen": "new citizens (新市民)",
}


def groups_of(x: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row masks of the groups measured (a group whose column is missing is left out)."""
    groups = {"all": np.ones(len(x), dtype=bool)}
    if "has_bureau_report" in x.columns:
        groups["thin_file"] = ~x["has_bureau_report"].astype(bool).to_numpy()
    if "is_new_citizen" in x.columns:
        groups["new_citizen"] = x["is_new_citizen"].astype(bool).to_numpy()
    return groups


@dataclass(frozen=True)
class Inclusion:
    """The comparison for one run: the family refitted, the features removed, the groups."""

    family: str
    removed: list[str]
    groups: list[GroupInclusion]
    bad_rate: float = INCLUSION_BAD_RATE

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "bad_rate": self.bad_rate,
            "behaviour_features_removed": self.removed,
            "groups": [group.to_dict() for group in self.groups],
        }

    def write(self, folder: Path) -> list[Path]:
        """``inclusion.json`` (what the summary reads) and ``inclusion.csv`` in ``folder``."""
        json_path = folder / INCLUSION_FILE
        json_path.write_text(json.dumps(self.to_dict(), indent=2))
        csv_path = folder / "inclusion.csv"
        pd.DataFrame([group.to_dict() for group in self.groups]).to_csv(csv_path, index=False)
        return [json_path, csv_path]


def measure_inclusion(
    data: TrainingData,
    family: str,
    behaviour: set[str],
    *,
    seed: int,
    with_behaviour: np.ndarray | None = None,
) -> Inclusion:
    """Fit ``family`` with and without the behaviour features; compare them per group.

    ``with_behaviour`` is the out-of-time PDs of the run's own fit of ``family`` on every
    feature, when the caller has it: fitting is deterministic (fixed seed and threads), so a
    refit on the same rows, features and seed would give the same model, at the price of a
    whole fit (for LightGBM, its cross-validation).
    """
    spec = data.selection.spec
    removed = [c for c in spec.columns if c in behaviour]
    without = FeatureSpec.infer(data.x_train, [c for c in spec.columns if c not in behaviour])
    predictions = {}
    if with_behaviour is not None:
        predictions["with"] = np.asarray(with_behaviour, dtype=float)
    for name, variant in (("with", spec), ("without", without)):
        if name not in predictions:
            fitted = build_model(
                family, data.x_train, data.y_train, variant, seed=seed, groups=data.cv_groups
            )
            predictions[name] = fitted.predict_pd(data.x_oot)
    y = data.y_oot
    groups = []
    for group, mask in groups_of(data.x_oot).items():
        groups.append(
            GroupInclusion(
                group=group,
                rows=int(mask.sum()),
                bads=int(y[mask].sum()),
                auc_with_behaviour=_auc(y[mask], predictions["with"][mask]),
                auc_without_behaviour=_auc(y[mask], predictions["without"][mask]),
                approval_with_behaviour=approval_at_bad_rate(
                    y[mask], predictions["with"][mask], INCLUSION_BAD_RATE
                ),
                approval_without_behaviour=approval_at_bad_rate(
                    y[mask], predictions["without"][mask], INCLUSION_BAD_RATE
                ),
            )
        )
    return Inclusion(family, removed, groups)
