"""What the generator builds in memory: every table, before defects and delivery.

Its own module so that the builder (``generator.core``) and the ground truth it writes
(``generator.truth``) both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from generator.dates import Timeline


@dataclass
class GeneratedData:
    """Every generated table, in landing columns plus internal helper columns."""

    timeline: Timeline
    customers: pd.DataFrame
    bureau_reports: pd.DataFrame
    applications: pd.DataFrame
    loans: pd.DataFrame
    repayment_schedules: pd.DataFrame
    repayments: pd.DataFrame
    app_events: pd.DataFrame
    transactions: pd.DataFrame
    intercept: float
    #: per loan and complete month end: the B-card truth (generator.in_loan)
    loan_months: pd.DataFrame
    collection_actions: pd.DataFrame

    def table(self, source: str) -> pd.DataFrame:
        return getattr(self, source)
