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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sim.errors import ResultsError
from sim.plots.centre import centre_figure
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

Progress = Callable[[int, int, str], None]
"""Told ``(done, total, name)`` after each figure is drawn."""

__all__ = [
    "FORMATS",
    "BatchData",
    "Event",
    "FigureSpec",
    "baseline_difference_figure",
    "centre_figure",
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
    data: BatchData, specs: Sequence[FigureSpec], fmt: str = "png",
    progress: Progress | None = None,
) -> tuple[list[Path], list[str]]:  # fmt: skip
    """Draw and write figures into ``<folder>/figures/``, each file atomically.

    Args:
        data: The loaded folder.
        specs: The figures (see :func:`plan_figures`).
        fmt: ``png``, ``svg`` or ``pdf``.
        progress: Called as ``progress(done, total, name)`` after each figure.

    Returns:
        The files written, and a note for each optional figure that was skipped.
    """
    if fmt not in FORMATS:
        allowed = ", ".join(FORMATS)
        raise ResultsError.about(lambda a: f"{a('format', fmt)}: must be one of {allowed}")
    out = data.folder / FIGURES_DIR
    paths, notes = [], []
    for done, spec in enumerate(specs, start=1):
        try:
            fig = spec.build()
        except ResultsError as exc:
            if not spec.optional:
                raise
            notes.append(f"{spec.name} skipped: {exc}")
            log.warning("%s skipped: %s", spec.name, exc)
        else:
            paths.append(write_figure(fig, out / f"{spec.name}.{fmt}", fmt))
        if progress is not None:
            progress(done, len(specs), spec.name)
    return paths, notes


def write_figure(fig: Figure, target: Path, fmt: str = "png") -> Path:
    """Write one figure atomically, drawing it once.

    PNGs are drawn at :data:`DPI` and stored with an adaptive palette of 256 colours: figures
    hold few colours, so the file is about a third of the size of a full-colour one and looks the
    same. Vector formats get their layout computed once, then are saved without it.

    Args:
        fig: The figure.
        target: The file to write.
        fmt: ``png``, ``svg`` or ``pdf``.

    Returns:
        ``target``.
    """
    with atomic_path(target) as tmp:
        if fmt == "png":
            fig.set_dpi(DPI)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()  # runs the layout engine and draws, once
            image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
            info = PngInfo()
            info.add_text("Software", "policysim")
            palette = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
            palette.save(tmp, format="png", pnginfo=info, dpi=(DPI, DPI))
        else:
            fig.draw_without_rendering()  # lay the figure out once, not once more while saving
            fig.set_layout_engine("none")
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt))
        tmp.chmod(0o644)  # readable like any figure, not private like the temporary file
    return target


def _metadata(fmt: str) -> dict[str, Any]:
    """Return file metadata that does not change from one drawing to the next."""
    if fmt == "pdf":
        return {"Creator": "policysim", "Producer": "policysim", "CreationDate": None}
    return {"Creator": "policysim", "Date": None}


def plot_results(
    folder: Path | str, metrics: list[str] | None = None, fmt: str = "png",
    progress: Progress | None = None,
) -> list[Path]:  # fmt: skip
    """Write every standard figure of a batch or sweep folder into ``<folder>/figures/``.

    Args:
        folder: The folder ``sim batch`` or ``sim sweep`` wrote.
        metrics: Metrics to plot (default: all in time series, headline ones elsewhere).
        fmt: ``png`` (default), ``svg`` or ``pdf``.
        progress: Called as ``progress(done, total, name)`` after each figure.

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
    paths, _ = render(data, plan_figures(data, metrics), fmt, progress)
    return paths
