"""Collection actions (催收记录): what the collections team did about each missed instalment.

A loan enters collections the day after an instalment goes unpaid while every earlier one was
paid off (the same entry ``int_collection_entries`` finds in the warehouse). From then until the
instalment is paid off, or ``WORK_DAYS`` days have passed, the team works the case:

* day 1: an SMS reminder (outcome ``delivered``); day 2: an app push (``delivered``);
* from day 3, every ``CALL_EVERY_DAYS`` days: a call to the borrower's mobile, answered or not.
  A borrower who is only late answers more often and, when reached, usually promises to pay by
  the day they will pay; a borrower who has stopped paying rarely answers, and when reached,
  refuses or promises and breaks it. A fraudster's number is mostly wrong.

Outcomes follow the truth of the loan (the same stop drawn in :mod:`generator.servicing`), so
contact and kept promises in the warehouse carry the cure, as they do in a lender's books. The
dialled number is personal information: it is tokenised at bronze like any other mobile number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.dates import DAY, HOUR, Timeline

WORK_DAYS = 60
CALL_EVERY_DAYS = 3
CHANNELS = ("sms", "app_push", "call")
OUTCOMES = ("delivered", "no_answer", "promise_to_pay", "refused", "wrong_number")
#: P(outcome of a call) for a borrower who pays late, one who stopped, and a fraudster.
_CALL_P = {
    "late": np.array([0.0, 0.35, 0.50, 0.12, 0.03]),
    "stopped": np.array([0.0, 0.65, 0.10, 0.20, 0.05]),
    "fraud": np.array([0.0, 0.30, 0.0, 0.05, 0.65]),
}
COLLECTORS = 40


def paid_off_days(schedules: pd.DataFrame, repayments: pd.DataFrame) -> np.ndarray:
    """Day number each schedule row was paid off in full (-1 when it never was)."""
    key = repayments["loan_index"].to_numpy() * 1_000 + repayments["installment_number"].to_numpy()
    order = np.lexsort((repayments["paid_at"].to_numpy(), key))
    paid = pd.DataFrame(
        {
            "key": key[order],
            "amount": repayments["amount_cny"].to_numpy()[order],
            "day": repayments["paid_at"].to_numpy()[order] // DAY,
        }
    )
    paid["cumulative"] = paid.groupby("key")["amount"].cumsum()
    row_key = (
        schedules["loan_index"].to_numpy() * 1_000 + schedules["installment_number"].to_numpy()
    )
    due = pd.Series(schedules["total_due_cny"].to_numpy(), index=row_key)
    covered = paid[paid["cumulative"].to_numpy() >= due.reindex(paid["key"]).to_numpy()]
    first = covered.groupby("key")["day"].min()
    return first.reindex(row_key).fillna(-1).to_numpy(dtype="int64")


def collection_entries(schedules: pd.DataFrame, paid_off: np.ndarray) -> np.ndarray:
    """Rows of ``schedules`` that enter collections: unpaid at due, every earlier one paid by it."""
    loan = schedules["loan_index"].to_numpy()
    due = schedules["due_date"].to_numpy()
    open_at_due = (paid_off < 0) | (paid_off > due)
    never = np.iinfo("int64").max // 4
    settled = np.where(paid_off < 0, never, paid_off)
    frame = pd.DataFrame({"loan": loan, "settled": settled})
    earlier = frame.groupby("loan")["settled"].cummax().shift(1)
    same_loan = np.r_[False, loan[1:] == loan[:-1]]
    earlier_by = np.where(same_loan, earlier.fillna(0).to_numpy(), 0)
    return np.flatnonzero(open_at_due & (earlier_by <= due))


def build_collection_actions(
    loans: pd.DataFrame,
    schedules: pd.DataFrame,
    repayments: pd.DataFrame,
    customers: pd.DataFrame,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every action on every collections entry up to the last generated second, by time."""
    paid_off = paid_off_days(schedules, repayments)
    rows = collection_entries(schedules, paid_off)
    loan = schedules["loan_index"].to_numpy()[rows]
    due = schedules["due_date"].to_numpy()[rows]
    number = schedules["installment_number"].to_numpy()[rows]
    stop = loans["default_installment"].to_numpy()[loan]
    fraud = loans["is_fraud"].to_numpy()[loan]
    kind = np.where(fraud, 2, np.where(number == stop, 1, 0))
    end = np.where(paid_off[rows] < 0, due + WORK_DAYS, np.minimum(paid_off[rows], due + WORK_DAYS))
    # day offsets: 1 (sms), 2 (push), 3, 6, ... (calls) while the case is open
    offsets = np.r_[1, 2, np.arange(3, WORK_DAYS + 1, CALL_EVERY_DAYS)]
    case = np.repeat(np.arange(len(rows)), len(offsets))
    offset = np.tile(offsets, len(rows))
    day = due[case] + offset
    keep = day < end[case]
    keep[offset <= 1] |= True  # the reminder goes out the day after the due date regardless
    case, offset, day = case[keep], offset[keep], day[keep]
    channel = np.where(offset == 1, 0, np.where(offset == 2, 1, 2))
    outcome = np.zeros(len(case), dtype="int64")
    calls = np.flatnonzero(channel == 2)
    for k, name in enumerate(("late", "stopped", "fraud")):
        who = calls[kind[case[calls]] == k]
        outcome[who] = rng.choice(len(OUTCOMES), size=len(who), p=_CALL_P[name])
    promised = outcome == OUTCOMES.index("promise_to_pay")
    pays_on = np.where(paid_off[rows] < 0, -1, paid_off[rows])[case]
    promised_day = np.where(
        (pays_on > day) & (kind[case] == 0), pays_on, day + rng.integers(2, 8, len(case))
    )
    at = day * DAY + rng.integers(1 * HOUR, 12 * HOUR, len(case))  # 09:00-20:00 Beijing
    mobile = customers["mobile"].to_numpy()[loans["customer_index"].to_numpy()[loan[case]]]
    frame = pd.DataFrame(
        {
            "loan_index": loan[case],
            "installment_number": number[case],
            "action_at": at,
            "channel": np.array(CHANNELS)[channel],
            "outcome": np.array(OUTCOMES)[outcome],
            "contact_phone": mobile,
            "collector_id": np.where(
                channel == 2,
                np.strings.add(
                    "COL", np.char.zfill(rng.integers(1, COLLECTORS + 1, len(case)).astype(str), 3)
                ),
                None,
            ),
            "promised_date": np.where(promised, promised_day, -1),
            "promised_amount_cny": np.where(
                promised, schedules["total_due_cny"].to_numpy()[rows][case], -1
            ),
        }
    )
    frame = frame[frame["action_at"].to_numpy() <= timeline.end]
    frame = frame.sort_values(["action_at", "loan_index", "installment_number"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "action_id", [f"CA{i:09d}" for i in range(1, len(frame) + 1)])
    frame.insert(1, "loan_id", loans["loan_id"].to_numpy()[frame["loan_index"].to_numpy()])
    frame["promised_date"] = (
        frame["promised_date"].astype("Int64").where(frame["promised_date"] >= 0)
    )
    frame["promised_amount_cny"] = (
        frame["promised_amount_cny"].astype("Int64").where(frame["promised_amount_cny"] >= 0)
    )
    return frame
