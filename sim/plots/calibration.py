"""Figures of an ABC-SMC calibration: marginal posteriors, pair plot, held-out comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.posterior import AbcResult
from sim.plots.style import OKABE_ITO, PAPER_WIDTH_IN, figure_style
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


ARM_STYLE = {
    "posterior": ("posterior predictive", POSTERIOR_COLOR, "o"),
    "medians": ("posterior medians (the candidate)", OKABE_ITO["orange"], "s"),
    "current": ("current values", OKABE_ITO["black"], "D"),
}


def comparison_figure(table: pd.DataFrame, verdict: dict[str, Any], threshold: float,
                      draws: int, seeds: int) -> Figure:  # fmt: skip
    """Draw the held-out comparison: each target's share of runs meeting it, per arm, 95% CI.

    Args:
        table: The comparison (see :func:`sim.analysis.holdout_comparison.compare`).
        verdict: ``comparison.json``: the losses and the verdict line.
        threshold: The targets' pass threshold (dashed line).
        draws: Posterior draws.
        seeds: Held-out seeds.

    Returns:
        One row per target (held-out targets marked ``*``), three points with whiskers each; the
        title gives every arm's held-out loss and the verdict.
    """
    n = len(table)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 1.6 + 0.42 * n), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(n)[::-1].astype(float)
        for k, (arm, (label, color, marker)) in enumerate(ARM_STYLE.items()):
            rate = table[f"{arm}_rate"].to_numpy(dtype=float)
            low = np.clip(rate - table[f"{arm}_low"].to_numpy(dtype=float), 0, None)
            high = np.clip(table[f"{arm}_high"].to_numpy(dtype=float) - rate, 0, None)
            ax.errorbar(rate * 100, y + 0.22 * (1 - k), xerr=[low * 100, high * 100],
                        fmt=marker, color=color, ms=4, elinewidth=0.9, capsize=2,
                        label=label)  # fmt: skip
        ax.axvline(threshold * 100, color="#777777", linestyle="--", linewidth=1,
                   label=f"threshold {threshold:.0%}")  # fmt: skip
        labels = [f"{t}{' *' if h else ''}" for t, h in zip(table["target"], table["held_out"],
                                                            strict=True)]  # fmt: skip
        ax.set_yticks(y, labels)
        for tick, worse in zip(ax.get_yticklabels(), table["worse"], strict=True):
            if worse:
                tick.set_color(OKABE_ITO["vermillion"])
        lowest = min(float(table[f"{arm}_low"].min()) for arm in ARM_STYLE)
        ax.set_xlim(min(50.0, 10 * np.floor(lowest * 10) - 2), 102)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"% of held-out runs meeting the target\n(posterior: {draws} draws x "
                      f"{seeds} seeds; others: {seeds} seeds; 95% Wilson intervals)\n"
                      "* left out of the distance; red: significantly worse")  # fmt: skip
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=7)
        loss = verdict["losses"]
        fig.suptitle("Held-out comparison. Loss: " + ", ".join(
            f"{arm} {loss[arm]['all']:.3g}" for arm in ARM_STYLE) + "\nposterior no worse: "
            + ("yes" if verdict["no_worse"] else "no"), fontsize=9)  # fmt: skip
    return fig


def plot_folder(folder: Path, threshold: float, out: Path | None = None,
                label: str | None = None) -> list[Path]:  # fmt: skip
    """Draw a calibration folder's figures from its files (so they can be redrawn any time).

    Writes ``marginals.png``, ``pairs.png`` (two or more parameters) and ``comparison.png``.

    Args:
        folder: A finished ABC-SMC calibration folder.
        threshold: The targets' pass threshold.
        out: Where to write them (default: ``folder``).
        label: A note written under each figure, on the right (e.g. the commit).

    Returns:
        The paths written.
    """
    import json

    posterior = pd.read_parquet(folder / "posterior.parquet")
    table = pd.read_csv(folder / "posterior_summary.csv")
    verdict = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    settings = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["settings"]
    figures = {"marginals.png": marginals_figure(posterior, table),
               "pairs.png": pairs_figure(posterior, table),
               "comparison.png": comparison_figure(
                   pd.read_parquet(folder / "comparison.parquet"), verdict, threshold,
                   settings["draws"], settings["holdout_seeds"])}  # fmt: skip
    target = out if out is not None else folder
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in figures.items():
        if fig is None:
            continue
        if label:
            fig.supxlabel(label, x=0.995, ha="right", fontsize=6, color="#555555")
        with atomic_path(target / name) as tmp:
            fig.savefig(tmp, format="png", dpi=150)
        written.append(target / name)
    return written


def plot_calibration(result: AbcResult, threshold: float, out: Path) -> list[Path]:
    """Draw the figures of a finished calibration into its folder (see :func:`plot_folder`)."""
    return plot_folder(result.manifest.parent, threshold, out)
