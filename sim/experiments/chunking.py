"""Cutting a batch's runs into chunks, each sized when it is handed out.

Each chunk costs the same few milliseconds whatever its length: its tables are joined and
encoded, its files and record written, its rows handed to compaction. Short runs (a history run
takes about 10 ms) call for long chunks; long runs (a large population, seconds each) for chunks
of one run, so that progress is reported and runs are recorded as they finish. So a chunk's
length follows the runs' measured time (:meth:`Chunks.landed`): about :data:`TARGET_S` seconds
of runs. Until a run has landed its time is unknown, and chunks hold one run.

With several workers, a chunk also holds at most the runs left over twice the number of workers,
so that chunks shorten as the batch nears its end and the workers finish close together. However
the runs are cut, the results are the same: every chunk holds consecutive runs of the canonical
order, and compaction writes the same files whatever the chunks were
(:mod:`sim.results.compact`).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiments.plan import RunSpec

__all__ = ["MAX_CHUNK", "TARGET_S", "Chunks"]

TARGET_S = 0.5
"""Seconds of runs a chunk is cut to hold, once the runs' time is known."""

MAX_CHUNK = 100
"""The most runs in one chunk, however short the runs (a chunk's tables are held at once)."""


class Chunks:
    """The runs still to hand out, cut into chunks of consecutive runs as they are taken.

    Args:
        todo: The runs, in canonical order.
        workers: How many workers take chunks at once.
        target_s: Seconds of runs per chunk (default :data:`TARGET_S`).
    """

    def __init__(self, todo: Iterable[RunSpec], workers: int = 1,
                 target_s: float | None = None) -> None:  # fmt: skip
        self._todo = collections.deque(todo)
        self._workers = max(1, workers)
        self._target_s = TARGET_S if target_s is None else target_s
        self._runs = 0
        self._seconds = 0.0

    def __len__(self) -> int:
        """The number of runs not yet handed out (a source with none left is false)."""
        return len(self._todo)

    def size(self) -> int:
        """Return the length of the next chunk (at least 1, even with no runs left)."""
        if not self._runs or self._seconds <= 0:
            return 1
        per_chunk = self._target_s * self._runs / self._seconds  # inf for runs of no time
        by_time = MAX_CHUNK if per_chunk >= MAX_CHUNK else int(per_chunk)
        if self._workers > 1:
            by_time = min(by_time, math.ceil(len(self._todo) / (2 * self._workers)))
        return max(1, min(MAX_CHUNK, by_time))

    def popleft(self) -> tuple[RunSpec, ...]:
        """Take the next chunk from the start of the runs left."""
        n = min(self.size(), len(self._todo))
        return tuple(self._todo.popleft() for _ in range(n))

    def pop(self) -> tuple[RunSpec, ...]:
        """Take a chunk from the end of the runs left (its runs still in canonical order)."""
        n = min(self.size(), len(self._todo))
        return tuple(reversed([self._todo.pop() for _ in range(n)]))

    def landed(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Learn the time of runs that landed, from their records (``record["run"]["wall_s"]``).

        Runs without a time (lost with their worker) teach nothing.
        """
        for record in records:
            wall = record.get("run", {}).get("wall_s")
            if isinstance(wall, int | float) and wall > 0:
                self._runs += 1
                self._seconds += float(wall)
