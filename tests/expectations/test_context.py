"""The GX project under settings.gx_dir: created once per process, offline, reusable."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake.settings import Settings, get_settings
from expectations.context import (
    data_docs_index,
    dataframe_batch_definition,
    get_context,
    project_lock,
    remember_project_state,
)


def test_context_is_created_once_per_gx_dir(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = get_context(settings)

    assert get_context(settings) is context
    assert Path(context.root_directory) == settings.gx_dir
    monkeypatch.setenv("CREDITLAKE_HOME", str(tmp_path / "other-home"))
    other = get_settings()
    assert get_context(other) is not context
    assert Path(get_context(other).root_directory) == tmp_path / "other-home" / "gx"


def test_context_sends_no_analytics_and_draws_no_progress_bars(settings: Settings) -> None:
    get_context(settings)

    config = (settings.gx_dir / "great_expectations.yml").read_text()
    assert "analytics_enabled: false" in config
    assert "progress_bars:\n  globally: false\n  metric_calculations: false" in config


def test_context_is_recreated_if_its_folder_was_removed(settings: Settings) -> None:
    import shutil

    first = get_context(settings)
    shutil.rmtree(settings.gx_dir)

    second = get_context(settings)

    assert second is not first
    assert (settings.gx_dir / "great_expectations.yml").is_file()


def test_context_is_reopened_when_another_process_changed_the_project(
    settings: Settings,
) -> None:
    context = get_context(settings)
    dataframe_batch_definition(context, "pandas", "some_mart")  # this process writes the project
    remember_project_state(settings)
    assert get_context(settings) is context

    project = settings.gx_dir / "great_expectations.yml"
    stat = project.stat()
    os.utime(project, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # another writer

    reopened = get_context(settings)
    assert reopened is not context
    assert "some_mart" in reopened.data_sources.get("creditlake_warehouse").get_asset_names()


def test_project_lock_is_exclusive_across_open_files(settings: Settings) -> None:
    lock_file = settings.gx_dir / ".creditlake.lock"
    with project_lock(settings), open(lock_file, "a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock_file, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released: no error


def test_data_docs_index_path(settings: Settings) -> None:
    assert data_docs_index(settings) == (
        settings.home / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    )


def test_importing_the_gates_does_not_import_gx_or_spark() -> None:
    """The platform summary and DAG tasks import the package; GX costs seconds to import."""
    code = (
        "import sys, expectations, expectations.validate; "
        "print(sorted(m for m in ('great_expectations', 'pyspark', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
