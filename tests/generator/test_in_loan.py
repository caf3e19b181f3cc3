"""In-loan risk in the generator: the B-card oracle is calibrated and distress shows in spending."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator import in_loan
from generator.config import GeneratorConfig
from generator.core import build_data
from generator.dates import DAY, day_number
from ml.metrics import auc


@pytest.fixture(scope="module")
def data():
    return build_data(GeneratorConfig(customers=6_000, behaviour_events=150_000, days=1))


@pytest.fixture(scope="module")
def matured(data) -> pd.DataFrame:
    months = data.loan_months
    seen = months["survived"].to_numpy() & (
        months["label_end"].to_numpy() < day_number(data.timeline.last_date)
    )
    return months[seen]


def test_month_ends_are_the_last_days_of_complete_months_on_book(data) -> None:
    months = data.loan_months
    ends = months["month_end"].to_numpy().astype("datetime64[D]")
    assert ((ends + 1).astype("datetime64[M]") != ends.astype("datetime64[M]")).all()
    disbursed = data.loans["disbursed_at"].to_numpy()[months["loan_index"].to_numpy()] // DAY
    assert (months["month_end"].to_numpy() >= disbursed).all()
    assert months["month_end"].max() < day_number(data.timeline.last_date)
    assert (months["next_month_end"] > months["month_end"]).all()
    assert not months.duplicated(["loan_index", "month_end"]).any()


def test_b_card_oracle_is_calibrated_against_realised_labels(matured) -> None:
    assert len(matured) > 5_000
    p = matured["true_bcard_p"].to_numpy()
    bad = matured["bad"].to_numpy()
    assert abs(p.mean() - bad.mean()) < 0.01
    for low, high in ((0.0, 0.05), (0.05, 0.2), (0.2, 1.01)):
        band = (p >= low) & (p < high)
        assert band.sum() > 200
        assert abs(p[band].mean() - bad[band].mean()) < 0.03, (low, high)
    assert auc(bad.astype(float), p) > 0.8


def test_distress_comes_before_the_missed_instalment_and_rarely_otherwise(data, matured) -> None:
    months = data.loan_months
    stop_k = data.loans["default_installment"].to_numpy()[months["loan_index"].to_numpy()]
    assert 0.02 < matured["distressed"].mean() < 0.12
    rows = months[months["survived"].to_numpy() & (stop_k > 0)]
    due = in_loan.due_dates(data.loans, int(data.loans["term_months"].max()))
    stop_due = due[rows["loan_index"].to_numpy(), stop_k[rows.index] - 1]
    coming = (stop_due >= rows["month_end"].to_numpy()) & (
        stop_due < rows["next_month_end"].to_numpy()
    )
    share_coming = rows["distressed"].to_numpy()[coming].mean()
    share_other = months["distressed"].to_numpy()[months["survived"].to_numpy()].mean()
    assert share_coming == pytest.approx(in_loan.DETECTION, abs=0.06)
    assert share_other < 0.1


def test_a_distressed_month_shows_cash_withdrawals_and_transfers(data) -> None:
    months = data.loan_months
    hit = months[months["distressed"].to_numpy()]
    tx = data.transactions
    borrowing = tx["category"].isin(["cash_withdrawal", "p2p_transfer"]).to_numpy()
    day = tx["transacted_at"].to_numpy() // DAY
    customer = tx["customer_index"].to_numpy()
    month_of = day.astype("datetime64[D]").astype("datetime64[M]")
    counts = pd.Series(
        1, index=pd.MultiIndex.from_arrays([customer[borrowing], month_of[borrowing]])
    )
    per_month = counts.groupby(level=[0, 1]).sum()

    def borrowing_in(rows: pd.DataFrame) -> np.ndarray:
        owners = data.loans["customer_index"].to_numpy()[rows["loan_index"].to_numpy()]
        month = rows["month_end"].to_numpy().astype("datetime64[D]").astype("datetime64[M]")
        keys = pd.MultiIndex.from_arrays([owners, month])
        return per_month.reindex(keys).fillna(0).to_numpy()

    calm = months[~months["distressed"].to_numpy()].sample(len(hit), random_state=0)
    assert borrowing_in(hit).mean() > borrowing_in(calm).mean() + 3
    assert (borrowing_in(hit) >= 1).all()


def test_b_card_truth_is_reproducible() -> None:
    config = GeneratorConfig(customers=800, behaviour_events=20_000, days=1)
    first, second = build_data(config).loan_months, build_data(config).loan_months
    pd.testing.assert_frame_equal(first, second)
