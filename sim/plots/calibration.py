"""Figures of an ABC-SMC calibration: marginal posteriors, pair plot, posterior predictive check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.posterior import AbcResult
from sim.plots.style import OKABE_ITO, PAPER_WIDTH_IN, figure_style
from sim.plots.validation import pass_rate_figure
from sim.results.store import atomic_path

POSTERIOR_COLOR = OKABE_ITO["blue"]
PAIR_PARAMETERS = 3
"""Parameters in the pair plot: the most constrained ones (smallest posterior/prior width)."""


def _bins(lo: float, hi: float, n: int = 20) -> np.ndarray:
    return np.linspace(lo, hi, n + 1)


def marginals_figure(posterior: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """Draw each parameter's weighted posterior histogram against its uniform prior.

    Args:
        posterior: Particles with a column per parameter and ``weight``.
        table: The summary of :func:`sim.analysis.posterior.posterior_table`.

    Returns:
        One panel per parameter: posterior density (bars), prior density (dashed), posterior
        median (solid) and current value (dotted); the title gives the width ratio.
    """
    n = len(table)
    cols = min(3, n)
    rows = -(-n // cols)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 2.1 * rows + 0.5), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        w = posterior["weight"].to_numpy(dtype=float)
        for ax, r in zip(axes, table.to_dict("records"), strict=False):
            lo, hi = r["prior_low"], r["prior_high"]
            ax.hist(posterior[r["parameter"]], bins=_bins(lo, hi), weights=w, density=True,
                    color=POSTERIOR_COLOR, alpha=0.75, label="posterior")  # fmt: skip
            ax.hlines(1.0 / (hi - lo), lo, hi, colors=OKABE_ITO["black"], linestyles="--",
                      label="prior")  # fmt: skip
            ax.axvline(r["median"], color=OKABE_ITO["vermillion"], label="posterior median")
            ax.axvline(r["current"], color=OKABE_ITO["black"], linestyle=":", label="current")
            ax.set_xlim(lo, hi)
            ax.set_title(f"{r['parameter']}\n95% width / prior: {r['width_ratio']:.2f}",
                         fontsize=9)  # fmt: skip
            ax.set_xlabel(r["path"])
            ax.set_ylabel("density")
        for ax in axes[n:]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=4)
    return fig


def pairs_figure(posterior: pd.DataFrame, table: pd.DataFrame,
                 k: int = PAIR_PARAMETERS) -> Figure | None:  # fmt: skip
    """Draw the pair plot of the ``k`` most constrained parameters (None with fewer than two).

    Diagonal: weighted histograms; below it: particles, their area proportional to weight.
    """
    chosen = table.nsmallest(min(k, len(table)), "width_ratio")
    if len(chosen) < 2:
        return None
    names = list(chosen["parameter"])
    bounds = {r["parameter"]: (r["prior_low"], r["prior_high"]) for _, r in chosen.iterrows()}
    w = posterior["weight"].to_numpy(dtype=float)
    sizes = 8 + 120 * w / w.max()
    m = len(names)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, PAPER_WIDTH_IN * 0.9), layout="constrained")
        axes = fig.subplots(m, m, squeeze=False)
        for i, yi in enumerate(names):
            for j, xj in enumerate(names):
                ax = axes[i, j]
                if j > i:
                    ax.set_visible(False)
                    continue
                if i == j:
                    ax.hist(posterior[xj], bins=_bins(*bounds[xj]), weights=w,
                            color=POSTERIOR_COLOR, alpha=0.75)  # fmt: skip
                    ax.set_yticks([])
                else:
                    ax.scatter(posterior[xj], posterior[yi], s=sizes, color=POSTERIOR_COLOR,
                               alpha=0.5, linewidths=0)  # fmt: skip
                    ax.set_ylim(*bounds[yi])
                    if j == 0:
                        ax.set_ylabel(yi)
                ax.set_xlim(*bounds[xj])
                if i == m - 1:
                    ax.set_xlabel(xj)
        fig.suptitle(f"Posterior of the {m} most constrained parameters (axes: prior bounds)")
    return fig


def predictive_figure(result: AbcResult, threshold: float) -> Figure:
    """Draw the share of held-out seeds meeting each target under the posterior (95% CI).

    The current values' share on the same seeds is a black diamond; held-out targets (left out
    of the distance) are marked ``*``.
    """
    rates = result.predictive.rates.copy()
    rates["target"] = [f"{t} *" if h else t for t, h in zip(rates["target"], rates["held_out"],
                                                            strict=True)]  # fmt: skip
    seeds = len(result.run.holdout_seeds)
    draws = len(result.predictive.particles)
    fig = pass_rate_figure(rates, threshold=threshold, n_seeds=int(rates["n"].max()), title="")
    ax = fig.axes[0]
    y = np.arange(len(rates))[::-1]
    with figure_style():
        ax.scatter(rates["current_rate"] * 100, y, marker="D", s=18, color=OKABE_ITO["black"],
                   zorder=6, label="current values (same seeds)")  # fmt: skip
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
        ax.set_xlabel(f"% of runs meeting the target ({draws} posterior draws x {seeds} held-out "
                      "seeds)\nbars: 95% Wilson interval")  # fmt: skip
        fig.suptitle("Posterior predictive check (* target left out of the distance)")
    return fig


def plot_calibration(result: AbcResult, threshold: float, out: Path) -> list[Path]:
    """Write ``marginals.png``, ``pairs.png`` (two or more parameters) and ``predictive.png``.

    Args:
        result: The calibration.
        threshold: The targets' pass threshold.
        out: The folder.

    Returns:
        The paths written.
    """
    figures = {"marginals.png": marginals_figure(result.posterior, result.table),
               "pairs.png": pairs_figure(result.posterior, result.table),
               "predictive.png": predictive_figure(result, threshold)}  # fmt: skip
    written = []
    for name, fig in figures.items():
        if fig is None:
            continue
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, format="png", dpi=150)
        written.append(out / name)
    return written
