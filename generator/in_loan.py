"""In-loan (贷中) risk: the monthly distress a lender can see coming, and the B-card's truth.

A loan's stop (:mod:`generator.servicing`) is drawn at origination; what changes month by month
is how close it is. At every complete month end ``m`` on book, a borrower whose loan stops at
the instalment due in the coming month (due in ``[m, next month end)``) is *distressed* with
probability ``DETECTION``; anyone else is, by chance, with probability ``FALSE_ALARM``. A
distressed month leaves its trace in the behaviour data: ``1 + Poisson(DISTRESS_SPEND)`` cash
withdrawals and peer transfers in that calendar month (borrowing to repay), on top of the
customer's usual spending.

The B-card population is a loan that is current at ``m`` (nothing past due, not closed, never
30+); its label is 30+ days past due within 6 months, i.e. by the end of the sixth month after
``m`` (the label date). Given what the generator knows at ``m`` (the stop probabilities per
instalment, that the loan has not stopped at an instalment due before ``m``, and the distress
draw), the chance of the label has a closed form: ``true_bcard_p``, the oracle. Earlier months'
distress carries nothing more: a loan current at ``m`` did not stop at the instalment an earlier
month's draw looked at, so that draw was a false alarm either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlake.policy import DEFAULT_POLICY
from generator.dates import DAY, Timeline, add_months, at_local_time, day_number

DETECTION = 0.7  # P(distressed | the loan stops at next month's instalment)
FALSE_ALARM = 0.04  # P(distressed | it does not)
DISTRESS_SPEND = 3.0  # mean extra risky transactions in a distressed month, beyond the first
NEVER = 10**9  # the stop due date of a loan that never stops (day number, far future)


def month_end_of(month_index: np.ndarray) -> np.ndarray:
    """The last day (day number) of a month counted as months since January 1970."""
    first_of_next = (np.asarray(month_index, dtype="int64") + 1).astype("datetime64[M]")
    return first_of_next.astype("datetime64[D]").astype("int64") - 1


def loan_month_ends(loans: pd.DataFrame, schedules: pd.DataFrame, timeline: Timeline):
    """One row per loan and complete month end from disbursement to its last due date.

    Columns: loan_index, month_end, next_month_end, label_end (the month end six months on).
    Complete: the month end is before the last generated date.
    """
    disbursed = loans["disbursed_at"].to_numpy() // DAY
    last_due = schedules.groupby("loan_index")["due_date"].max().reindex(range(len(loans)))
    last_due = last_due.fillna(0).to_numpy(dtype="int64")
    first_month = _month_index(disbursed)
    last_complete = day_number(timeline.last_date) - 1
    last_month = np.minimum(_month_index(last_due), _month_index(last_complete))
    counts = np.maximum(last_month - first_month + 1, 0)
    loan = np.repeat(np.arange(len(loans)), counts)
    offset = np.arange(len(loan)) - np.repeat(np.cumsum(counts) - counts, counts)
    month = first_month[loan] + offset
    month_end = month_end_of(month)
    keep = month_end <= last_complete
    loan, month = loan[keep], month[keep]
    window = DEFAULT_POLICY.performance_window_months
    return pd.DataFrame(
        {
            "loan_index": loan,
            "month_end": month_end_of(month),
            "next_month_end": month_end_of(month + 1),
            "label_end": month_end_of(month + window),
        }
    )


def _month_index(days) -> np.ndarray:
    """Months since January 1970 of day numbers."""
    return (
        np.asarray(days, dtype="int64")
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("int64")
    )


def due_dates(loans: pd.DataFrame, longest: int) -> np.ndarray:
    """Due date (day number) of instalment k = 1..longest per loan (columns), past the term too."""
    disbursed = loans["disbursed_at"].to_numpy() // DAY
    k = np.arange(1, longest + 1)
    return add_months(np.repeat(disbursed, longest), np.tile(k, len(loans))).reshape(-1, longest)


def b_card_truth(
    loans: pd.DataFrame,
    stops: np.ndarray,
    stop_k: np.ndarray,
    months: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Add to ``months``: survived, distressed, true_bcard_p and the realised label ``bad``.

    ``stops`` is :func:`generator.servicing.stop_probabilities` (loans x instalments), ``stop_k``
    the drawn stop per loan (0 = pays everything).
    """
    bad_days = DEFAULT_POLICY.bad_days_past_due
    loan = months["loan_index"].to_numpy()
    m = months["month_end"].to_numpy()
    due = due_dates(loans, stops.shape[1])[loan]
    p = stops[loan]
    ahead = due >= m[:, None]
    survive = (1 - stops.sum(axis=1))[loan] + (p * ahead).sum(axis=1)
    coming = ahead & (due < months["next_month_end"].to_numpy()[:, None])
    reaches_bad = ahead & (due + bad_days <= months["label_end"].to_numpy()[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        p_soon = np.where(survive > 0, (p * coming).sum(axis=1) / survive, 0.0)
        p_bad = np.where(survive > 0, (p * reaches_bad).sum(axis=1) / survive, 0.0)
    rows = np.arange(len(loan))
    k = stop_k[loan]
    stop_due = np.where(k > 0, due[rows, np.maximum(k, 1) - 1], NEVER)
    survived = stop_due >= m
    soon = (k > 0) & coming[rows, np.maximum(k, 1) - 1]
    distressed = rng.random(len(loan)) < np.where(soon, DETECTION, FALSE_ALARM)
    like_soon = np.where(distressed, DETECTION, 1 - DETECTION)
    like_other = np.where(distressed, FALSE_ALARM, 1 - FALSE_ALARM)
    with np.errstate(divide="ignore", invalid="ignore"):
        posterior = (like_soon * p_soon + like_other * (p_bad - p_soon)) / (
            like_soon * p_soon + like_other * (1 - p_soon)
        )
    out = months.copy()
    out["survived"] = survived
    out["distressed"] = distressed & survived
    out["true_bcard_p"] = np.clip(np.nan_to_num(posterior), 0.0, 1.0)
    out["bad"] = survived & (stop_due + bad_days <= months["label_end"].to_numpy())
    return out


def distress_transactions(
    months: pd.DataFrame, loans: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(customer_index, UTC seconds) of the extra transactions of every distressed month.

    Dated inside the month's calendar days at 09:00-22:59 Beijing time, so the UTC date is the
    local date and the month the B-card reads them in is the month that was distressed.
    """
    hit = months[months["distressed"].to_numpy()]
    counts = 1 + rng.poisson(DISTRESS_SPEND, len(hit))
    row = np.repeat(np.arange(len(hit)), counts)
    month_end = hit["month_end"].to_numpy()[row]
    days_in_month = month_end - month_end_of(_month_index(month_end) - 1)
    day = month_end - (rng.random(len(row)) * days_in_month).astype("int64")
    seconds = rng.integers(9 * 3600, 23 * 3600, len(row))
    owner = loans["customer_index"].to_numpy()[hit["loan_index"].to_numpy()[row]]
    return owner, at_local_time(day, seconds)
