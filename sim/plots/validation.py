"""The validation figure: the share of seeds that meet each stylized fact, against the threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.validation import ValidationReport
from sim.plots.style import OKABE_ITO, PAPER_WIDTH_IN, figure_style
from sim.results.store import atomic_path


def pass_rate_figure(
    rates: pd.DataFrame, *, threshold: float, n_seeds: int, title: str = "Stylized facts met"
) -> Figure:
    """Draw horizontal bars of each target's pass rate with its 95% interval and the threshold.

    Args:
        rates: One row per target with ``target``, ``fact``, ``pass_rate``, ``ci_low``,
            ``ci_high`` and ``ok`` (see
            :meth:`sim.analysis.validation.ValidationReport.pass_rates`).
        threshold: The pass rate a target needs (drawn as a dashed line).
        n_seeds: Seeds per target, for the axis label.
        title: The figure's title.

    Returns:
        The figure (targets top to bottom in file order; failing ones in vermillion).
    """
    with figure_style():
        height = 1.0 + 0.28 * len(rates)
        fig = Figure(figsize=(PAPER_WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(rates))[::-1]
        rate = rates["pass_rate"].to_numpy(dtype=float)
        low = np.clip(rate - rates["ci_low"].to_numpy(dtype=float), 0, None)
        high = np.clip(rates["ci_high"].to_numpy(dtype=float) - rate, 0, None)
        colors = [OKABE_ITO["bluish_green"] if ok else OKABE_ITO["vermillion"]
                  for ok in rates["ok"]]  # fmt: skip
        ax.barh(y, rate * 100, color=colors, height=0.65, zorder=2)
        ax.errorbar(rate * 100, y, xerr=[low * 100, high * 100], fmt="none",
                    ecolor="#444444", elinewidth=0.8, capsize=2, zorder=3)  # fmt: skip
        ax.axvline(threshold * 100, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
                   zorder=4, label=f"threshold {threshold:.0%}")  # fmt: skip
        labels = [f"{t} (fact {f})" for t, f in zip(rates["target"], rates["fact"], strict=True)]
        ax.set_yticks(y, labels)
        for yi, r in zip(y, rate, strict=True):
            inside = r >= 0.12
            ax.text(1.5 if inside else r * 100 + 1.5, yi, f"{r:.0%}", va="center", ha="left",
                    color="white" if inside else "#222222", fontsize=7, zorder=5)  # fmt: skip
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"% of {n_seeds} seeds meeting the target (bars: 95% Wilson interval)")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=1)
        ax.set_title(title, loc="right")
    return fig


def plot_pass_rates(
    rates: pd.DataFrame, path: Path, *, threshold: float, n_seeds: int,
    title: str = "Stylized facts met",
) -> Path:  # fmt: skip
    """Draw :func:`pass_rate_figure` and write it to ``path`` atomically (format from suffix).

    Args:
        rates: Pass rates per target.
        path: The image file (``.png``, ``.svg`` or ``.pdf``).
        threshold: The pass threshold.
        n_seeds: Seeds per target.
        title: The figure's title.

    Returns:
        The path written.
    """
    fig = pass_rate_figure(rates, threshold=threshold, n_seeds=n_seeds, title=title)
    fmt = path.suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, metadata={"Software": "policysim"} if fmt == "png" else None)
    return path


def plot_validation(report: ValidationReport, out: Path) -> Path:
    """Draw a validation report's pass rates into ``out/validation.png``.

    Args:
        report: The report (:func:`sim.analysis.validation.run_validation`).
        out: The validation folder.

    Returns:
        The path written.
    """
    return plot_pass_rates(report.pass_rates(), out / "validation.png",
                           threshold=report.threshold, n_seeds=len(report.seeds),
                           title=f"{report.targets.scenario}: stylized facts met")  # fmt: skip
