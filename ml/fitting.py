"""Fitting the two model families of :mod:`ml.models` on a training set.

1. :func:`build_scorecard`: a logistic-regression scorecard on weight-of-evidence bins
   (optbinning ``BinningProcess`` + ``Scorecard``). It is the baseline a credit committee can
   read line by line: every bin of every variable carries its points.
2. :func:`build_lightgbm`: gradient-boosted trees (``LGBMClassifier``) with native categorical
   handling and the number of trees chosen by cross-validation inside the training rows only,
   never from the out-of-time rows that judge it.

:func:`build_model` is the one entry point training, inclusion and the benchmarks call. What a
fit returns (:class:`ml.models.FittedPDModel`) lives apart from how it is fitted, so scoring
imports only what a fitted model needs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ml.models import (
    LIGHTGBM,
    LR_SCORECARD,
    MODEL_FAMILIES,
    SCORE_SCALE,
    FeatureError,
    FeatureSpec,
    FittedPDModel,
    LightGBMPD,
    ScorecardPD,
    ScoreScale,
)


def _labels(y: np.ndarray | pd.Series) -> np.ndarray:
    labels = np.asarray(y, dtype=int).ravel()
    if not np.isin(labels, (0, 1)).all() or np.unique(labels).size != 2:
        raise FeatureError("the label must take both values 0 (good) and 1 (bad)")
    return labels


def build_scorecard(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    spec: FeatureSpec,
    *,
    scale: ScoreScale = SCORE_SCALE,
    min_iv: float | None = None,
    regularisation_c: float = 1.0,
) -> ScorecardPD:
    """Fit the WoE logistic-regression scorecard.

    Every feature is binned optimally: numbers into bins whose bad rate rises or falls
    monotonically (``auto_asc_desc``), so each variable's points tell one story a credit committee
    can check ("more inquiries, fewer points"), and it halves the binning time against optbinning's
    default trend search; categories into groups of levels; missing values get their own bin.

    By default every variable stays in (``min_iv=None``): the L2-penalised regression weighs the
    weak ones down itself, and dropping variables below an information value of 0.02 (Siddiqi's
    "not predictive") cost AUC everywhere it was measured, on German Credit (0.7863 → 0.7896, 10×5
    cross-validation) and out of time on the demo's application and fraud models (about 0.005
    each). With a ``min_iv``, variables below it are left out; when none reaches it (pure noise)
    the scorecard keeps them all rather than fail, so the run still produces a model and the
    champion gate, not an exception, refuses it.
    """
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    labels = _labels(y)
    features = spec.prepare(x)

    def unfitted(selection: dict | None) -> Scorecard:
        return Scorecard(
            binning_process=BinningProcess(
                variable_names=spec.columns,
                categorical_variables=list(spec.categorical),
                selection_criteria=selection,
                binning_fit_params={
                    name: {"monotonic_trend": "auto_asc_desc"} for name in spec.numeric
                },
            ),
            estimator=LogisticRegression(C=regularisation_c, max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params=scale.optbinning_params(),
        )

    scorecard = unfitted(None if min_iv is None else {"iv": {"min": min_iv}})
    selection_fallback = False
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No variables were selected")
        try:
            scorecard.fit(features, labels)
        except ValueError:
            # optbinning bins before it fits the regression: only "no variable passed the IV
            # filter" is recoverable; any other failure is a real error.
            binned = scorecard.binning_process_
            if binned is None or binned.get_support().any():
                raise
            selection_fallback = True
            scorecard = unfitted(None).fit(features, labels)
    selected = [str(name) for name in scorecard.binning_process_.get_support(names=True)]
    fitted = ScorecardPD(
        family=LR_SCORECARD,
        spec=spec,
        estimator=scorecard,
        details={
            "min_iv": min_iv,
            "regularisation_c": regularisation_c,
            "selected_features": selected,
            "iv_selection_fallback": selection_fallback,
            "score_scale": scale.describe(),
        },
    )
    # The safest bins are fixed once fitted: found now, they are pickled with the model, so
    # MLflow's load-back check and every scoring process do not build each bin table again.
    fitted.risk_contributions(x.head(1))
    return fitted


#: LightGBM settings, chosen on German Credit by repeated cross-validation (``creditlake
#: german-credit``): small trees (8 leaves), a slow learning rate, an L2 penalty and row and column
#: subsampling keep a model trained on a few thousand loans from memorising them; the number of
#: trees is chosen by cross-validation inside the training rows (:func:`build_lightgbm`).
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.02,
    "num_leaves": 8,
    "max_depth": -1,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 5.0,
    "min_data_per_group": 50,
    "cat_smooth": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
MAX_TREES = 2000
EARLY_STOPPING_ROUNDS = 100
#: LightGBM fits on one thread. A boosting iteration on these few thousand rows is a series of
#: short parallel regions, and a second OpenMP thread spends them waiting: sleeping between
#: regions (``OMP_WAIT_POLICY=passive``, which the runtime sets so that waiting threads do not
#: spin against a Spark JVM or a parallel task) made the credit PD training run 20.7 s against
#: 11.7 s on one thread; spinning, it took 9.3 s on a quiet machine but 20-99 s beside one busy
#: core, against 11.5 s on one thread (``ml.train.main`` for the demo's 2026-01-04, 2 cores).
FIT_THREADS = 1
#: A fitted model predicts on two: scoring a day's rows with their adverse factors
#: (``pred_contrib``) is one long parallel region, 4.8 s on two threads against 8.4 s on one
#: for the demo's 29,909 applications.
PREDICT_THREADS = 2
INNER_FOLDS = 5


def build_lightgbm(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    spec: FeatureSpec,
    *,
    seed: int = 42,
    inner_folds: int = INNER_FOLDS,
    num_threads: int = FIT_THREADS,
    groups: np.ndarray | None = None,
) -> LightGBMPD:
    """Fit LightGBM with the tree count chosen by cross-validation, then refit on all rows given.

    ``x`` is the training data only (the training vintages, or a cross-validation training
    fold). A stratified ``inner_folds``-fold cross-validation on it (``lightgbm.cv``) finds the
    number of trees at which the mean validation AUC stops improving; the final model is refitted
    on all of ``x`` with that many trees. Every training row both trains and validates, which on
    German Credit gave 0.792 mean AUC against 0.777 for early stopping on a single 20% holdout
    (which wastes a fifth of the rows and picks the tree count from one noisy split); the
    out-of-time rows never influence any choice. Where rows recur for one unit (``groups``, a
    loan's month-end snapshots: :attr:`ml.names.ModelTarget.cv_group`), the folds keep each
    unit's rows together (``StratifiedGroupKFold``), or the validation rows would be near-copies
    of training rows and the tree count would follow them. Threads and seeds are fixed
    (``deterministic=True``), so the same data gives the same model.
    """
    import lightgbm

    labels = _labels(y)
    prepared = spec.prepare(x)
    categories = {
        name: sorted(prepared[name].dropna().unique().tolist()) for name in spec.categorical
    }
    encoded = LightGBMPD(LIGHTGBM, spec, None, categories=categories).encode(prepared)
    params = {**LIGHTGBM_PARAMS, "seed": seed, "num_threads": num_threads, "metric": "auc"}
    folds = max(2, min(inner_folds, int(np.bincount(labels).min())))
    dataset = lightgbm.Dataset(
        encoded,
        labels,
        categorical_feature=list(spec.categorical) or "auto",
        free_raw_data=False,
    )
    if groups is None:
        splits: dict[str, Any] = {"nfold": folds, "stratified": True, "seed": seed}
    else:
        from sklearn.model_selection import StratifiedGroupKFold

        folds = max(2, min(folds, len(np.unique(groups))))
        grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = {"folds": list(grouped.split(encoded, labels, groups))}
    history = lightgbm.cv(
        params,
        dataset,
        num_boost_round=MAX_TREES,
        callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        **splits,
    )
    # LightGBM's built-in AUC only steers the tree count (a part of fitting); every AUC the
    # project reports is measured by ml.metrics.
    trees = len(history["valid auc-mean"])
    sklearn_params = {k: v for k, v in params.items() if k not in ("seed", "metric")}
    final = lightgbm.LGBMClassifier(**sklearn_params, n_estimators=trees, random_state=seed)
    final.fit(encoded, labels, categorical_feature=list(spec.categorical) or "auto")
    final.set_params(num_threads=PREDICT_THREADS)  # read again by every predict
    return LightGBMPD(
        family=LIGHTGBM,
        spec=spec,
        estimator=final,
        categories=categories,
        details={
            "best_iteration": trees,
            "inner_cv_folds": folds,
            "inner_cv_grouped": groups is not None,
            "inner_cv_valid_auc": float(history["valid auc-mean"][-1]),
            "seed": seed,
            "num_threads": num_threads,
            "predict_threads": PREDICT_THREADS,
            **{f"param_{k}": v for k, v in LIGHTGBM_PARAMS.items()},
        },
    )


def build_model(
    family: str,
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    spec: FeatureSpec,
    *,
    seed: int = 42,
    num_threads: int = FIT_THREADS,
    groups: np.ndarray | None = None,
) -> FittedPDModel:
    """One entry point for both families, so training and the benchmark run the same code.

    ``groups`` matter to LightGBM's inner cross-validation only (the scorecard has none).
    """
    if family == LR_SCORECARD:
        return build_scorecard(x, y, spec)
    if family == LIGHTGBM:
        return build_lightgbm(x, y, spec, seed=seed, num_threads=num_threads, groups=groups)
    raise ValueError(f"unknown model family {family!r}; known: {', '.join(MODEL_FAMILIES)}")
