"""creditlake.progress: the count, the time so far and the estimate of what is left."""

from __future__ import annotations

import datetime as dt

import pytest

from creditlake.progress import Progress, duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (44.6, "45 s"), (200, "3 min 20 s"), (3900, "1 h 05 min")],
)
def test_duration_reads_at_a_glance(seconds, text) -> None:
    assert duration(seconds) == text


def test_the_estimate_uses_each_kinds_own_mean_and_the_overall_mean_for_unseen_kinds() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = Progress(["ingest", "ingest", "train", "ingest"], lines.append, lambda: now[0])
    assert progress.seconds_left() is None
    now[0] = 10
    progress.finished("ingest", 10, "first ingest")
    assert progress.seconds_left() == pytest.approx(10 + 10 + 10)  # train: the overall mean
    now[0] = 70
    progress.finished("train", 60, "training")
    assert progress.seconds_left() == pytest.approx(10 + 10)  # two ingests at their own mean
    assert lines[-1] == "[2/4] training · 1 min 10 s, about 20 s left"
    progress.add("ingest")  # a re-run nobody planned
    assert progress.total == 5 and progress.seconds_left() == pytest.approx(30)
    for _ in range(3):
        progress.finished("ingest", 10, "ingest")
    assert lines[-1].startswith("[5/5] ingest · ") and "left" not in lines[-1]


def test_the_demo_plans_every_dag_run_it_makes() -> None:
    from orchestration.demo import INGEST_DAGS, MONITOR_DAG, SCORE_DAG, TRAIN_DAGS, _plan

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(4)]
    plan = _plan(days, models=True)
    assert len(plan) == 4 * (len(INGEST_DAGS) + 2) + 2 * len(TRAIN_DAGS) + 1
    assert plan.count(SCORE_DAG) == 4 and plan[-1] == MONITOR_DAG
    assert len(_plan(days, models=False)) == 4 * (len(INGEST_DAGS) + 1)
