"""The two model families for the application PD model, and the wrapper that serves both.

1. :func:`build_scorecard`: a logistic-regression scorecard on weight-of-evidence bins
   (optbinning ``BinningProcess`` + ``Scorecard``). It is the baseline a credit committee can
   read line by line: every bin of every variable carries its points.
2. :func:`build_lightgbm`: gradient-boosted trees (``LGBMClassifier``) with native categorical
   handling and early stopping on a validation split carved from the training rows only, never
   from the out-of-time rows that judge it.

Both return a :class:`FittedPDModel`, and :class:`CreditPDModel` wraps either as an MLflow
``pyfunc`` model with one output contract: columns ``pd`` (probability of going bad) and
``score`` on one points scale (:data:`SCORE_SCALE`), so scoring, monitoring and decisioning never
care which family is champion.

Score scale, stated once: **600 points at good:bad odds of 50:1, 20 points to double the odds**
(PDO 20). Hence ``score = offset + factor · ln((1 − pd) / pd)`` with ``factor = 20 / ln 2 ≈ 28.85``
and ``offset = 600 − factor · ln 50 ≈ 487.12``; higher is safer. This is exactly optbinning's
``pdo_odds`` scaling, so the scorecard's points table adds up to the served score.
"""

from __future__ import annotations

import abc
import contextlib
import math
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, Schema

from ml import metrics

LR_SCORECARD = "lr_scorecard"
LIGHTGBM = "lightgbm"
MODEL_FAMILIES = (LR_SCORECARD, LIGHTGBM)

#: Predicted PDs are clipped into [PD_FLOOR, 1 − PD_FLOOR] before taking log-odds, so a score is
#: always finite (a PD of 1e-9 is no more believable than one of 1e-6).
PD_FLOOR = 1e-6


class FeatureError(ValueError):
    """The frame handed to a model lacks features or has unusable ones; the message names them."""


@dataclass(frozen=True)
class ScoreScale:
    """Points scaling shared by every model family (see the module docstring)."""

    pdo: float = 20.0
    base_points: float = 600.0
    base_odds: float = 50.0  # good:bad odds that earn base_points

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def score(self, pd_hat: np.ndarray) -> np.ndarray:
        """Points for each PD; monotone decreasing in PD."""
        p = np.clip(np.asarray(pd_hat, dtype=float), PD_FLOOR, 1 - PD_FLOOR)
        return self.offset + self.factor * np.log((1 - p) / p)

    def optbinning_params(self) -> dict[str, float]:
        return {"pdo": self.pdo, "odds": self.base_odds, "scorecard_points": self.base_points}

    def describe(self) -> str:
        return (
            f"{self.base_points:g} points at good:bad odds {self.base_odds:g}:1, "
            f"{self.pdo:g} points to double the odds (score = {self.offset:.2f} + "
            f"{self.factor:.4f} * ln((1 - pd) / pd))"
        )


SCORE_SCALE = ScoreScale()


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns a model uses, and whether each is numeric or categorical.

    Fixing the types at training time (numbers as float64, categories as text) is what makes
    scoring reproducible: an integer column that later arrives with a null, or a code stored as
    a number one day and as text the next, still means the same thing to the model.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @classmethod
    def infer(cls, frame: pd.DataFrame, columns: list[str] | None = None) -> FeatureSpec:
        """Numbers and booleans are numeric; text is categorical; anything else is refused."""
        columns = list(frame.columns) if columns is None else columns
        numeric, categorical, refused = [], [], []
        for name in columns:
            dtype = frame[name].dtype
            if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
                numeric.append(name)
            elif pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
                categorical.append(name)
            else:
                refused.append(f"{name} ({dtype})")
        if refused:
            raise FeatureError(
                "columns that are neither numeric nor text cannot be model features: "
                + ", ".join(refused)
            )
        if not numeric and not categorical:
            raise FeatureError("no feature columns given")
        return cls(tuple(numeric), tuple(categorical))

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns, in order, typed as at training time (missing stays missing)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise FeatureError(f"input lacks feature columns: {', '.join(missing)}")
        prepared = {}
        for name in self.numeric:
            column = frame[name]
            if pd.api.types.is_bool_dtype(column.dtype) or column.dtype == "boolean":
                column = column.astype("float64")
            prepared[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        for name in self.categorical:
            prepared[name] = frame[name].astype("str")
        return pd.DataFrame(prepared, index=frame.index)[self.columns]

    def signature(self) -> ModelSignature:
        """MLflow signature: every feature optional (a value may be missing), two outputs."""
        inputs = [ColSpec(DataType.double, name, required=False) for name in self.numeric]
        inputs += [ColSpec(DataType.string, name, required=False) for name in self.categorical]
        outputs = [ColSpec(DataType.double, "pd"), ColSpec(DataType.double, "score")]
        return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))

    def typical_row(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One synthetic row (medians and most frequent categories) to serve as input example.

        An MLflow input example is stored in plain text next to the model; a synthetic row
        shows the format without copying any applicant's record into the artifact store.
        """
        prepared = self.prepare(frame)
        row: dict[str, Any] = {}
        for name in self.numeric:
            median = prepared[name].median()
            row[name] = [float(f"{median:.6g}") if pd.notna(median) else 0.0]
        for name in self.categorical:
            modes = prepared[name].dropna().mode()
            row[name] = [str(modes.iloc[0]) if len(modes) else "unknown"]
        return self.prepare(pd.DataFrame(row))

    def to_dict(self) -> dict[str, list[str]]:
        return {"numeric": list(self.numeric), "categorical": list(self.categorical)}


@dataclass
class FittedPDModel(abc.ABC):
    """A fitted model of either family; ``predict_pd`` takes raw feature frames."""

    family: str
    spec: FeatureSpec
    estimator: Any
    details: dict[str, Any] = field(default_factory=dict)

    @abc.abstractmethod
    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of going bad for each row of ``frame``."""


@dataclass
class ScorecardPD(FittedPDModel):
    """The optbinning scorecard; ``estimator`` is the fitted ``optbinning.Scorecard``."""

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self.spec.prepare(frame))[:, 1]

    def points_table(self) -> pd.DataFrame:
        """Variable, bin, counts, event rate, WoE, IV, coefficient and points of every bin."""
        return self.estimator.table(style="detailed").reset_index(drop=True)


@dataclass
class LightGBMPD(FittedPDModel):
    """LightGBM; ``categories`` pins each categorical column's levels to those seen in training."""

    categories: dict[str, list[str]] = field(default_factory=dict)

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Typed features with categoricals as ``pandas.Categorical`` over the training levels.

        A level never seen in training becomes missing instead of silently taking the code of
        another level.
        """
        prepared = self.spec.prepare(frame)
        for name, levels in self.categories.items():
            prepared[name] = pd.Categorical(prepared[name], categories=levels)
        return prepared

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self.encode(frame))[:, 1]


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
    min_iv: float = 0.02,
    regularisation_c: float = 1.0,
) -> ScorecardPD:
    """Fit the WoE logistic-regression scorecard.

    Every feature is binned optimally: numbers into bins whose bad rate rises or falls
    monotonically (``auto_asc_desc``), so each variable's points tell one story a credit committee
    can check ("more inquiries, fewer points"), and it halves the binning time against optbinning's
    default trend search; categories into groups of levels; missing values get their own bin.
    Variables with an information value below ``min_iv`` (0.02: "not predictive" in Siddiqi's
    convention) are left out. When none reaches it (pure noise) the scorecard keeps them all
    rather than fail, so the run still produces a model and the champion gate, not an exception,
    refuses it.
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

    scorecard = unfitted({"iv": {"min": min_iv}})
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
    return ScorecardPD(
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


#: LightGBM settings: shallow trees, row and column subsampling and an L2 penalty keep a model
#: trained on a few thousand loans from memorising them; early stopping picks the tree count.
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "n_estimators": 2000,
    "num_leaves": 15,
    "max_depth": -1,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "min_data_per_group": 50,
    "cat_smooth": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
EARLY_STOPPING_ROUNDS = 100


def build_lightgbm(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    spec: FeatureSpec,
    *,
    seed: int = 42,
    valid_fraction: float = 0.2,
    num_threads: int = 2,
) -> LightGBMPD:
    """Fit LightGBM with early stopping, then refit on all the rows given.

    ``x`` is the training data only (the training vintages, or a cross-validation training
    fold). A stratified ``valid_fraction`` of it is held out to find the number of trees by
    early stopping on AUC; the final model is then refitted on all of ``x`` with that number of
    trees, so no training row is wasted and the out-of-time rows never influence any choice.
    Threads and seeds are fixed (``deterministic=True``), so the same data gives the same model.
    """
    import lightgbm
    from sklearn.model_selection import train_test_split

    labels = _labels(y)
    prepared = spec.prepare(x)
    categories = {
        name: sorted(prepared[name].dropna().unique().tolist()) for name in spec.categorical
    }
    encoded = LightGBMPD(LIGHTGBM, spec, None, categories=categories).encode(prepared)
    fit_rows, valid_rows = train_test_split(
        np.arange(len(encoded)), test_size=valid_fraction, stratify=labels, random_state=seed
    )
    params = {**LIGHTGBM_PARAMS, "random_state": seed, "num_threads": num_threads}
    search = lightgbm.LGBMClassifier(**params)
    search.fit(
        encoded.iloc[fit_rows],
        labels[fit_rows],
        eval_X=(encoded.iloc[valid_rows],),
        eval_y=(labels[valid_rows],),
        eval_metric="auc",
        categorical_feature=list(spec.categorical) or "auto",
        callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    best_iteration = int(search.best_iteration_ or params["n_estimators"])
    # LightGBM's built-in AUC only steers early stopping (a part of fitting); the validation AUC
    # reported in ``details`` is measured by ml.metrics, like every other AUC of the project.
    valid_auc = metrics.auc(
        labels[valid_rows],
        search.predict_proba(encoded.iloc[valid_rows], num_iteration=best_iteration)[:, 1],
    )
    final = lightgbm.LGBMClassifier(**{**params, "n_estimators": best_iteration})
    final.fit(encoded, labels, categorical_feature=list(spec.categorical) or "auto")
    return LightGBMPD(
        family=LIGHTGBM,
        spec=spec,
        estimator=final,
        categories=categories,
        details={
            "best_iteration": best_iteration,
            "early_stopping_valid_auc": valid_auc,
            "valid_fraction": valid_fraction,
            "seed": seed,
            "num_threads": num_threads,
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
    num_threads: int = 2,
) -> FittedPDModel:
    """One entry point for both families, so training and the benchmark run the same code."""
    if family == LR_SCORECARD:
        return build_scorecard(x, y, spec)
    if family == LIGHTGBM:
        return build_lightgbm(x, y, spec, seed=seed, num_threads=num_threads)
    raise ValueError(f"unknown model family {family!r}; known: {', '.join(MODEL_FAMILIES)}")


class CreditPDModel(mlflow.pyfunc.PythonModel):
    """MLflow ``pyfunc`` wrapper: any fitted family in, ``pd`` and ``score`` out.

    The fitted model travels pickled inside this object; :func:`pickled_by_value` makes the
    creditlake classes themselves part of the pickle, so a process that loads
    ``models:/credit_pd@champion`` needs the libraries (optbinning, LightGBM, scikit-learn,
    pandas) but not this repository's code.
    """

    def __init__(self, fitted: FittedPDModel, scale: ScoreScale = SCORE_SCALE) -> None:
        self.fitted = fitted
        self.scale = scale

    @property
    def family(self) -> str:
        return self.fitted.family

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        probability = self.fitted.predict_pd(model_input)
        return pd.DataFrame(
            {"pd": probability, "score": self.scale.score(probability)}, index=model_input.index
        )


def conform_to_schema(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The columns a logged model's signature names, cast to the types it declares.

    MLflow refuses to widen integers to doubles on its own, and a warehouse column that is
    integer today may be decimal tomorrow; casting here keeps scoring independent of that, and
    using the *logged* signature (not today's code) keeps an older champion servable.
    """
    missing = [name for name in schema.input_names() if name not in frame.columns]
    if missing:
        raise FeatureError(f"the model needs columns the input lacks: {', '.join(missing)}")
    conformed = {}
    for spec in schema.inputs:
        column = frame[spec.name]
        if spec.type == DataType.string:
            conformed[spec.name] = column.astype("str")
        elif spec.type in (DataType.double, DataType.float):
            if pd.api.types.is_bool_dtype(column.dtype):
                column = column.astype("float64")
            conformed[spec.name] = pd.to_numeric(column, errors="coerce").astype("float64")
        else:
            conformed[spec.name] = column
    return pd.DataFrame(conformed, index=frame.index)


@contextlib.contextmanager
def pickled_by_value() -> Iterator[None]:
    """While logging a model, pickle the ``ml`` package's classes by value, not by import path."""
    import cloudpickle

    package = sys.modules["ml"]
    cloudpickle.register_pickle_by_value(package)
    try:
        yield
    finally:
        cloudpickle.unregister_pickle_by_value(package)


def pip_requirements() -> list[str]:
    """The libraries a loaded model needs, pinned to the versions it was trained with.

    Listing them explicitly also spares MLflow from inferring them in a subprocess, which takes
    several seconds per logged model.
    """
    requirements = []
    for package in ("mlflow", "cloudpickle", "numpy", "pandas", "scikit-learn", "optbinning"):
        with contextlib.suppress(PackageNotFoundError):
            requirements.append(f"{package}=={version(package)}")
    with contextlib.suppress(PackageNotFoundError):
        requirements.append(f"lightgbm=={version('lightgbm')}")
    return requirements
