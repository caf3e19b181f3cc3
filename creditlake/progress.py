"""Progress of long work with a plan: how far along, how long so far, and about how long is left.

The demo (DAG runs), the generator (sources) and the German Credit benchmark (model fits) each
know their steps before they start. A person watching them wants "12 of 30, about 3 min left"
rather than silence, so each finished step prints one line. The estimate of what is left sums, over
the steps still planned, the mean time of the steps of the same kind done so far (an ingest DAG
is not a training DAG), or of all steps done when no step of that kind has finished yet.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable


def duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min 20 s"``, ``"1 h 05 min"``: what a person reads at a glance."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Steps planned by kind (``plan``), finished one at a time with :meth:`finished`."""

    def __init__(
        self,
        plan: Iterable[str],
        out: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remaining: list[str] = list(plan)
        self.out = out
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.seconds_by_kind: dict[str, list[float]] = defaultdict(list)

    @property
    def total(self) -> int:
        return self.done + len(self.remaining)

    def add(self, kind: str) -> None:
        """A step that was not planned (a re-run): it counts, and it is estimated like its kind."""
        self.remaining.insert(0, kind)

    def seconds_left(self) -> float | None:
        """Sum of the expected time of every planned step not yet finished (None before any)."""
        everything = [s for times in self.seconds_by_kind.values() for s in times]
        if not everything:
            return None
        overall = sum(everything) / len(everything)
        means = {kind: sum(times) / len(times) for kind, times in self.seconds_by_kind.items()}
        return sum(means.get(kind, overall) for kind in self.remaining)

    def finished(self, kind: str, seconds: float, message: str) -> str:
        """Record one step of ``kind`` that took ``seconds`` and print ``message`` with the
        count, the time so far and the estimate of what is left; returns the printed line."""
        if kind in self.remaining:
            self.remaining.remove(kind)
        self.done += 1
        self.seconds_by_kind[kind].append(seconds)
        left = self.seconds_left()
        line = f"[{self.done}/{self.total}] {message} · {duration(self.clock() - self.started)}"
        if self.remaining and left is not None:
            line += f", about {duration(left)} left"
        self.out(line)
        return line
