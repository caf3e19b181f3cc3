"""What a quality gate found: the result of one suite on one date, and its JSON summary.

The gates (:mod:`expectations.validate`) run GX; this module turns a GX validation result into
what governance reads and keeps: counts by severity, every failed expectation with its column and
count, every expectation evaluated with its verdict (OpenLineage reports them), and no data values
ever. It also says where each summary is written and writes it atomically, and holds the two
errors a gate raises, so readers of results (the summary, the governance report, lineage) need
nothing of the gates' machinery.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake.settings import Settings

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

#: Longest exception text a summary quotes (enough for "column 'x' does not exist").
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class FailedExpectation:
    """One failed expectation, as much as governance needs and no data values."""

    type: str
    column: str | None
    severity: str
    unexpected_count: int | None
    observed_value: float | int | None = None
    error: str | None = None

    def label(self) -> str:
        where = f"({self.column})" if self.column else ""
        if self.error:
            return f"{self.type}{where}: {self.error}"
        if self.unexpected_count is not None:
            return f"{self.type}{where}: {self.unexpected_count} unexpected"
        if self.observed_value is not None:
            return f"{self.type}{where}: observed {self.observed_value}"
        return f"{self.type}{where}"


@dataclass(frozen=True)
class CheckedExpectation:
    """One expectation a gate evaluated and its verdict: lineage reports every rule that ran."""

    type: str
    column: str | None
    severity: str
    success: bool


@dataclass(frozen=True)
class QualityResult:
    """The outcome of one suite on one date; ``to_dict`` is the JSON summary."""

    suite: str
    as_of_date: str
    evaluated: int
    passed: int
    failed: dict[str, int]
    failed_expectations: list[FailedExpectation]
    rows: int | None
    skipped_expectations: list[str] = field(default_factory=list)
    summary_path: str | None = None
    data_docs: str | None = None
    checked: list[CheckedExpectation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True unless a critical expectation failed: warnings never fail the gate."""
        return self.failed.get("critical", 0) == 0

    @property
    def critical_failures(self) -> list[FailedExpectation]:
        return [f for f in self.failed_expectations if f.severity == "critical"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["success"] = self.success
        return data


class MissingDataError(FileNotFoundError):
    """What a gate should validate does not exist (a bronze partition, the warehouse).

    Its own type so the Airflow tasks fail at once instead of retrying: the data will not appear
    by itself; the run that should have written it has to run (again) first.
    """


class QualityGateError(RuntimeError):
    """A critical expectation failed; the message names the suite, date and failed rules."""

    def __init__(self, results: list[QualityResult]) -> None:
        self.results = results
        super().__init__(gate_message(results))


def gate_message(results: list[QualityResult]) -> str:
    parts = []
    for result in results:
        failures = "; ".join(f.label() for f in result.critical_failures)
        parts.append(
            f"quality gate {result.suite} failed for {result.as_of_date}: "
            f"{len(result.critical_failures)} critical expectation(s) failed: {failures}. "
            f"Summary: {result.summary_path}; Data Docs: {result.data_docs}"
        )
    return "\n".join(parts)


# Reading a validation result -------------------------------------------------------------------
def _column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    pair = [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k)]
    return ",".join(pair) or None


def _number(value: Any) -> float | int | None:
    """A numeric observed value (a bad rate, a row count); anything else is not reported."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def failed_expectation(expectation_result: Any) -> FailedExpectation:
    config = expectation_result.expectation_config
    result = expectation_result.result or {}
    exception = expectation_result.exception_info or {}
    error = None
    if exception.get("raised_exception"):
        error = str(exception.get("exception_message") or "raised an exception")
        error = error.splitlines()[0][:MAX_ERROR_CHARS] if error else error
    unexpected = result.get("unexpected_count")
    observed = _number(result.get("observed_value"))
    if unexpected is None and config.type == "unexpected_rows_expectation":
        unexpected, observed = observed, None
    return FailedExpectation(
        type=config.type,
        column=_column_of(config.kwargs),
        severity=str(getattr(config.severity, "value", config.severity) or "critical"),
        unexpected_count=None if unexpected is None else int(unexpected),
        observed_value=observed,
        error=error,
    )


def checked_expectation(expectation_result: Any) -> CheckedExpectation:
    config = expectation_result.expectation_config
    return CheckedExpectation(
        type=config.type,
        column=_column_of(config.kwargs),
        severity=str(getattr(config.severity, "value", config.severity) or "critical"),
        success=bool(expectation_result.success),
    )


def summarise(
    validation: ExpectationSuiteValidationResult,
    suite: str,
    as_of_date: dt.date,
    skipped: list[str] | None = None,
) -> QualityResult:
    """Count what GX evaluated, what passed and what failed by severity; keep no values."""
    failed = [failed_expectation(r) for r in validation.results if not r.success]
    by_severity = {"critical": 0, "warning": 0, "info": 0}
    for failure in failed:
        by_severity[failure.severity] = by_severity.get(failure.severity, 0) + 1
    counts = [
        (r.result or {}).get("element_count")
        for r in validation.results
        if isinstance((r.result or {}).get("element_count"), int)
    ]
    evaluated = len(validation.results)
    return QualityResult(
        suite=suite,
        as_of_date=as_of_date.isoformat(),
        evaluated=evaluated,
        passed=evaluated - len(failed),
        failed=by_severity,
        failed_expectations=failed,
        rows=max(counts) if counts else None,
        skipped_expectations=list(skipped or []),
        checked=[checked_expectation(r) for r in validation.results],
    )


# Writing the summary ---------------------------------------------------------------------------
def quality_summaries_dir(settings: Settings) -> Path:
    """The folder of every gate summary, ``<suite>/<as_of_date>.json``."""
    return settings.reports_dir / "quality"


def summary_path(settings: Settings, suite: str, as_of_date: dt.date) -> Path:
    """Where the gate writes its summary of ``suite`` for ``as_of_date``; readers ask here."""
    return quality_summaries_dir(settings) / suite / f"{as_of_date.isoformat()}.json"


def write_summary(result: QualityResult, path: Path) -> None:
    """Write aside and rename, so a reader never sees half a summary and a re-run replaces it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    os.replace(partial, path)
