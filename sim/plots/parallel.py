"""Drawing a folder's figures on several processes, each file the same bytes as drawn serially.

Figures are planned by closures over the loaded folder, which cannot travel to another process;
each worker loads the folder once, plans the same figures (:attr:`FigureSpec.metrics` says for
which metrics) and draws the ones it is given by name. Matplotlib's Agg renderer is deterministic,
so the files do not depend on where they were drawn. The workers are the batch executor's
(:class:`sim.experiments.executors.ProcessExecutor`): they end with the process that started them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.errors import ResultsError
from sim.experiments.executors import ProcessExecutor
from sim.plots.data import load_batch
from sim.plots.plan import FigureSpec, plan_figures

log = logging.getLogger(__name__)

MIN_FIGURES_PER_WORKER = 8  # fewer figures are drawn in this process: starting workers costs more
MAX_WORKERS = 4

Task = tuple[str, tuple[str, ...] | None, str, str]
"""A figure to draw elsewhere: folder, the metrics it was planned for, its name, the format."""


def drawing_workers(n_figures: int, workers: int | None = None) -> int:
    """Return how many processes to draw ``n_figures`` on (1: draw them in this process)."""
    if workers is not None:
        return max(1, min(workers, n_figures))
    most = min(MAX_WORKERS, os.cpu_count() or 1)
    return max(1, min(most, n_figures // MIN_FIGURES_PER_WORKER))


@functools.lru_cache(maxsize=2)
def _planned(folder: str, metrics: tuple[str, ...] | None) -> dict[str, FigureSpec]:
    """Load a folder and plan its figures, once per worker process."""
    data = load_batch(folder)
    return {s.name: s for s in plan_figures(data, list(metrics) if metrics else None)}


def _draw(task: Task) -> tuple[Path | None, str | None]:
    """Draw one figure in a worker: its file, or the note of an optional figure skipped."""
    from sim.plots.render import FIGURES_DIR, write_figure

    folder, metrics, name, fmt = task
    spec = _planned(folder, metrics)[name]
    try:
        fig = spec.build()
    except ResultsError as exc:
        if not spec.optional:
            raise
        return None, f"{name} skipped: {exc}"
    return write_figure(fig, Path(folder) / FIGURES_DIR / f"{name}.{fmt}", fmt), None


def draw_in_parallel(
    folder: Path, specs: Sequence[FigureSpec], fmt: str, workers: int,
    on_done: Callable[[FigureSpec], None],
) -> tuple[list[Path], list[str]]:  # fmt: skip
    """Draw ``specs`` on ``workers`` processes.

    Args:
        folder: The results folder.
        specs: The figures, as planned by :func:`sim.plots.plan.plan_figures`.
        fmt: ``png``, ``svg`` or ``pdf``.
        workers: Processes to use.
        on_done: Called in this process after each figure.

    Returns:
        The files written (in the order of ``specs``) and the notes of figures skipped.

    Raises:
        ResultsError: When a figure that is not optional cannot be drawn.
    """
    by_name = {s.name: s for s in specs}
    tasks: list[Task] = [(str(folder), s.metrics, s.name, fmt) for s in specs]
    found: dict[str, Path] = {}
    notes: list[str] = []
    with ProcessExecutor(workers) as pool:
        for task, future in pool.imap_unordered(_draw, tasks):
            path, note = future.result()
            if path is not None:
                found[task[2]] = path
            if note is not None:
                notes.append(note)
                log.warning("%s", note)
            on_done(by_name[task[2]])
    return [found[s.name] for s in specs if s.name in found], notes
