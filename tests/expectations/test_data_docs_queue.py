"""Data Docs rendered off the gate's path: a gate queues its validation, one render writes the
pages of every queued validation (passed or failed) and the index (``expectations.data_docs``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from quality_fixtures import DAY, valid_row, write_bronze

from creditlake.settings import Settings
from expectations.context import data_docs_site
from expectations.data_docs import pending_count, pending_path, render_data_docs
from expectations.validate import QualityGateError, data_docs_index, validate_bronze


@pytest.fixture(autouse=True)
def in_process_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pandas gate (after a DuckDB ingest): no Spark needed for what is tested here. Autouse,
    so it is set before the ``settings`` fixture reads the environment."""
    monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", "duckdb")


def _validation_pages(settings: Settings, suite: str) -> list[Path]:
    return sorted((data_docs_site(settings) / "validations" / suite).rglob("*.html"))


def test_deferred_gates_queue_and_one_render_writes_every_page(settings: Settings) -> None:
    write_bronze(settings, "loans", [valid_row("loans", n) for n in range(2)])
    rows = [valid_row("customers", 0)]
    write_bronze(settings, "customers", rows, retype={"monthly_income_cny": "string"})

    passed = validate_bronze("loans", DAY, settings=settings, render_docs=False)
    with pytest.raises(QualityGateError):
        validate_bronze("customers", DAY, settings=settings, render_docs=False)

    # the verdicts and summaries are there; the pages are not rendered yet
    assert passed.success
    assert pending_count(settings) == 2
    assert not data_docs_index(settings).exists()
    assert _validation_pages(settings, "bronze_loans") == []

    assert render_data_docs(settings) == 2

    index = data_docs_index(settings).read_text()
    assert "bronze_loans" in index and "bronze_customers" in index
    assert len(_validation_pages(settings, "bronze_loans")) == 1
    assert len(_validation_pages(settings, "bronze_customers")) == 1  # the failed one too
    assert not pending_path(settings).exists()
    assert render_data_docs(settings) == 0  # nothing queued: the site is left as it is


def test_a_gate_called_directly_renders_its_pages_at_once(settings: Settings) -> None:
    write_bronze(settings, "loans", [valid_row("loans", 0)])

    validate_bronze("loans", DAY, settings=settings)

    assert "bronze_loans" in data_docs_index(settings).read_text()
    assert len(_validation_pages(settings, "bronze_loans")) == 1
    assert pending_count(settings) == 0


def test_the_governance_site_renders_pages_a_stopped_run_left_queued(
    settings: Settings, tmp_path: Path
) -> None:
    from orchestration.report.links import DATA_DOCS_DIR, data_docs_link

    write_bronze(settings, "loans", [valid_row("loans", 0)])
    validate_bronze("loans", DAY, settings=settings, render_docs=False)

    link = data_docs_link(settings, tmp_path)

    assert link.href == f"{DATA_DOCS_DIR}/index.html"
    assert "bronze_loans" in (tmp_path / DATA_DOCS_DIR / "index.html").read_text()
    assert pending_count(settings) == 0
