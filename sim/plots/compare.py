"""Scenario comparison figures: run-level outcomes per scenario, and differences from the baseline.

Each panel is one outcome (a final value, a total over the run, a peak or a trough); scenarios are
rows, the dot is the mean across replicates, the whisker its 95% confidence interval and the faint
dots the single runs. The difference figure pairs each run with the baseline run of the same seed:
the counterfactual cost (or gain) of a policy, with the interval of the mean per-seed difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.stats import mean_ci, paired_differences
from sim.errors import ResultsError
from sim.model.units import unit_scale
from sim.plots.style import (
    PAPER_WIDTH_IN,
    MetricInfo,
    figure_style,
    metric_infos,
    order_scenarios,
    outcome_unit,
    panel_title,
    scenario_colors,
)
from sim.scenario.loader import BASELINE

HEADLINE_METRICS: tuple[str, ...] = (
    "market_value_usd", "fines_value_usd", "mean_compliance", "effective_stringency",
    "regulatory_uncertainty", "domestic_compute_share", "ai_capability", "jobs_index",
)  # fmt: skip
"""Metrics shown in comparison figures when none are chosen."""

MARKET_VALUE_OUTCOMES: tuple[str, ...] = (
    "peak_market_value_usd", "trough_market_value_usd", "peak_to_trough_loss_usd", "max_drawdown",
)  # fmt: skip
"""Peak and trough outcomes of market value (see :func:`sim.model.metrics.summarize`)."""



def standard_outcomes(
    metrics: Sequence[str], infos: Mapping[str, MetricInfo], columns: Sequence[str]
) -> list[str]:
    """Return the summary outcomes of ``metrics``: final (stocks) or total (flows), peaks, troughs.

    Args:
        metrics: Metric names.
        infos: Metric declarations (for stock or flow).
        columns: The summary table's columns; outcomes not in it are left out.

    Returns:
        Outcome column names in order.
    """
    out: list[str] = []
    for metric in metrics:
        info = infos.get(metric)
        keys = [f"total_{metric}" if info and info.kind == "flow" else f"final_{metric}"]
        if metric == "market_value_usd":
            keys += list(MARKET_VALUE_OUTCOMES)
        out += [k for k in keys if k in columns and k not in out]
    return out


def _grid(n: int, rows_per_panel: int) -> tuple[int, int, float]:
    """Return rows, columns and figure height for ``n`` panels of ``rows_per_panel`` categories."""
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    height = nrows * (0.55 + 0.26 * rows_per_panel) + 0.5
    return nrows, ncols, height


def _dot_panels(
    fig: Figure, frame: pd.DataFrame, outcomes: Sequence[str], names: Sequence[str],
    colors: Mapping[str, str], infos: Mapping[str, MetricInfo], *, zero_line: bool,
    xlabel_suffix: str = "",
) -> None:  # fmt: skip
    """Draw one dot-and-whisker panel per outcome, scenarios as rows (first at the top)."""
    nrows, ncols, _ = _grid(len(outcomes), len(names))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    y = {name: len(names) - 1 - i for i, name in enumerate(names)}
    rng = np.random.default_rng(0)  # fixed jitter of single runs, the same in every figure
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        unit = outcome_unit(outcome, infos)
        values = frame[outcome].to_numpy(dtype=float)
        scale = unit_scale(unit, values)
        for name in names:
            runs = frame.loc[frame["scenario"] == name, outcome].to_numpy(dtype=float)
            mean, low, high, _n = mean_ci(runs)
            jitter = rng.uniform(-0.18, 0.18, runs.size)
            ax.scatter(runs * scale.factor, y[name] + jitter, s=6, color=colors[name],
                       alpha=0.35, linewidths=0, zorder=2)  # fmt: skip
            if math.isfinite(low):
                ax.hlines(y[name], low * scale.factor, high * scale.factor, color=colors[name],
                          linewidth=2.2, zorder=3)  # fmt: skip
            ax.plot([mean * scale.factor], [y[name]], "o", color=colors[name], markersize=5,
                    markeredgecolor="white", markeredgewidth=0.6, zorder=4)  # fmt: skip
        if zero_line:
            ax.axvline(0.0, color="0.3", linewidth=0.9, zorder=1)
        panel_title(ax, outcome)
        label = "percentage points" if zero_line and unit == "share" else scale.label
        ax.set_xlabel(label + xlabel_suffix)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.08)
    for ax in axes.flat[len(outcomes) :]:
        ax.set_visible(False)
    axes[0, 0].set_yticks([y[n] for n in names], names)
    axes[0, 0].set_ylim(-0.6, len(names) - 0.4)
    for ax in axes[:, 0]:
        ax.tick_params(axis="y", length=0)


def comparison_figure(
    summary: pd.DataFrame, outcomes: Sequence[str], *,
    infos: Mapping[str, MetricInfo] | None = None, colors: Mapping[str, str] | None = None,
    scenarios: Sequence[str] | None = None,
) -> Figure:  # fmt: skip
    """Compare scenarios on run-level outcomes: mean, 95% confidence interval and single runs.

    Args:
        summary: One row per completed run: ``scenario`` and the outcome columns.
        outcomes: Outcome columns, one panel each (see :func:`standard_outcomes`).
        infos: Metric declarations, for units (default: :mod:`sim.model.metrics`).
        colors: Scenario colours.
        scenarios: Scenarios in display order, top to bottom (default: baseline first).

    Returns:
        The figure.

    Raises:
        ResultsError: When an outcome is not in the summary.
    """
    _check_columns(summary, outcomes)
    infos = infos or metric_infos()
    names = list(scenarios or order_scenarios(summary["scenario"].unique()))
    colors = dict(colors or scenario_colors(names))
    _, _, height = _grid(len(outcomes), len(names))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, height), layout="constrained")
        _dot_panels(fig, summary, outcomes, names, colors, infos, zero_line=False)
        fig.suptitle("Outcomes by scenario: mean, 95% confidence interval and single runs",
                     x=0.01, ha="left")  # fmt: skip
    return fig


def baseline_difference_figure(
    summary: pd.DataFrame, outcomes: Sequence[str], *, baseline: str = BASELINE,
    infos: Mapping[str, MetricInfo] | None = None, colors: Mapping[str, str] | None = None,
    scenarios: Sequence[str] | None = None,
) -> Figure:  # fmt: skip
    """Show each scenario's difference from the baseline, paired by seed, with 95% intervals.

    Args:
        summary: One row per completed run: ``scenario``, ``seed`` and the outcome columns.
        outcomes: Outcome columns, one panel each.
        baseline: The baseline scenario.
        infos: Metric declarations, for units.
        colors: Scenario colours.
        scenarios: Scenarios to compare with the baseline, top to bottom.

    Returns:
        The figure.

    Raises:
        ResultsError: When the baseline is missing or no run shares a seed with it.
    """
    _check_columns(summary, [*outcomes, "seed"])
    infos = infos or metric_infos()
    if baseline not in set(summary["scenario"]):
        raise ResultsError(f"no completed run of the baseline scenario {baseline!r}")
    diffs = paired_differences(summary, list(outcomes), baseline)
    names = [n for n in (scenarios or order_scenarios(diffs["scenario"].unique()))
             if n != baseline and n in set(diffs["scenario"])]  # fmt: skip
    if not names:
        raise ResultsError(f"no run shares a seed with a {baseline!r} run; cannot pair them")
    colors = dict(colors or scenario_colors([baseline, *names]))
    _, _, height = _grid(len(outcomes), len(names))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, height + 0.2), layout="constrained")
        _dot_panels(fig, diffs, outcomes, names, colors, infos, zero_line=True)
        fig.suptitle(f"Difference from {baseline}, paired by seed: mean, 95% CI and single pairs",
                     x=0.01, ha="left")  # fmt: skip
    return fig


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsError(f"summary has no column(s) {', '.join(missing)}")
