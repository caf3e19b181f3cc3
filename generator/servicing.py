"""Repayment schedules (等额本息) and the money that actually comes in.

Schedules are computed in whole fen so that they add up exactly: the rounded level payment is
split into interest on the outstanding balance and principal, and the last instalment takes the
remaining balance. Repayments follow the loan's fate: a good loan pays every instalment, early,
on time, up to 29 days late or in two parts; a defaulting loan stops at an instalment ``k`` in
1..5 chosen so that it is 30+ days past due within 6 months on book, which makes the label exact
for every matured loan; a fraud loan (:mod:`generator.fraud`) never pays at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlake.policy import DEFAULT_POLICY
from generator.dates import DAY, HOUR, Timeline, add_months

PAYMENT_CHANNELS = (
    "bank_card_autodebit",
    "alipay",
    "wechat_pay",
    "bank_transfer",
    "offline_counter",
)
_CHANNEL_P = np.array([0.55, 0.20, 0.15, 0.07, 0.03])
_DEFAULT_K_WEIGHTS = np.array([0.30, 0.25, 0.20, 0.15, 0.10])  # stop at instalment 1..5
CURE_SHARE = 0.3  # defaulted loans that pay the missed instalment through collections


def level_payment_fen(principal_fen: np.ndarray, apr_units: np.ndarray, term: np.ndarray):
    """The rounded 等额本息 monthly payment; monthly rate = APR / 12."""
    p = np.asarray(principal_fen, dtype=float)
    r = np.asarray(apr_units, dtype=float) / 10_000 / 12
    n = np.asarray(term, dtype=float)
    growth = np.power(1 + r, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0, p * r * growth / (growth - 1), p / n)
    return np.floor(annuity + 0.5).astype("int64")


def amortise(
    principal_fen: np.ndarray, apr_units: np.ndarray, term: np.ndarray
) -> dict[str, np.ndarray]:
    """Schedule rows for many loans at once: loan position, number, principal, interest."""
    principal_fen = np.asarray(principal_fen, dtype="int64")
    term = np.asarray(term, dtype="int64")
    rate = np.asarray(apr_units, dtype=float) / 10_000 / 12
    payment = level_payment_fen(principal_fen, apr_units, term)
    balance = principal_fen.copy()
    rows: dict[str, list[np.ndarray]] = {"loan": [], "number": [], "principal": [], "interest": []}
    for k in range(1, int(term.max(initial=0)) + 1):
        active = np.flatnonzero(term >= k)
        interest = np.floor(balance[active] * rate[active] + 0.5).astype("int64")
        last = term[active] == k
        principal = np.where(last, balance[active], payment[active] - interest)
        principal = np.clip(principal, 0, balance[active])
        balance[active] -= principal
        rows["loan"].append(active)
        rows["number"].append(np.full(len(active), k))
        rows["principal"].append(principal)
        rows["interest"].append(interest)
    if not rows["loan"]:
        return {key: np.zeros(0, dtype="int64") for key in rows}
    out = {key: np.concatenate(value) for key, value in rows.items()}
    order = np.lexsort((out["number"], out["loan"]))
    return {key: value[order] for key, value in out.items()}


def build_schedules(loans: pd.DataFrame) -> pd.DataFrame:
    """Schedule rows; also sets each loan's ``first_due_date`` (a month after disbursement)."""
    disbursed_day = loans["disbursed_at"].to_numpy() // DAY
    rows = amortise(
        loans["principal_cny"].to_numpy(), loans["apr"].to_numpy(), loans["term_months"].to_numpy()
    )
    due = add_months(disbursed_day[rows["loan"]], rows["number"])
    loans["first_due_date"] = add_months(disbursed_day, 1)
    loan_ids = loans["loan_id"].to_numpy()[rows["loan"]]
    return pd.DataFrame(
        {
            "installment_id": np.strings.add(
                np.strings.add(loan_ids.astype(str), "-"), rows["number"].astype(str)
            ),
            "loan_id": loan_ids,
            "installment_number": rows["number"],
            "due_date": due,
            "principal_due_cny": rows["principal"],
            "interest_due_cny": rows["interest"],
            "total_due_cny": rows["principal"] + rows["interest"],
            "loan_index": rows["loan"],
        }
    )


def stop_weights(loans: pd.DataFrame) -> np.ndarray:
    """P(a bad loan stops at instalment k), k = 1..5, per loan (rows add up to 1).

    Only instalments whose 30th day past due falls within 6 months on book can make the label,
    so k = 5 needs a long enough sixth month and k never passes the term. Column 0 is the chance
    that a genuine bad loan is a first-payment default.
    """
    n = len(loans)
    d = loans["disbursed_at"].to_numpy() // DAY
    term = loans["term_months"].to_numpy()
    window_end = add_months(d, DEFAULT_POLICY.performance_window_months)
    weights = np.tile(_DEFAULT_K_WEIGHTS, (n, 1))
    for k in range(1, len(_DEFAULT_K_WEIGHTS) + 1):
        reaches_bad = add_months(d, k) + DEFAULT_POLICY.bad_days_past_due <= window_end - 1
        weights[:, k - 1] *= (k <= term) & reaches_bad
    return weights / weights.sum(axis=1, keepdims=True)


LATE_DEFAULT_SHARE = 0.5  # of credit_pd: good loans longer than the window that stop after it
PARTIAL_SHARE = 0.06  # instalments a paying borrower pays in two parts, the second late


def late_payment_p(credit_pd: np.ndarray) -> np.ndarray:
    """P(a paying borrower pays an instalment 1-29 days late): riskier borrowers more often."""
    return np.minimum(0.08 + 0.6 * np.asarray(credit_pd, dtype=float), 0.4)


def stop_probabilities(loans: pd.DataFrame) -> np.ndarray:
    """P(the loan stops paying at instalment k), k = 1 .. the longest term (columns), per loan.

    The same draws :func:`default_installment` makes, as probabilities: fraud stops at 1; a
    genuine default at k in 1..5 (:func:`stop_weights`); a good loan longer than the window
    stops after it, uniformly, with probability ``LATE_DEFAULT_SHARE * credit_pd``.
    """
    term = loans["term_months"].to_numpy()
    longest = int(term.max(initial=1))
    window = DEFAULT_POLICY.performance_window_months
    fraud_p = loans["true_fraud_p"].to_numpy()
    credit_pd = loans["credit_pd"].to_numpy()
    probabilities = np.zeros((len(loans), longest))
    probabilities[:, 0] += fraud_p
    weights = stop_weights(loans)[:, :longest]
    probabilities[:, : weights.shape[1]] += ((1 - fraud_p) * credit_pd)[:, None] * weights
    late = (1 - fraud_p) * (1 - credit_pd) * LATE_DEFAULT_SHARE * credit_pd * (term > window)
    span = np.maximum(term - window, 1)
    for k in range(window + 1, longest + 1):
        probabilities[:, k - 1] += np.where(k <= term, late / span, 0.0)
    return probabilities


def cure_probabilities(loans: pd.DataFrame, schedules: pd.DataFrame) -> np.ndarray:
    """P(an instalment that went unpaid on its due date is paid within 30 days), per schedule row.

    For a loan current until instalment j: it is either a paying borrower who is late this time
    (pays within 29 days: cures) or the instalment the loan stops at (a default, which a later
    collection, if any, recovers only after 35 days: no cure within 30). An instalment partly paid
    by its due date always belongs to a paying borrower: it cures.
    """
    stops = stop_probabilities(loans)
    loan = schedules["loan_index"].to_numpy()
    number = schedules["installment_number"].to_numpy()
    before = np.cumsum(stops, axis=1) - stops  # P(stopped before k)
    stop_here = stops[loan, number - 1]
    survive = 1 - before[loan, number - 1]
    late = (survive - stop_here).clip(min=0) * late_payment_p(loans["credit_pd"].to_numpy()[loan])
    with np.errstate(divide="ignore", invalid="ignore"):
        cure = np.where(late + stop_here > 0, late / (late + stop_here), 1.0)
    return np.where(schedules["partial_at_due"].to_numpy(), 1.0, cure)


def default_installment(loans: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """The instalment each loan stops paying at (0 = pays everything).

    Bad loans stop at k in 1..5 drawn from :func:`stop_weights`; a fraud loan never pays, so it
    stops at 1. Some good loans with terms over six months stop after the label window, as real
    loans do, without touching the label.
    """
    n = len(loans)
    term = loans["term_months"].to_numpy()
    window = DEFAULT_POLICY.performance_window_months
    cumulative = np.cumsum(stop_weights(loans), axis=1)
    bad_k = 1 + np.minimum(
        (rng.random(n)[:, None] > cumulative).sum(axis=1), len(_DEFAULT_K_WEIGHTS) - 1
    )
    bad_k = np.where(loans["is_fraud"].to_numpy(), 1, bad_k)
    late_default = (
        ~loans["defaulted"].to_numpy()
        & (term > window)
        & (rng.random(n) < LATE_DEFAULT_SHARE * loans["credit_pd"].to_numpy())
    )
    late_k = window + 1 + (rng.random(n) * np.maximum(term - window, 1)).astype("int64")
    return np.where(loans["defaulted"].to_numpy(), bad_k, np.where(late_default, late_k, 0))


def build_repayments(
    loans: pd.DataFrame, schedules: pd.DataFrame, timeline: Timeline, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Money received per instalment up to the last generated second, and each loan's stop."""
    stop_k = default_installment(loans, rng)
    loan = schedules["loan_index"].to_numpy()
    number = schedules["installment_number"].to_numpy()
    due = schedules["due_date"].to_numpy()
    total = schedules["total_due_cny"].to_numpy()
    pd_loan = loans["credit_pd"].to_numpy()[loan]
    fraud = loans["is_fraud"].to_numpy()[loan]
    disbursed_day = (loans["disbursed_at"].to_numpy() // DAY)[loan]
    loan_channel = rng.choice(len(PAYMENT_CHANNELS), size=len(loans), p=_CHANNEL_P)[loan]
    n = len(schedules)

    stops = stop_k[loan]
    paying = (stops == 0) | (number < stops)
    cured = (number == stops) & (rng.random(n) < CURE_SHARE) & ~fraud

    u = rng.random(n)
    p_late = late_payment_p(pd_loan)
    early = u < 0.15
    partial = (u >= 0.15) & (u < 0.15 + PARTIAL_SHARE)
    late = (u >= 0.21) & (u < 0.21 + p_late)
    days_late = np.minimum(rng.geometric(0.15, n), 29)
    first_day = np.where(
        early,
        np.maximum(due - rng.integers(1, 11, n), disbursed_day + 1),
        np.where(late, due + days_late, np.where(partial, due - rng.integers(0, 4, n), due)),
    )
    first_day = np.where(cured, due + rng.integers(35, 91, n), first_day)
    first_amount = np.where(
        partial & paying, np.floor(total * rng.uniform(0.3, 0.7, n)).astype("int64"), total
    )
    first_amount = np.clip(first_amount, 1, total)
    first_channel = np.where(
        (late | partial) & (loan_channel == 0), rng.integers(1, 4, n), loan_channel
    )
    first_channel = np.where(cured, 3 + (rng.random(n) < 0.3), first_channel)

    has_first = paying | cured
    has_second = paying & partial & (first_amount < total)
    schedules["partial_at_due"] = has_second
    second_day = due + rng.integers(1, 30, n)

    def rows(mask: np.ndarray, day: np.ndarray, amount: np.ndarray, channel: np.ndarray):
        idx = np.flatnonzero(mask)
        paid_at = day[idx] * DAY + rng.integers(0, 16 * HOUR, len(idx))  # 08:00-24:00 Beijing
        return pd.DataFrame(
            {
                "loan_index": loan[idx],
                "installment_number": number[idx],
                "paid_at": paid_at,
                "amount_cny": amount[idx],
                "channel_index": channel[idx],
            }
        )

    out = pd.concat(
        [
            rows(has_first, first_day, first_amount, first_channel),
            rows(has_second, second_day, total - first_amount, rng.integers(1, 4, n)),
        ],
        ignore_index=True,
    )
    disbursed_at = loans["disbursed_at"].to_numpy()[out["loan_index"].to_numpy()]
    out["paid_at"] = np.maximum(out["paid_at"].to_numpy(), disbursed_at + HOUR)
    out = out[out["paid_at"] <= timeline.end]
    out = out.sort_values(["paid_at", "loan_index", "installment_number"], kind="stable")
    out = out.reset_index(drop=True)
    return pd.DataFrame(
        {
            "repayment_id": [f"R{i:010d}" for i in range(1, len(out) + 1)],
            "loan_id": loans["loan_id"].to_numpy()[out["loan_index"].to_numpy()],
            "installment_number": out["installment_number"].to_numpy(),
            "paid_at": out["paid_at"].to_numpy(),
            "amount_cny": out["amount_cny"].to_numpy(),
            "payment_channel": np.array(PAYMENT_CHANNELS)[out["channel_index"].to_numpy()],
            "loan_index": out["loan_index"].to_numpy(),
        }
    ), stop_k
