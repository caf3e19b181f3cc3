"""The harness's pure parts: run order, medians and ratios, and the process-tree memory it samples.

The memory test is the one that matters: a Spark ingest's memory is mostly its JVM, a grandchild
of the harness, so a sampler that read only the direct child would report a fraction of it.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from bench.core import Peer, RunRecord, interleave, median, ratio, run_measured, summarise

#: A child that starts a grandchild holding ~MB of memory, while itself holding little.
ALLOCATING_GRANDCHILD = textwrap.dedent(
    """
    import subprocess, sys
    hold = "block = bytearray({mb} * 2**20); block[::4096] = b'x' * len(block[::4096]); "
    hold += "import time; time.sleep(1.5)"
    subprocess.run([sys.executable, "-c", hold], check=True)
    """
)


def _record(engine: str, seconds: float | None, peak: float | None, status: str = "ok"):
    return RunRecord("case", 1, "subject", engine, 1, seconds, peak, status)


def test_peers_run_interleaved_round_by_round() -> None:
    peers = [Peer(subject="s", engine=name) for name in "ABC"]
    order = [(repeat, peer.engine) for repeat, peer in interleave(peers, 2)]
    assert order == [(1, "A"), (1, "B"), (1, "C"), (2, "A"), (2, "B"), (2, "C")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5), ([7.0], 7.0), ([], None)],
)
def test_median(values: list[float], expected: float | None) -> None:
    assert median(values) == expected


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [(3.0, 2.0, 1.5), (1.0, 4.0, 0.25), (None, 2.0, None), (2.0, None, None), (2.0, 0.0, None)],
)
def test_ratio(value: float | None, baseline: float | None, expected: float | None) -> None:
    assert ratio(value, baseline) == expected


def test_summary_takes_medians_of_successful_runs_and_ratios_to_the_baseline() -> None:
    runs = [
        _record("spark", 10.0, 1000.0),
        _record("spark", 30.0, 3000.0),
        _record("spark", 20.0, 2000.0),
        _record("pandas", 5.0, 500.0),
        _record("pandas", 99.0, 9.0, status="failed (exit 1)"),
        _record("pandas", 7.0, 700.0),
        _record("duckdb", None, None, status="not available"),
    ]
    rows = {row["engine"]: row for row in summarise(runs, baseline="spark")}
    assert rows["spark"]["median_seconds"] == 20.0
    assert rows["spark"]["ratio_seconds"] == 1.0
    assert rows["pandas"]["median_seconds"] == 6.0  # the failed run is not in the median
    assert rows["pandas"]["runs"] == 3 and rows["pandas"]["ok_runs"] == 2
    assert rows["pandas"]["ratio_seconds"] == pytest.approx(0.3)
    assert rows["pandas"]["ratio_peak_mb"] == pytest.approx(600.0 / 2000.0)
    assert rows["duckdb"]["status"] == "not available"
    assert rows["duckdb"]["median_seconds"] is None and rows["duckdb"]["ratio_seconds"] is None


def test_peak_memory_counts_the_whole_process_tree() -> None:
    held_mb = 300
    measured = run_measured([sys.executable, "-c", ALLOCATING_GRANDCHILD.format(mb=held_mb)])
    assert measured.returncode == 0
    # the grandchild's block, plus two interpreters (~10-20 MB each), never twice the block
    assert held_mb + 10 < measured.peak_mb < 2 * held_mb
    assert measured.seconds >= 1.5
    assert measured.samples > 10


def test_a_failing_child_is_reported_with_the_end_of_its_error() -> None:
    measured = run_measured([sys.executable, "-c", "import sys; sys.exit('bad delivery')"])
    assert measured.returncode == 1
    assert "bad delivery" in measured.stderr_tail


def test_the_ingest_case_can_leave_spark_out_and_compares_with_its_first_engine(
    tmp_path,
) -> None:
    """``--ingest-engines duckdb,pandas``: no Spark peer, ratios and checks against DuckDB, and a
    count that differs between the two is still a mismatch."""
    import argparse
    import datetime as dt

    from bench.cases.ingest import IngestCase
    from bench.data import Scale

    case = IngestCase()
    options = argparse.Namespace(
        sources=["repayment_schedules"], out=tmp_path, ingest_engines=["duckdb", "pandas"]
    )
    scale = Scale(1, tmp_path, dt.date(2026, 1, 1))
    peers = case.peers(scale, options)
    assert [p.engine for p in peers] == ["duckdb", "pandas"]
    assert case.baseline == "duckdb"

    counts = {"landing_rows": 10, "bronze_rows": 9, "quarantined_rows": 1, "duplicates_dropped": 0}
    duckdb = RunRecord("ingest", 1, "repayment_schedules", "duckdb", 1, 1.0, 1.0, "ok", counts)
    pandas = RunRecord(
        "ingest", 1, "repayment_schedules", "pandas", 1, 2.0, 1.0, "ok",
        {**counts, "bronze_rows": 8, "quarantined_rows": 2},
    )  # fmt: skip
    found = case.check(scale, [duckdb, pandas])["repayment_schedules pandas"]
    assert found["equal"] is False
    assert found["differences"]["bronze_rows"] == {"duckdb": 9, "pandas": 8}
    assert found["what"].startswith("pandas vs duckdb")


def test_the_pandas_peer_runs_without_an_ingest_engine_setting(tmp_path, monkeypatch) -> None:
    """Only the job's engines are ``CREDITLAKE_INGEST_ENGINE`` values; the settings refuse any
    other name, so the pandas peer's child gets none (it failed at start-up when it got one)."""
    import datetime as dt

    import bench.cases.ingest as ingest
    from bench.data import Scale
    from creditlake.settings import get_settings

    monkeypatch.setattr(ingest, "new_home", lambda out, name, key: tmp_path / name)
    monkeypatch.setattr(ingest, "copy_delivery", lambda *args: None)
    monkeypatch.setattr(ingest, "bench_pii_key", lambda out: "key")
    case, scale = ingest.IngestCase(), Scale(1, tmp_path, dt.date(2026, 1, 1))
    for engine, expected in (("duckdb", "duckdb"), ("pandas", None)):
        home = case._home_path(tmp_path, scale, "loans", engine)
        env = case._preparer(tmp_path, scale, "loans", engine, home)(1)
        assert env.get("CREDITLAKE_INGEST_ENGINE") == expected
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CREDITLAKE_INGEST_ENGINE", raising=False)
        if expected:
            monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", expected)
        get_settings()  # accepted
