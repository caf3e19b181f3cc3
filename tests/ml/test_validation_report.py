"""ml.validation_report: the HTML validation report of a version, section by section.

Both model families are fitted on the fixture population (tests/ml/conftest.py) and their
reports parsed back from HTML; every figure checked is recomputed here independently (scikit-
learn, SciPy, pandas, the models' own explanations), not read from the report's context.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from ml.data import labels_of, month_labels
from ml.features import select_features
from ml.fitting import build_model
from ml.lineage import TrainingLineage
from ml.models import LIGHTGBM, LR_SCORECARD, MODEL_FAMILIES, SCORE_SCALE
from ml.run_logging import ModelOutcome, evaluate
from ml.split import split_out_of_time
from ml.validation_report import ReportImages, build_validation_report
from ml.validation_sections import EXAMPLE_PERCENTILES
from tests.ml.conftest import FIXTURE_COLUMN_META, make_training_set

SECTIONS = [
    "purpose",
    "lineage",
    "features",
    "performance",
    "calibration",
    "stability",
    "fairness",
    "explanations",
    "gate",
    "limitations",
]
LINEAGE = TrainingLineage(
    snapshots={"bronze.applications": 1234567890123, "bronze.loans": 42},
    manifest_sha256="a" * 64,
    training_set_sha256="b" * 64,
    training_set_rows=1600,
)


class ReportPage(HTMLParser):
    """The parts of the page the tests read: section texts, tables (by id) and images."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.binning: dict[str, list[list[str]]] = {}
        self.examples: dict[str, str] = {}
        self.images: list[str] = []
        self.external: list[str] = []
        self._section: str | None = None
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section":
            self._section = attributes["id"]
            self.sections[self._section] = ""
        elif tag == "table":
            self._table = []
            if "id" in attributes:
                self.tables[attributes["id"]] = self._table
            elif "data-feature" in attributes:
                self.binning[attributes["data-feature"]] = self._table
            elif "data-percentile" in attributes:
                self._caption = []
                self.examples[attributes["data-percentile"]] = ""
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attributes.get("src") or "")
        elif tag in ("script", "link", "iframe") or (
            tag == "a" and "//" in (attributes.get("href") or "")
        ):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None
        elif tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.examples[list(self.examples)[-1]] = "".join(self._caption).strip()
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._section is not None:
            self.sections[self._section] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)

    def text(self, section: str) -> str:
        return re.sub(r"\s+", " ", self.sections[section])

    def column(self, table: str, header: str) -> list[str]:
        rows = self.tables[table]
        index = rows[0].index(header)
        return [row[index] for row in rows[1:]]


@pytest.fixture(scope="module")
def fitted():
    """Both families fitted on 8 months × 200 loans of the fixture population."""
    frame = make_training_set(seed=7, per_month=200)
    frame["application_month"] = month_labels(frame)
    selection = select_features(frame, None, FIXTURE_COLUMN_META)
    data = split_out_of_time(frame, labels_of(frame), selection)
    outcomes = {}
    for version, family in enumerate(MODEL_FAMILIES, start=1):
        model = build_model(family, data.x_train, data.y_train, selection.spec, seed=1)
        metrics, predictions = evaluate(model, data.x_train, data.y_train, data.x_oot, data.y_oot)
        outcomes[family] = ModelOutcome(
            family,
            f"run-{family}",
            str(version),
            metrics,
            model.details,
            fitted=model,
            predictions=predictions,
        )
    return frame, data, outcomes


def gate_record_for(candidate: ModelOutcome) -> dict:
    """A refused candidate, with criteria in ml.criteria's shape: calibration passes, the score
    is stable, a fairness finding on a small age band, and a failed data-quality check."""
    return {
        "alias": "challenger",
        "promoted": False,
        "reason": "refused on data_quality (snapshots_gated): 1 of 2 snapshots published",
        "candidate_family": candidate.family,
        "candidate_version": candidate.version,
        "previous_champion_version": None,
        "previous_champion_oot_auc": None,
        "criteria": [
            {
                "criterion": "calibration",
                "check": "calibration_by_decile",
                "value": -0.02,
                "threshold": 0.0,
                "passed": True,
                "detail": "0 of 10 deciles outside tolerance",
                "blocking": True,
                "table": [{"decile": 1, "rows": 40, "predicted": 0.41, "observed": 0.4}],
            },
            {
                "criterion": "stability",
                "check": "psi_score",
                "value": 0.031,
                "threshold": 0.25,
                "passed": True,
                "detail": "score PSI 0.0310",
                "blocking": True,
                "table": None,
            },
            {
                "criterion": "fairness",
                "check": "approval_ratio:age_band",
                "value": 0.71,
                "threshold": 0.8,
                "passed": False,
                "detail": "age_band: approval rate 50.0% for 18-24 vs 70.4% for 35-44",
                "blocking": False,
                "table": [
                    {"value": "18-24", "rows": 17, "approval_rate": 0.5},
                    {"value": "35-44", "rows": 120, "approval_rate": 0.704},
                ],
            },
            {
                "criterion": "data_quality",
                "check": "snapshots_gated",
                "value": 1.0,
                "threshold": 2.0,
                "passed": False,
                "detail": "1 of 2 lake snapshots trained on were published by their gate",
                "blocking": True,
                "table": [{"table": "bronze.loans", "snapshot_id": 42, "published_by_gate": False}],
            },
        ],
    }


@pytest.fixture(scope="module")
def reports(fitted, tmp_path_factory) -> dict[str, tuple[ReportPage, str, float]]:
    """Each family's report as (parsed page, HTML, seconds to build)."""
    from creditlake.settings import get_settings

    _, data, outcomes = fitted
    gate_record = gate_record_for(outcomes[LIGHTGBM])
    folder = tmp_path_factory.mktemp("validation")
    settings = get_settings()  # tests/conftest.py isolates the home: no generator files
    result = {}
    for family, outcome in outcomes.items():
        images = ReportImages.draw(outcome, data, folder / family)
        started = time.perf_counter()
        html = build_validation_report(
            outcome,
            data=data,
            lineage=LINEAGE,
            gate_record=gate_record,
            settings=settings,
            as_of_date=dt.date(2026, 1, 1),
            images=images,
            scorecard=outcomes[LR_SCORECARD].fitted,
        )
        result[family] = (ReportPage(html), html, time.perf_counter() - started)
    return result


def percent(value: float) -> str:
    return f"{value:.2%}"


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_every_section_is_there_in_order_and_the_page_stands_alone(reports, family) -> None:
    page, _, seconds = reports[family]
    assert list(page.sections) == SECTIONS
    assert page.external == []
    assert len(page.images) == 2
    for source in page.images:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        assert base64.b64decode(source[len(prefix) :])[:8] == b"\x89PNG\r\n\x1a\n"
    assert seconds < 2.0


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_population_and_lineage_match_the_training_rows(fitted, reports, family) -> None:
    frame, _, _ = fitted
    page = reports[family][0]
    months = frame.groupby("application_month")["is_bad"].agg(["size", "sum"])
    assert page.column("population-months", "month") == list(months.index)
    assert page.column("population-months", "rows") == [f"{n:,}" for n in months["size"]]
    assert page.column("population-months", "bads") == [f"{n:,}" for n in months["sum"]]
    is_oot = frame["application_month"].isin(["2025-01", "2025-02"])
    sides = page.tables["population-sides"]
    assert sides[1][:6] == ["train", "6", "2024-07", "2024-12", f"{(~is_oot).sum():,}",
                            f"{frame.loc[~is_oot, 'is_bad'].sum():,}"]  # fmt: skip
    assert sides[2][6] == percent(frame.loc[is_oot, "is_bad"].mean())
    assert page.column("lineage-snapshots", "snapshot id") == ["1234567890123", "42"]
    text = page.text("lineage")
    assert "a" * 64 in text and "b" * 64 in text and "1,600 rows" in text
    if family == LIGHTGBM:  # the candidate: the gate's data-quality criterion is shown
        assert "1 of 2 lake snapshots trained on were published by their gate" in text
    else:
        assert "this version was not the candidate" in text


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_features_bins_and_iv_are_consistent_and_rank_the_true_signal_first(
    fitted, reports, family
) -> None:
    _, data, _ = fitted
    page = reports[family][0]
    names = page.column("feature-list", "feature")
    assert sorted(names) == sorted(data.selection.spec.columns)
    assert "sex" not in names and "device_id_token" not in names
    assert names[0] == "bureau_score"  # the strongest term of the generating model
    ivs = dict(zip(names, map(float, page.column("feature-list", "IV")), strict=True))
    assert ivs["noise"] < ivs["bureau_score"] / 5  # pure noise, binned on 1,200 rows
    weak = sorted(name for name, iv in ivs.items() if iv < 0.02)
    limitations = page.text("limitations")
    if weak:
        assert f"{len(weak)} of {len(names)} features have an information value below 0.02" in (
            limitations
        )
        assert all(name in limitations for name in weak[:8])
    else:
        assert "information value below" not in limitations
    for name in ("bureau_score", "channel", "inquiries_6m_count"):
        rows = page.binning[name][1:]
        counts = np.array([int(r[1].replace(",", "")) for r in rows])
        assert counts.sum() == len(data.y_train)
        bad_rates = np.array([float(r[3].rstrip("%")) / 100 if r[3] != "—" else 0 for r in rows])
        bads, goods = counts * bad_rates, counts * (1 - bad_rates)
        used = counts > 0
        bad_share = bads[used] / data.y_train.sum()
        good_share = goods[used] / (len(data.y_train) - data.y_train.sum())
        iv = float(np.sum((good_share - bad_share) * np.log(good_share / bad_share)))
        assert iv == pytest.approx(ivs[name], abs=2e-3)  # bad rates are printed to 0.01%
    has_points = page.binning["bureau_score"][0][-1] == "points"
    assert has_points is (family == LR_SCORECARD)
    if family == LIGHTGBM:
        gains = [float(v.rstrip("%")) for v in page.column("feature-list", "share of gain")]
        assert sum(gains) == pytest.approx(100, abs=0.5)


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_out_of_time_performance_and_calibration_are_recomputed_exactly(
    fitted, reports, family
) -> None:
    _, data, outcomes = fitted
    page = reports[family][0]
    pd_oot = outcomes[family].predictions["oot"]
    auc = roc_auc_score(data.y_oot, pd_oot)
    ks = ks_2samp(pd_oot[data.y_oot == 1], pd_oot[data.y_oot == 0]).statistic
    oot = page.tables["discrimination"][2]
    assert oot == ["out-of-time", f"{auc:,.4f}", f"{ks:,.4f}", f"{2 * auc - 1:,.4f}"]
    assert len(page.tables["deciles"]) == 11
    assert sum(int(n.replace(",", "")) for n in page.column("deciles", "rows")) == len(pd_oot)
    assert page.column("deciles", "band")[0] == "1"
    riskiest = np.sort(pd_oot)[::-1][: len(pd_oot) // 10]
    assert page.column("deciles", "mean PD")[0] == percent(riskiest.mean())
    text = page.text("calibration")
    assert f"mean predicted PD {percent(pd_oot.mean())}" in text
    assert f"observed bad rate of {percent(data.y_oot.mean())}" in text


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_score_stability_matches_an_independent_psi(fitted, reports, family) -> None:
    _, _, outcomes = fitted
    page = reports[family][0]
    predictions = outcomes[family].predictions
    train, oot = SCORE_SCALE.score(predictions["train"]), SCORE_SCALE.score(predictions["oot"])
    edges = np.unique(np.quantile(train, np.linspace(0, 1, 11)[1:-1]))
    e = np.bincount(np.searchsorted(edges, train), minlength=edges.size + 1) / train.size
    a = np.bincount(np.searchsorted(edges, oot), minlength=edges.size + 1) / oot.size
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    psi = float(np.sum((a - e) * np.log(a / e)))
    assert f"Score PSI from training to out-of-time rows: {psi:,.4f}" in page.text("stability")
    assert sorted(page.column("feature-stability", "feature")) == sorted(
        outcomes[family].fitted.spec.columns
    )


def test_the_candidate_shows_the_gate_criteria_and_the_other_family_says_it_was_not_judged(
    reports,
) -> None:
    candidate = reports[LIGHTGBM][0]
    other = reports[LR_SCORECARD][0]
    fairness = candidate.text("fairness")
    assert "approval_ratio:age_band" in fairness and "flagged" in fairness
    assert "18-24" in fairness and "17" in fairness
    assert "refused “champion” and received “challenger”" in candidate.text("gate")
    assert "snapshots_gated" in candidate.text("gate") and "failed" in candidate.text("gate")
    for section in ("calibration", "stability", "fairness", "gate"):
        assert "this version was not the candidate" in other.text(section), section
        assert "approval_ratio" not in other.text(section)
    assert "not the run's candidate (the candidate was lightgbm version 2" in other.text("gate")


def test_explanations_name_features_never_values_and_agree_with_the_model(fitted, reports) -> None:
    frame, data, outcomes = fitted
    for family, outcome in outcomes.items():
        page, html, _ = reports[family]
        assert set(page.examples) == {str(p) for p in EXAMPLE_PERCENTILES}
        order = np.argsort(outcome.predictions["oot"], kind="stable")
        for percentile in EXAMPLE_PERCENTILES:
            position = order[round(percentile / 100 * (len(order) - 1))]
            row = data.x_oot.iloc[[position]]
            factors = outcome.fitted.adverse_factors(row)[0]
            caption = page.examples[str(percentile)]
            assert f"PD {percent(outcome.predictions['oot'][position])}" in caption
            assert caption.endswith("adverse factors: " + (", ".join(factors) or "none"))
        for column in ("application_id", "customer_id", "device_id_token", "loan_id"):
            assert not any(value in html for value in frame[column].astype(str)), column


def test_limitations_are_written_from_the_run(reports) -> None:
    candidate = reports[LIGHTGBM][0].text("limitations")
    other = reports[LR_SCORECARD][0].text("limitations")
    assert "Only 8 months of labelled history (2024-07 to 2025-02)" in candidate
    assert "Fairness, age_band: 18-24 (17 rows) below 50 rows" in candidate
    assert "snapshots_gated refused promotion" in candidate
    assert "approval_ratio:age_band flagged as a finding" in candidate
    assert "evaluated for the run's candidate only" in other
    assert "synthetic generator" not in candidate  # the isolated home holds no generator files


def test_a_version_without_its_fitted_model_is_refused(fitted, tmp_path) -> None:
    from creditlake.settings import get_settings

    _, data, outcomes = fitted
    bare = ModelOutcome(LIGHTGBM, "run-x", "9", outcomes[LIGHTGBM].metrics)
    with pytest.raises(ValueError, match="built inside the training run"):
        build_validation_report(
            bare,
            data=data,
            lineage=LINEAGE,
            gate_record=gate_record_for(outcomes[LIGHTGBM]),
            settings=get_settings(),
            as_of_date=dt.date(2026, 1, 1),
            images=ReportImages(Path(tmp_path / "roc.png"), Path(tmp_path / "ks.png")),
        )


def test_without_a_scorecard_lightgbm_bins_its_features_as_the_scorecard_would(
    fitted, reports
) -> None:
    """The fallback binning uses the scorecard's settings, so the IVs agree exactly."""
    from ml.validation_sections import FeatureBinning, features

    _, data, outcomes = fitted
    model = outcomes[LIGHTGBM].fitted
    own = FeatureBinning.of(model, data, scorecard=None)
    borrowed = FeatureBinning.of(model, data, scorecard=outcomes[LR_SCORECARD].fitted)
    assert own.process is not borrowed.process and not own.with_points
    ivs = {row["name"]: row["iv"] for row in features(model, own, {})}
    page = reports[LIGHTGBM][0]
    shown = page.column("feature-list", "IV")
    assert [f"{ivs[name]:,.4f}" for name in page.column("feature-list", "feature")] == shown
