"""ml.german_credit: the repository copy of the data and a small cross-validation run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from ml import german_credit
from ml.tracking import client_for


def test_data_is_the_published_file_in_the_repository() -> None:
    assert german_credit.DATA_FILE.is_relative_to(Path(german_credit.__file__).parent.parent)
    digest = hashlib.md5(german_credit.DATA_FILE.read_bytes(), usedforsecurity=False)
    assert digest.hexdigest() == "712bf57e22db0170159f6172363cca76"
    readme = (german_credit.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "Statlog" in readme
    x, y = german_credit.load_german_credit()
    assert x.shape == (1000, 20)
    assert int(y.sum()) == 300  # 300 bad, 700 good


def test_a_changed_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "german_credit.csv"
    copy.write_bytes(german_credit.DATA_FILE.read_bytes() + b"\n")
    with pytest.raises(german_credit.GermanCreditDataError, match="not the published file"):
        german_credit.load_german_credit(copy)
    with pytest.raises(german_credit.GermanCreditDataError, match="is missing"):
        german_credit.load_german_credit(tmp_path / "absent.csv")


def test_summarise_by_hand() -> None:
    folds = pd.DataFrame(
        {
            "model_family": ["a", "a", "b", "b"],
            "auc": [0.7, 0.8, 0.6, 0.6],
            "ks": [0.3, 0.5, 0.2, 0.4],
            "gini": [0.4, 0.6, 0.2, 0.2],
            "fit_seconds": [1, 1, 2, 2],
        }
    )
    summary = german_credit.summarise(folds).set_index("model_family")
    assert summary.loc["a", "auc_mean"] == pytest.approx(0.75)
    assert summary.loc["a", "auc_std"] == pytest.approx(0.0707106781)  # sample std
    assert summary.loc["b", "ks_std"] == pytest.approx(0.1414213562)
    assert summary.loc["b", "fits"] == 2


def test_three_fold_benchmark_runs_and_logs_to_mlflow(ml_platform) -> None:
    result = german_credit.main(ml_platform, repeats=1, folds=3)
    for family in ("lr_scorecard", "lightgbm"):
        model = result["models"][family]
        assert model["fits"] == 3
        assert model["auc_mean"] > 0.65, family
        assert 0 < model["ks_mean"] < 1
    client = client_for(ml_platform)
    run = client.get_run(result["run_id"])
    assert run.data.params["folds"] == "3" and run.data.params["repeats"] == "1"
    assert run.data.metrics["lr_scorecard_auc_mean"] == pytest.approx(
        result["models"]["lr_scorecard"]["auc_mean"]
    )
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "german_credit_benchmark"
    assert experiment.artifact_location.endswith("/german_credit_benchmark")
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {
        "folds.csv",
        "summary.csv",
        "summary.md",
    }
