"""Monitoring's rules: the severities a month can have and the thresholds that decide them.

Kept apart from the measuring (:mod:`ml.monitoring`), the tables (:mod:`ml.monitoring_tables`)
and the plots (:mod:`ml.monitoring_plots`), which all read them, so that each of those points to
this module and none back to another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from creditlake.settings import Settings
from creditlake.severity import FAIL, WARN
from ml import metrics

#: A month within every threshold; ``warn`` and ``fail`` are the platform's (creditlake.severity).
OK = "ok"
#: Severities from best to worst; a month, a model and a task take the worst of their parts.
SEVERITY_ORDER = (OK, WARN, FAIL)
_OF_PSI_STATUS = {"stable": OK, "watch": WARN, "act": FAIL}
#: How many standard errors of a month's AUC a drop must exceed its threshold by to count.
STANDARD_ERRORS = 2.0


class MonitoringError(ValueError):
    """A champion or its data cannot be monitored; the message says which and why."""


def worst(severities: Iterable[str]) -> str:
    """The worst of ``severities`` (``ok`` when there are none)."""
    ranks = [SEVERITY_ORDER.index(s) for s in severities]
    return SEVERITY_ORDER[max(ranks, default=0)]


@dataclass(frozen=True)
class Thresholds:
    """The cut-offs a month is judged by, from settings (see the module docstring)."""

    psi_watch: float
    psi_act: float
    auc_warn_drop: float
    auc_fail_drop: float
    min_bads: int
    min_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        if settings.monitoring_auc_warn_drop > settings.monitoring_auc_fail_drop:
            raise MonitoringError(
                "CREDITLAKE_MONITORING_AUC_WARN_DROP "
                f"({settings.monitoring_auc_warn_drop}) must not exceed "
                f"CREDITLAKE_MONITORING_AUC_FAIL_DROP ({settings.monitoring_auc_fail_drop})"
            )
        return cls(
            psi_watch=settings.psi_watch,
            psi_act=settings.psi_act,
            auc_warn_drop=settings.monitoring_auc_warn_drop,
            auc_fail_drop=settings.monitoring_auc_fail_drop,
            min_bads=settings.monitoring_min_bads,
            min_rows=settings.monitoring_min_rows,
        )

    def psi_severity(self, value: float, rows: int) -> str:
        """By ``psi_watch`` and ``psi_act``; ``ok`` (not judged) below ``min_rows`` rows."""
        if rows < self.min_rows:
            return OK
        status = metrics.psi_status(value, watch=self.psi_watch, act=self.psi_act)
        return _OF_PSI_STATUS[status]

    def auc_severity(
        self,
        auc: float | None,
        standard_error: float | None,
        reference_auc: float,
        bads: int,
        goods: int,
    ) -> str:
        """``ok`` unless the month has enough bads and goods and its AUC fell too far, by more
        than :data:`STANDARD_ERRORS` standard errors beyond the allowed drop."""
        if auc is None or standard_error is None or min(bads, goods) < self.min_bads:
            return OK
        drop = reference_auc - auc - STANDARD_ERRORS * standard_error
        if drop > self.auc_fail_drop:
            return FAIL
        return WARN if drop > self.auc_warn_drop else OK
