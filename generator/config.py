"""The generator's configuration and the report it returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from creditlake.sources import SOURCES


class GeneratorConfigError(ValueError):
    """A generator setting is out of range; the message names the setting."""


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 20_000
    behaviour_events: int = 2_000_000  # app events + transactions, whole timeline, approx.
    history_start: dt.date = dt.date(2024, 7, 1)
    extract_date: dt.date = dt.date(2026, 1, 1)  # initial full extract delivered under this date
    days: int = 3  # daily incremental deliveries after extract_date
    seed: int = 42
    defect_rate: float = 0.0  # share of rows per file given a defect, e.g. 0.002
    late_source: str | None = "transactions"  # its file for the LAST daily date is delivered late

    def validate(self) -> None:
        if self.customers < 1:
            raise GeneratorConfigError(f"customers must be at least 1, got {self.customers}")
        if self.behaviour_events < 0:
            raise GeneratorConfigError(
                f"behaviour_events must not be negative, got {self.behaviour_events}"
            )
        if self.days < 0:
            raise GeneratorConfigError(f"days must not be negative, got {self.days}")
        if self.history_start >= self.extract_date:
            raise GeneratorConfigError(
                f"history_start {self.history_start} must be before extract_date "
                f"{self.extract_date}"
            )
        if not 0 <= self.defect_rate <= 0.2:
            raise GeneratorConfigError(
                f"defect_rate must be between 0 and 0.2, got {self.defect_rate}"
            )
        if self.late_source is not None and self.late_source not in SOURCES:
            raise GeneratorConfigError(
                f"late_source {self.late_source!r} is not a source; known: {', '.join(SOURCES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items()
        }


@dataclass
class GenerationReport:
    """What one run wrote: data lines per source and date, defects, late files, ground truth."""

    config: dict[str, Any]
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    defects: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    late_files: list[dict[str, str]] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
