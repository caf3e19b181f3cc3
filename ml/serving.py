"""Serving: the MLflow ``pyfunc`` wrapper of any fitted model family, and what loading needs.

:class:`CreditPDModel` gives every family one output contract: ``pd`` (probability of the
label), ``score`` on the platform's points scale and ``reasons``, the row's top adverse factors
(:meth:`ml.models.FittedPDModel.adverse_factors`), so scoring, decisions and monitoring never care
which family is champion. :func:`conform_to_schema` casts a scoring frame to a logged model's
signature; :func:`pickled_by_value` and :func:`pip_requirements` make a logged model loadable in
a process that has the libraries but not this repository.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mlflow
import pandas as pd
from mlflow.types import DataType, Schema

from ml.models import SCORE_SCALE, FeatureError, FittedPDModel, ScoreScale

#: Separator of the adverse factors in the ``reasons`` output (feature names never contain it).
REASON_SEPARATOR = ";"


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
        reasons = [REASON_SEPARATOR.join(f) for f in self.fitted.adverse_factors(model_input)]
        return pd.DataFrame(
            {"pd": probability, "score": self.scale.score(probability), "reasons": reasons},
            index=model_input.index,
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
