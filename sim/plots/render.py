"""Figures from stored batch and sweep results, and the one call that writes them all.

The figure functions take loaded tables and return :class:`matplotlib.figure.Figure` objects (no
pyplot state, no display needed)::

    from sim.plots.data import load_batch
    from sim import plots

    data = load_batch("results/history")
    fig = plots.timeseries_figure(data.timeseries(), "market_value_usd", events=data.events)
    fig.savefig("market_value.pdf")

:func:`plot_results` writes every standard figure of a folder into ``<folder>/figures/``. Nothing
here runs the model: figures are made from stored results only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import ResultsError
from sim.plots.compare import baseline_difference_figure, comparison_figure
from sim.plots.data import BatchData, Event, load_batch
from sim.plots.influence import influence_network_figure, stakeholder_positions_figure
from sim.plots.plan import FigureSpec, plan_figures
from sim.plots.sweeps import (
    morris_figure,
    sobol_figure,
    sweep_heatmap_figure,
    sweep_response_figure,
)
from sim.plots.timeseries import difference_timeseries_figure, timeseries_figure
from sim.results.store import atomic_path

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")
FIGURES_DIR = "figures"
DPI = 200  # PNG resolution: 1400 pixels across a 7-inch figure

__all__ = [
    "FORMATS",
    "BatchData",
    "Event",
    "FigureSpec",
    "baseline_difference_figure",
    "comparison_figure",
    "difference_timeseries_figure",
    "influence_network_figure",
    "load_batch",
    "morris_figure",
    "plan_figures",
    "plot_results",
    "render",
    "sobol_figure",
    "stakeholder_positions_figure",
    "sweep_heatmap_figure",
    "sweep_response_figure",
    "timeseries_figure",
]


def render(
    data: BatchData, specs: Sequence[FigureSpec], fmt: str = "png"
) -> tuple[list[Path], list[str]]:
    """Draw and write figures into ``<folder>/figures/``, each file atomically.

    Args:
        data: The loaded folder.
        specs: The figures (see :func:`plan_figures`).
        fmt: ``png``, ``svg`` or ``pdf``.

    Returns:
        The files written, and a note for each optional figure that was skipped.
    """
    if fmt not in FORMATS:
        allowed = ", ".join(FORMATS)
        raise ResultsError.about(lambda a: f"{a('format', fmt)}: must be one of {allowed}")
    out = data.folder / FIGURES_DIR
    paths, notes = [], []
    for spec in specs:
        try:
            fig = spec.build()
        except ResultsError as exc:
            if not spec.optional:
                raise
            notes.append(f"{spec.name} skipped: {exc}")
            log.warning("%s skipped: %s", spec.name, exc)
            continue
        target = out / f"{spec.name}.{fmt}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt))
            tmp.chmod(0o644)  # readable like any figure, not private like the temporary file
        paths.append(target)
    return paths, notes


def _metadata(fmt: str) -> dict[str, Any]:
    """Return file metadata that does not change from one drawing to the next."""
    if fmt == "png":
        return {"Software": "policysim"}
    if fmt == "pdf":
        return {"Creator": "policysim", "Producer": "policysim", "CreationDate": None}
    return {"Creator": "policysim", "Date": None}


def plot_results(
    folder: Path | str, metrics: list[str] | None = None, fmt: str = "png"
) -> list[Path]:
    """Write every standard figure of a batch or sweep folder into ``<folder>/figures/``.

    Args:
        folder: The folder ``sim batch`` or ``sim sweep`` wrote.
        metrics: Metrics to plot (default: all in time series, headline ones elsewhere).
        fmt: ``png`` (default), ``svg`` or ``pdf``.

    Returns:
        The files written.

    Raises:
        ResultsError: When the folder is missing, not a batch or sweep, has no completed run, or
            a metric is unknown.
    """
    if fmt not in FORMATS:
        allowed = ", ".join(FORMATS)
        raise ResultsError.about(lambda a: f"{a('format', fmt)}: must be one of {allowed}")
    data = load_batch(folder)
    paths, _ = render(data, plan_figures(data, metrics), fmt)
    return paths
