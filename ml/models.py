"""The two model families for the application PD model: what a fitted model is and says.

A logistic-regression scorecard on weight-of-evidence bins (:class:`ScorecardPD`, the baseline a
credit committee reads line by line) and gradient-boosted trees (:class:`LightGBMPD`); how each
is fitted is :mod:`ml.fitting`. Both are a :class:`FittedPDModel`, which also says why a row
scored as it did: each feature's push on the log-odds of the label
(:meth:`FittedPDModel.risk_contributions`) and the top adverse factors a decision can quote
(:meth:`FittedPDModel.adverse_factors`).
:class:`ml.serving.CreditPDModel` wraps either as an MLflow ``pyfunc`` model with one output
contract: ``pd`` (probability of the label), ``score`` on one points scale (:data:`SCORE_SCALE`)
and ``reasons``, so scoring, monitoring and decisioning never care which family is champion.

Score scale, stated once: **600 points at good:bad odds of 50:1, 20 points to double the odds**
(PDO 20). Hence ``score = offset + factor · ln((1 − pd) / pd)`` with ``factor = 20 / ln 2 ≈ 28.85``
and ``offset = 600 − factor · ln 50 ≈ 487.12``; higher is safer. This is exactly optbinning's
``pdo_odds`` scaling, so the scorecard's points table adds up to the served score.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, Schema

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
        outputs = [
            ColSpec(DataType.double, "pd"),
            ColSpec(DataType.double, "score"),
            ColSpec(DataType.string, "reasons"),
        ]
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


#: How many adverse factors a decision quotes, and the smallest push on the log-odds (about 1% of
#: the odds) that counts as one.
REASON_COUNT = 3
ADVERSE_MIN_LOG_ODDS = 0.01


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

    @abc.abstractmethod
    def risk_contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each feature's push on the log-odds of the label, per row (positive = riskier)."""

    def adverse_factors(self, frame: pd.DataFrame, top: int = REASON_COUNT) -> list[list[str]]:
        """Per row, up to ``top`` features that raised its risk most, largest first.

        These are the reasons a decision can give an applicant (the "principal reasons" of an
        adverse-action notice): only features that pushed the risk up are named.
        """
        contributions = self.risk_contributions(frame)
        values = contributions.to_numpy(dtype=float)
        names = np.asarray(contributions.columns, dtype=object)
        order = np.argsort(-values, axis=1, kind="stable")[:, :top]
        return [
            [str(names[i]) for i in row_order if row[i] > ADVERSE_MIN_LOG_ODDS]
            for row, row_order in zip(values, order, strict=True)
        ]


@dataclass
class ScorecardPD(FittedPDModel):
    """The optbinning scorecard; ``estimator`` is the fitted ``optbinning.Scorecard``."""

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self.spec.prepare(frame))[:, 1]

    def risk_contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Coefficient × WoE of each selected variable, above that variable's safest bin.

        The scorecard's points are an affine map of these (fewer points = more risk), so a
        variable's contribution is exactly the points the applicant lost on it against the best
        bin: the classic "points below maximum" reason code.
        """
        process = self.estimator.binning_process_
        names = [str(n) for n in process.get_support(names=True)]
        coefficients = self.estimator.estimator_.coef_[0]
        woe = process.transform(self.spec.prepare(frame), metric="woe")[names].to_numpy(float)
        return pd.DataFrame(
            woe * coefficients - self._safest(names, coefficients),
            columns=names,
            index=frame.index,
        )

    def _safest(self, names: list[str], coefficients: np.ndarray) -> np.ndarray:
        """Each selected variable's coefficient × WoE in its safest bin, computed once per model.

        optbinning builds a variable's whole bin table to give its WoEs, which took longer than
        the rest of explaining a batch; the values never change once the model is fitted. A
        model unpickled from before this cache fills it on first use.
        """
        cached = self.__dict__.get("_safest_pushes")
        if cached is None:
            cached = np.array(
                [
                    min(coefficient * bin_woe for bin_woe in self._bin_woes(name))
                    for name, coefficient in zip(names, coefficients, strict=True)
                ]
            )
            self.__dict__["_safest_pushes"] = cached
        return cached

    def _bin_woes(self, name: str) -> list[float]:
        table = self.estimator.binning_process_.get_binned_variable(name).binning_table.build()
        values = pd.to_numeric(table["WoE"], errors="coerce").dropna()
        return [float(v) for v in values] or [0.0]

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

    def risk_contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's per-row SHAP values (TreeSHAP, log-odds), against the average prediction."""
        values = self.estimator.predict(self.encode(frame), pred_contrib=True)
        return pd.DataFrame(values[:, :-1], columns=self.spec.columns, index=frame.index)
