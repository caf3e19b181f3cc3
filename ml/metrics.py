"""Model-validation metrics for binary credit-risk models, in plain numpy and pandas.

Risk and governance teams read these numbers in model cards and monitoring reports, so they are
computed here from first principles (ranks and cumulative counts) rather than taken from whichever
modelling library produced the model: a scorecard, a gradient-boosted model and a model trained
elsewhere are all measured the same way. The tests check each one against an independent
implementation (scikit-learn, SciPy, a hand-computed PSI).

Conventions: ``y_true`` is 1 for a bad loan (the event) and 0 for a good one; ``risk`` is any
number that grows with the risk of being bad (a PD, or a log-odds). Pass ``-score`` for a points
score, where higher means safer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ArrayLike = Sequence[float] | np.ndarray | pd.Series


class MetricInputError(ValueError):
    """The labels or predictions cannot be evaluated; the message says what is wrong."""


def _labels_and_risk(y_true: ArrayLike, risk: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated float arrays; AUC and KS are undefined unless both classes occur."""
    y = np.asarray(y_true, dtype=float).ravel()
    r = np.asarray(risk, dtype=float).ravel()
    if y.shape != r.shape:
        raise MetricInputError(f"{y.size} labels but {r.size} predictions")
    if y.size == 0:
        raise MetricInputError("no rows to evaluate")
    if np.isnan(r).any():
        raise MetricInputError(f"{int(np.isnan(r).sum())} predictions are NaN")
    if not np.isin(y, (0.0, 1.0)).all():
        raise MetricInputError("labels must be 0 (good) or 1 (bad)")
    n_bad = int(y.sum())
    if n_bad in (0, y.size):
        raise MetricInputError(
            f"both classes are needed, got {n_bad} bad and {y.size - n_bad} good rows"
        )
    return y, r


def auc(y_true: ArrayLike, risk: ArrayLike) -> float:
    """Area under the ROC curve, from the Mann-Whitney U statistic.

    Ranks (ties share their average rank) make this exact with tied predictions, which a
    scorecard with a few dozen distinct point totals produces all the time.
    """
    y, r = _labels_and_risk(y_true, risk)
    ranks = pd.Series(r).rank(method="average").to_numpy()
    n_bad = y.sum()
    n_good = y.size - n_bad
    u = ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2
    return float(u / (n_bad * n_good))


def gini(y_true: ArrayLike, risk: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio) = 2·AUC − 1, as scorecard reports quote it."""
    return 2.0 * auc(y_true, risk) - 1.0


def roc_points(y_true: ArrayLike, risk: ArrayLike) -> pd.DataFrame:
    """The ROC curve: one row per distinct threshold, from (0, 0) to (1, 1).

    A row says: declaring every case with ``risk >= threshold`` bad finds ``tpr`` of the bads
    (cumulative bad share) at the cost of ``fpr`` of the goods (cumulative good share).
    """
    y, r = _labels_and_risk(y_true, risk)
    order = np.argsort(-r, kind="stable")
    r_sorted, y_sorted = r[order], y[order]
    # The last position of each run of equal predictions closes one threshold.
    last_of_run = np.r_[np.flatnonzero(np.diff(r_sorted)), r_sorted.size - 1]
    bads = np.cumsum(y_sorted)[last_of_run]
    goods = (last_of_run + 1) - bads
    return pd.DataFrame(
        {
            "threshold": np.r_[np.inf, r_sorted[last_of_run]],
            "population_share": np.r_[0.0, (last_of_run + 1) / r.size],
            "tpr": np.r_[0.0, bads / y.sum()],
            "fpr": np.r_[0.0, goods / (y.size - y.sum())],
        }
    )


def ks(y_true: ArrayLike, risk: ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap TPR − FPR over all thresholds.

    It is the largest distance between the bads' and the goods' cumulative risk distributions,
    i.e. how well the best single cut-off separates them.
    """
    curve = roc_points(y_true, risk)
    return float((curve["tpr"] - curve["fpr"]).max())


def discrimination(y_true: ArrayLike, risk: ArrayLike) -> dict[str, float]:
    """AUC, KS and Gini together, as logged for every model and split."""
    area = auc(y_true, risk)
    return {"auc": area, "ks": ks(y_true, risk), "gini": 2.0 * area - 1.0}


def decile_table(y_true: ArrayLike, pd_hat: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Equal-count risk bands (band 1 = riskiest) with bad rates, calibration and KS.

    This is the table a credit committee reads: in each band the observed bad rate against the
    mean predicted PD (calibration), the cumulative shares of bads and goods captured so far
    (their gap is the KS at that cut-off) and the lift over the portfolio bad rate. Ties at a band
    edge are split by row order so every band has the same size (±1).
    """
    y, p = _labels_and_risk(y_true, pd_hat)
    if n_bins < 1:
        raise MetricInputError(f"n_bins must be at least 1, got {n_bins}")
    n_bins = min(n_bins, y.size)
    order = np.argsort(-p, kind="stable")
    band = np.empty(y.size, dtype=int)
    band[order] = np.arange(y.size) * n_bins // y.size + 1
    frame = pd.DataFrame({"band": band, "bad": y, "pd": p})
    table = frame.groupby("band").agg(
        rows=("bad", "size"),
        bads=("bad", "sum"),
        mean_pd=("pd", "mean"),
        min_pd=("pd", "min"),
        max_pd=("pd", "max"),
    )
    table["bads"] = table["bads"].astype(int)
    table["goods"] = table["rows"] - table["bads"]
    table["bad_rate"] = table["bads"] / table["rows"]
    table["cum_bad_share"] = table["bads"].cumsum() / y.sum()
    table["cum_good_share"] = table["goods"].cumsum() / (y.size - y.sum())
    table["ks"] = table["cum_bad_share"] - table["cum_good_share"]
    table["lift"] = table["bad_rate"] / y.mean()
    columns = ["rows", "bads", "goods", "bad_rate", "mean_pd", "min_pd", "max_pd"]
    columns += ["cum_bad_share", "cum_good_share", "ks", "lift"]
    return table[columns].reset_index()


def psi_table(
    expected: ArrayLike, actual: ArrayLike, n_bins: int = 10, floor: float = 1e-4
) -> pd.DataFrame:
    """Per-bin contributions to the population stability index.

    Bins are right-closed intervals cut at the deciles (or ``n_bins`` quantiles) of the
    ``expected`` (reference) distribution, with open ends so every value of ``actual`` lands in
    one. A share of zero would make the logarithm infinite, so shares are floored at ``floor``.
    """
    e = np.asarray(expected, dtype=float).ravel()
    a = np.asarray(actual, dtype=float).ravel()
    if e.size == 0 or a.size == 0:
        raise MetricInputError("PSI needs a non-empty reference and a non-empty actual sample")
    if np.isnan(e).any() or np.isnan(a).any():
        raise MetricInputError("PSI inputs contain NaN values")
    inner_edges = np.unique(np.quantile(e, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    n = inner_edges.size + 1
    e_share = np.bincount(np.searchsorted(inner_edges, e, side="left"), minlength=n) / e.size
    a_share = np.bincount(np.searchsorted(inner_edges, a, side="left"), minlength=n) / a.size
    e_floor = np.maximum(e_share, floor)
    a_floor = np.maximum(a_share, floor)
    return pd.DataFrame(
        {
            "lower": np.r_[-np.inf, inner_edges],
            "upper": np.r_[inner_edges, np.inf],
            "expected_share": e_share,
            "actual_share": a_share,
            "contribution": (a_floor - e_floor) * np.log(a_floor / e_floor),
        }
    )


def psi(expected: ArrayLike, actual: ArrayLike, n_bins: int = 10, floor: float = 1e-4) -> float:
    """Population stability index Σ (a − e)·ln(a / e) over the bins of :func:`psi_table`."""
    return float(psi_table(expected, actual, n_bins, floor)["contribution"].sum())


def psi_status(value: float, *, watch: float, act: float) -> str:
    """``stable`` below ``watch``, ``watch`` up to ``act``, ``act`` above it.

    The conventional cut-offs (0.10 and 0.25) are habits, not law, so callers pass them from
    settings (``CREDITLAKE_PSI_WATCH`` / ``CREDITLAKE_PSI_ACT``).
    """
    if not 0 <= watch <= act:
        raise MetricInputError(f"PSI cut-offs must satisfy 0 <= watch <= act, got {watch}, {act}")
    if value < watch:
        return "stable"
    return "watch" if value <= act else "act"


def auc_standard_error(auc_value: float, n_bad: int, n_good: int) -> float:
    """Standard error of an AUC from ``n_bad`` bads and ``n_good`` goods (Hanley & McNeil, 1982).

    A month of a few dozen bads measures AUC to within about ±0.1; monitoring judges a month's
    drop against this, so that a small month's noise does not read as a broken model.
    """
    if n_bad < 1 or n_good < 1:
        raise MetricInputError(f"both classes are needed, got {n_bad} bad and {n_good} good rows")
    a = float(auc_value)
    q1 = a / (2.0 - a)
    q2 = 2.0 * a * a / (1.0 + a)
    variance = (a * (1.0 - a) + (n_bad - 1) * (q1 - a * a) + (n_good - 1) * (q2 - a * a)) / (
        n_bad * n_good
    )
    return float(np.sqrt(max(variance, 0.0)))
