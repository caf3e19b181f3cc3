"""Crash test of write-audit-publish: SIGKILL the writer at every step of a partition replace.

A child process (``lake_writer.py``) replaces one date's partition of bronze and quarantine and
publishes it, as ingest, gate and publish do in turn, printing each step (every chunk it writes
and each table it publishes included). The test kills it with SIGKILL as soon as it announces
step k, for every k in turn, and a few milliseconds into the publish, then checks what a reader of
the lake sees after each kill:

- the published partition of each table is exactly the previous content or exactly the new one,
  never missing and never a mix, and the other date's partition is untouched;
- the ledger's last published delivery names a bronze and a quarantine snapshot of one batch;
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
from creditlake.settings import get_settings

pytestmark = pytest.mark.slow

WRITER = Path(__file__).with_name("lake_writer.py")
ROWS = 200_000
DATE = dt.date(2026, 1, 2)
OTHER_DATE = dt.date(2026, 1, 1)
#: Extra kills this long after the writer announced its publish (inside the two table commits).
PUBLISH_DELAYS = (0.002, 0.01, 0.03)


def _start(version: int) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(version), str(ROWS)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    return child


def _complete(version: int) -> list[str]:
    """Run the writer to the end; the steps it announced."""
    child = _start(version)
    steps = [line.strip() for line in child.stdout]
    assert child.wait(timeout=300) == 0
    return steps


def _kill_at(version: int, step_number: int, delay: float = 0.0) -> str:
    """Kill the writer once it has announced its ``step_number``-th step (+ ``delay`` s)."""
    child = _start(version)
    for _ in range(step_number + 1):
        announced = child.stdout.readline().strip()
    if delay:
        time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return announced


def _versions(lake: Lake, table: str, as_of_date: dt.date, snapshot_id: int | None = None):
    rows = lake.read(table, as_of_date, snapshot_id)
    return set(rows.column("amount_cny").to_pylist()), rows.num_rows


@pytest.fixture
def lake(catalog_backend: str) -> Lake:
    sys.path.insert(0, str(WRITER.parent))
    from lake_writer import rows

    lake = Lake.from_settings(get_settings())
    other = rows(99, 1000)  # another date, published once: it must never change
    lake.publish(
        lake.stage_partition(bronze_table("transactions"), OTHER_DATE, [other], other.schema, {})
    )
    return lake


def test_a_killed_replace_leaves_old_or_new_and_a_rerun_completes_it(lake: Lake) -> None:
    other_before = _versions(lake, bronze_table("transactions"), OTHER_DATE)
    _complete(1)  # creates the tables (steps of their own)
    steps = _complete(1)[1:-1]  # a replace's steps, between "ready" and "published"
    assert any(s.startswith("lake: ") for s in steps) and "publish" in steps
    points = [(k, 0.0) for k in range(1, len(steps) + 1)]
    points += [(steps.index("publish") + 1, delay) for delay in PUBLISH_DELAYS]
    outcomes = []
    previous = 1.0
    for number, (step_number, delay) in enumerate(points):
        version = float(number + 2)
        announced = _kill_at(int(version), step_number, delay)
        for table, expected_rows in (
            (bronze_table("transactions"), ROWS),
            (quarantine_table("transactions"), ROWS // 100),
        ):
            versions, count = _versions(lake, table, DATE)
            assert versions in ({previous}, {version}), (announced, delay, table, versions)
            assert count == expected_rows, (announced, delay, table, count)
        published = ledger.last_published(lake, "transactions", DATE)
        pair = (
            _versions(lake, bronze_table("transactions"), DATE, published.bronze_snapshot_id)[0],
            _versions(
                lake, quarantine_table("transactions"), DATE, published.quarantine_snapshot_id
            )[0],
        )
        assert pair[0] == pair[1] == {float(published.batch_id)}, announced
        assert _versions(lake, bronze_table("transactions"), OTHER_DATE) == other_before
        state = _versions(lake, bronze_table("transactions"), DATE)[0]
        outcomes.append((announced, delay, "new" if state == {version} else "old"))
        _complete(int(version))  # the re-run completes the date
        assert _versions(lake, bronze_table("transactions"), DATE)[0] == {version}
        assert float(ledger.published_delivery(lake, "transactions", DATE).batch_id) == version
        previous = version
    print(f"\n{len(outcomes)} kills (step announced, delay s, published state after the kill):")
    for outcome in outcomes:
        print("  ", outcome)
    assert len(outcomes) >= 10
