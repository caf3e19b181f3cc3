"""Helpers shared by the generator tests: tiny runs and reading what they wrote."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from secret_files import put_pii_key

from creditlake.settings import Settings, get_settings
from generator import GenerationReport, GeneratorConfig, generate

PII_KEY = "generator-test-pii-key-0123456789abcdef0123456789"
TINY = GeneratorConfig(customers=200, behaviour_events=20_000, defect_rate=0.002)


@dataclass
class Run:
    config: GeneratorConfig
    settings: Settings
    report: GenerationReport

    @property
    def landing(self) -> Path:
        return Path(self.settings.landing_uri)

    def file(self, source: str, date: str) -> Path:
        from creditlake.sources import get_source

        return self.landing / source / date / get_source(source).file_name

    @property
    def defects(self) -> dict:
        return json.loads((self.settings.oracle_dir / "defects.json").read_text(encoding="utf-8"))


def settings_for(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    put_pii_key(home, PII_KEY)
    monkeypatch.delenv("CREDITLAKE_LANDING_URI", raising=False)
    monkeypatch.delenv("CREDITLAKE_LAKE_DIR", raising=False)
    return get_settings()


def run_generator(
    tmp_path_factory: pytest.TempPathFactory, name: str, config: GeneratorConfig
) -> Run:
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = settings_for(tmp_path_factory.mktemp(name), monkeypatch)
    report = generate(config, settings, progress=lambda _: None)
    return Run(config, settings, report)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def data_lines(path: Path, has_header: bool) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[1:] if has_header else lines


def iter_files(run: Run) -> Iterator[tuple[str, str, Path]]:
    for source, by_date in run.report.rows.items():
        for date in by_date:
            path = run.file(source, date)
            if path.exists():
                yield source, date, path
