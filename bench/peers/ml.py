"""The ml case's child processes, on a platform the demo built (``bench/cases/ml.py``).

    python -m bench.peers.ml train --model credit_pd --date D   # MLflow's share of training
    python -m bench.peers.ml train --model credit_pd --date D --warm  # ... of a second run
    python -m bench.peers.ml load  --model credit_pd            # loading the champion
    python -m bench.peers.ml score --model credit_pd            # rows per second, two ways

Each prints one JSON object.

- ``train`` runs :func:`ml.train.main` under ``cProfile`` and counts as MLflow's the time spent in
  calls from outside the ``mlflow`` package into it (the profile's call edges), so the figure
  includes what MLflow does on our behalf (serialising models, the store's SQL) and nothing
  that merely runs beside it. The profiler slows pure Python more than LightGBM's C++, so the
  share is an estimate; the wall time is reported with it.
- ``load`` times :func:`ml.score.load_champion` after ``ml.score`` is imported: registry look-up,
  artifact download and unpickling, with the model family's own libraries (imported by the
  unpickling) counted, as a scoring task pays them.
- ``score`` scores every row of the application features mart through the champion's pyfunc
  (``pd``, ``score`` and the adverse-factor ``reasons``) and through the fitted model's bare
  ``predict_pd``, and reports rows per second for each.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from pathlib import Path
from typing import Any

MLFLOW_FILES = "/site-packages/mlflow/"
PROJECT = str(Path(__file__).resolve().parents[2]) + "/"


def mlflow_seconds(profile: cProfile.Profile) -> float:
    """Seconds spent in calls into the ``mlflow`` package from the project's own code.

    Only call edges whose caller is a file of the project count. A module of MLflow imported
    during the run executes under ``builtins.exec`` (a caller with no file, ``~``): counting
    those edges too counted the import a second time, as it already sits inside the call from
    our code that triggered it (about 1.45 s of ``credit_pd``'s figure).
    """
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = 0.0
    for func, (*_, callers) in stats.items():
        if MLFLOW_FILES not in func[0]:
            continue
        for caller, edge in callers.items():
            if caller[0].startswith(PROJECT) and "/site-packages/" not in caller[0]:
                total += edge[3]
    return total


def train(model: str, as_of_date: str, warm: bool = False) -> dict[str, Any]:
    """One training run under the profiler; ``warm`` runs the same training once before it,
    unprofiled, so the figure is a run in a process that has already imported MLflow and
    configured its store, as every training run after the first is in the demo's process."""
    from ml.train import main

    if warm:
        main(as_of_date, model=model)
    profile = cProfile.Profile()
    started = time.monotonic()
    profile.enable()
    result = main(as_of_date, model=model)
    profile.disable()
    seconds = time.monotonic() - started
    in_mlflow = mlflow_seconds(profile)
    return {
        "train_seconds": round(seconds, 2),
        "mlflow_seconds": round(in_mlflow, 2),
        "mlflow_share": round(in_mlflow / seconds, 4),
        "champion_version": result.champion_version,
        "warm": warm,
    }


def load(model: str) -> dict[str, Any]:
    from creditlake.settings import get_settings
    from ml.score import load_champion

    settings = get_settings()
    started = time.monotonic()
    _, version = load_champion(settings, model)
    return {"load_seconds": round(time.monotonic() - started, 2), "version": int(version)}


def score(model: str) -> dict[str, Any]:
    import duckdb

    from creditlake.settings import get_settings
    from ml.names import FEATURES_TABLE
    from ml.score import load_champion
    from ml.serving import conform_to_schema

    settings = get_settings()
    champion, _ = load_champion(settings, model)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        frame = con.sql(f"select * from {FEATURES_TABLE}").df()
    inputs = conform_to_schema(frame, champion.metadata.get_input_schema())
    started = time.monotonic()
    champion.predict(inputs)
    pyfunc = time.monotonic() - started
    fitted = champion.unwrap_python_model().fitted
    started = time.monotonic()
    fitted.predict_pd(inputs)
    raw = time.monotonic() - started
    return {
        "rows": len(inputs),
        "family": fitted.family,
        "pyfunc_rows_per_second": round(len(inputs) / pyfunc),
        "raw_rows_per_second": round(len(inputs) / raw),
        "pyfunc_seconds": round(pyfunc, 3),
        "raw_seconds": round(raw, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.ml")
    parser.add_argument("what", choices=("train", "load", "score"))
    parser.add_argument("--model", default="credit_pd")
    parser.add_argument("--date")
    parser.add_argument(
        "--warm", action="store_true", help="train: profile a second run in the same process"
    )
    args = parser.parse_args(argv)
    if args.what == "train":
        result = train(args.model, args.date, warm=args.warm)
    elif args.what == "load":
        result = load(args.model)
    else:
        result = score(args.model)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
