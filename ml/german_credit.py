"""Benchmark both model families on the public German Credit data.

creditlake's own data is synthetic, so a model that scores well on it proves little about the
modelling code. The UCI Statlog German Credit data (1,000 applicants, 30% bad, CC BY 4.0; see
``data/german_credit/README.md``) is the classic public credit-scoring benchmark, with published
logistic-regression scorecards at AUC around 0.75–0.80 under cross-validation. :func:`main` runs
repeated stratified k-fold cross-validation of the *same* builders that ``ml.train`` uses and
logs the protocol and the mean ± standard deviation of AUC and KS per model to the MLflow
experiment ``german_credit_benchmark``.

The data is read from the repository's copy (``data/german_credit/``), checked against the MD5
of the published file, so a fresh clone runs the benchmark without anything else.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from creditlake.progress import Progress
from creditlake.settings import PROJECT_ROOT, Settings, get_settings
from ml.fitting import FIT_THREADS, build_model
from ml.metrics import discrimination
from ml.models import MODEL_FAMILIES, SCORE_SCALE, FeatureSpec
from ml.tracking import configure_mlflow, ensure_experiment, readable, write_report_csv

DATA_DIR = PROJECT_ROOT / "data" / "german_credit"
DATA_FILE = DATA_DIR / "german_credit.csv"
DATA_MD5 = "712bf57e22db0170159f6172363cca76"
TARGET = "creditability"
BAD = "bad"
GOOD = "good"
EXPERIMENT = "german_credit_benchmark"


class GermanCreditDataError(ValueError):
    """The repository copy of German Credit is missing or not the published file."""


def load_german_credit(path: Path = DATA_FILE) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and the label (1 = ``creditability`` bad) from the repository copy."""
    if not path.is_file():
        raise GermanCreditDataError(
            f"{path} is missing: it is part of the repository (see {DATA_DIR / 'README.md'})"
        )
    digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    if digest != DATA_MD5:
        raise GermanCreditDataError(
            f"{path} has MD5 {digest}, not the published file's {DATA_MD5}; restore it from git"
        )
    frame = pd.read_csv(path)
    if TARGET not in frame.columns:
        raise GermanCreditDataError(f"{path} has no {TARGET!r} column")
    unexpected = sorted(set(frame[TARGET].unique()) - {BAD, GOOD})
    if unexpected:
        raise GermanCreditDataError(f"{path}: {TARGET} has unexpected values {unexpected}")
    labels = (frame.pop(TARGET) == BAD).astype(int).to_numpy()
    return frame, labels


def cross_validate(
    x: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    *,
    repeats: int,
    folds: int,
    seed: int,
    families: tuple[str, ...] = MODEL_FAMILIES,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per (repeat, fold, model family) with test-fold AUC, KS, Gini and fit time.

    Every family sees exactly the same folds, so their scores can be compared fold by fold.
    ``progress`` gets one line per repeat, with the estimate of the time left.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    if folds < 2 or repeats < 1:
        raise ValueError(f"need folds >= 2 and repeats >= 1, got folds={folds}, repeats={repeats}")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    rows: list[dict[str, Any]] = []
    steps = Progress(["repeat"] * repeats, progress or (lambda _: None))
    repeat_started = time.perf_counter()
    for index, (train_rows, test_rows) in enumerate(splitter.split(x, y)):
        for family in families:
            started = time.perf_counter()
            fitted = build_model(
                family,
                x.iloc[train_rows],
                y[train_rows],
                spec,
                seed=seed,
                num_threads=FIT_THREADS,  # as training fits
            )
            seconds = time.perf_counter() - started
            scores = discrimination(y[test_rows], fitted.predict_pd(x.iloc[test_rows]))
            rows.append(
                {
                    "repeat": index // folds + 1,
                    "fold": index % folds + 1,
                    "model_family": family,
                    "test_rows": len(test_rows),
                    **scores,
                    "fit_seconds": seconds,
                }
            )
        if index % folds == folds - 1:
            done = pd.DataFrame(rows)
            aucs = done.groupby("model_family")["auc"].mean()
            steps.finished(
                "repeat",
                time.perf_counter() - repeat_started,
                f"repeat {index // folds + 1} of {repeats} ({folds} folds): mean AUC so far "
                + ", ".join(f"{family} {auc:.3f}" for family, auc in aucs.items()),
            )
            repeat_started = time.perf_counter()
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation of each metric per model family."""
    summary = results.groupby("model_family", sort=False).agg(
        fits=("auc", "size"),
        auc_mean=("auc", "mean"),
        auc_std=("auc", "std"),
        ks_mean=("ks", "mean"),
        ks_std=("ks", "std"),
        gini_mean=("gini", "mean"),
        fit_seconds_mean=("fit_seconds", "mean"),
    )
    return summary.reset_index()


def summary_markdown(summary: pd.DataFrame, protocol: dict[str, Any]) -> str:
    lines = [
        "# German Credit benchmark",
        "",
        f"Protocol: {protocol['repeats']} × repeated stratified {protocol['folds']}-fold "
        f"cross-validation (seed {protocol['seed']}), {protocol['rows']} applicants, "
        f"{protocol['bad_rate']:.0%} bad; target `{TARGET}` = {BAD} → 1.",
        "Data: UCI Statlog (German Credit Data), CC BY 4.0 (data/german_credit/README.md).",
        "",
        "| model | fits | AUC mean ± std | KS mean ± std | Gini mean |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.model_family} | {r.fits} | {r.auc_mean:.4f} ± {r.auc_std:.4f} "
        f"| {r.ks_mean:.4f} ± {r.ks_std:.4f} | {r.gini_mean:.4f} |"
        for r in summary.itertuples()
    ]
    return "\n".join(lines) + "\n"


def main(
    settings: Settings | None = None,
    repeats: int = 10,
    folds: int = 5,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Cross-validate both families on German Credit and log one MLflow run with the summary."""
    settings = settings or get_settings()
    started = time.perf_counter()
    x, y = load_german_credit()
    spec = FeatureSpec.infer(x)
    results = cross_validate(x, y, spec, repeats=repeats, folds=folds, seed=seed, progress=progress)
    summary = summarise(results)
    protocol = {
        "data": "UCI Statlog German Credit (CC BY 4.0)",
        "data_md5": DATA_MD5,
        "rows": len(y),
        "bad_rate": float(y.mean()),
        "cv": "RepeatedStratifiedKFold",
        "repeats": repeats,
        "folds": folds,
        "seed": seed,
        "target": f"{TARGET} == {BAD!r} -> 1",
        "models": ",".join(MODEL_FAMILIES),
        "score_scale": SCORE_SCALE.describe(),
        "n_numeric": len(spec.numeric),
        "n_categorical": len(spec.categorical),
        "lightgbm_threads": FIT_THREADS,
    }
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, EXPERIMENT, settings)
    with (
        tempfile.TemporaryDirectory(prefix="german_credit_") as tmp,
        mlflow.start_run(
            experiment_id=experiment_id, run_name=f"german credit {repeats}x{folds}-fold CV"
        ) as run,
    ):
        folder = Path(tmp)
        mlflow.log_params(readable(protocol))
        for row in summary.itertuples():
            mlflow.log_metrics(
                {
                    f"{row.model_family}_auc_mean": row.auc_mean,
                    f"{row.model_family}_auc_std": row.auc_std,
                    f"{row.model_family}_ks_mean": row.ks_mean,
                    f"{row.model_family}_ks_std": row.ks_std,
                    f"{row.model_family}_gini_mean": row.gini_mean,
                }
            )
        write_report_csv(summary, folder / "summary.csv")
        write_report_csv(results, folder / "folds.csv")
        (folder / "summary.md").write_text(summary_markdown(summary, protocol), encoding="utf-8")
        mlflow.log_artifacts(str(folder))
        mlflow.log_metric("wall_seconds", time.perf_counter() - started)
    return json.loads(
        json.dumps(
            {
                "run_id": run.info.run_id,
                "experiment": EXPERIMENT,
                "protocol": protocol,
                "models": {
                    r["model_family"]: {k: v for k, v in r.items() if k != "model_family"}
                    for r in summary.to_dict(orient="records")
                },
                "wall_seconds": time.perf_counter() - started,
            },
            default=float,
        )
    )
