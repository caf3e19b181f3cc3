"""Crash test of write-audit-publish: SIGKILL the writer at increasing points of a replace.

A child process (``lake_writer.py``) replaces one date's partition of bronze and quarantine and
publishes it, as ingest, gate and publish do in turn. The test kills it at twelve increasing
points of that work and checks, after each kill, what a reader of the lake sees:

- the published partition of each table is exactly the previous content or exactly the new one,
  never missing, never a mix, and the other date's partition is untouched;
- the ledger's published delivery names a bronze and a quarantine snapshot of the same batch;
- a re-run then completes the date: the published content is the new version.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import Settings, get_settings

pytestmark = pytest.mark.slow

WRITER = Path(__file__).with_name("lake_writer.py")
ROWS = 300_000
KILL_POINTS = 12
DATE = dt.date(2026, 1, 2)
OTHER_DATE = dt.date(2026, 1, 1)


def _run_writer(version: int, kill_after: float | None = None) -> tuple[float, bool]:
    """Run the writer; kill it ``kill_after`` seconds after it is ready. (seconds, finished)."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(version), str(ROWS)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    if kill_after is None:
        child.wait(timeout=120)
        assert child.returncode == 0
        return time.monotonic() - started, True
    try:
        child.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait()
        return kill_after, False
    return time.monotonic() - started, True


def kill_point(seconds: float, point: int) -> float:
    """Twelve increasing points: eight spread over the writes, four closing in on the end,
    where the publish commits (a few milliseconds of a run of about a second)."""
    if point < 8:
        return seconds * (point + 0.5) / 9
    return seconds * (1 - 0.06 / 2 ** (point - 8))


def _versions(lake: Lake, table: str, as_of_date: dt.date, snapshot_id: int | None = None):
    """The set of versions in a date's published partition, and its row count."""
    rows = lake.read(table, as_of_date, snapshot_id)
    return set(rows.column("amount_cny").to_pylist()), rows.num_rows


def _published_other_date(lake: Lake) -> tuple:
    return _versions(lake, bronze_table("transactions"), OTHER_DATE)


@pytest.fixture
def lake(creditlake_home: Path) -> Lake:
    settings: Settings = get_settings()
    lake = Lake.from_settings(settings)
    # the other date, published once by the same path, must never change
    from lake_writer import rows

    other = rows(99, 1000)
    staged = lake.stage_partition(
        bronze_table("transactions"), OTHER_DATE, [other], other.schema, {}
    )
    lake.publish(staged)
    return lake


def test_a_killed_replace_leaves_old_or_new_and_a_rerun_completes_it(lake: Lake) -> None:
    sys.path.insert(0, str(WRITER.parent))
    other_before = _published_other_date(lake)
    seconds, _ = _run_writer(1)  # version 1 published; its duration sets the kill points
    outcomes = []
    previous = 1.0
    for point in range(KILL_POINTS):
        version = float(point + 2)
        kill_after = kill_point(seconds, point)
        _, finished = _run_writer(int(version), kill_after=kill_after)
        for table in (bronze_table("transactions"), quarantine_table("transactions")):
            versions, count = _versions(lake, table, DATE)
            expected_rows = ROWS if table.startswith("bronze") else ROWS // 100
            assert versions in ({previous}, {version}), (kill_after, table, versions)
            assert count == expected_rows, (kill_after, table, count)
        published = ledger.published_delivery(lake, "transactions", DATE)
        pair = (
            _versions(lake, bronze_table("transactions"), DATE, published.bronze_snapshot_id)[0],
            _versions(
                lake, quarantine_table("transactions"), DATE, published.quarantine_snapshot_id
            )[0],
        )
        assert pair[0] == pair[1] == {float(published.batch_id)}
        assert _published_other_date(lake) == other_before
        state = _versions(lake, bronze_table("transactions"), DATE)[0]
        outcomes.append((round(kill_after, 2), finished, "new" if state == {version} else "old"))
        _run_writer(int(version))  # the re-run completes the date
        assert _versions(lake, bronze_table("transactions"), DATE)[0] == {version}
        assert float(ledger.published_delivery(lake, "transactions", DATE).batch_id) == version
        previous = version
    print("kill points (seconds after start, finished, published state):", outcomes)
    assert sum(1 for _, finished, _ in outcomes if not finished) >= 10
    assert {state for _, _, state in outcomes} == {"old", "new"}
