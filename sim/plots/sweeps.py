"""Sweep figures: response curves, two-parameter heatmaps, Sobol and Morris sensitivity indices.

Response curves average an outcome over the runs at each value of one parameter (over replicates
and the other parameters), with a 95% band; designs with many distinct values (Latin hypercube,
Sobol) are grouped into bins of equal count. Heatmaps need two parameters on a grid. Sensitivity
indices come from :mod:`sim.analysis.stats` (SALib) and are drawn with their 95% intervals.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.analysis.stats import grouped_ci
from sim.errors import ResultsError
from sim.model.units import Scale, unit_scale
from sim.plots.style import (
    FALLBACK_COLORS,
    PAPER_WIDTH_IN,
    MetricInfo,
    figure_style,
    metric_infos,
    order_scenarios,
    outcome_label,
    outcome_unit,
    panel_title,
    scenario_colors,
    scenario_linestyle,
)
from sim.plots.sweep_axes import (
    by_level,
    draw_by_level,
    factor_label,
    linked_factors,
    parameter_ticks,
)

MAX_LEVELS = 25  # a parameter with more distinct values is binned
N_BINS = 10
INDEX_COLORS = {"S1": "#88CCEE", "ST": "#332288"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def sweep_frame(
    runs: pd.DataFrame, summary: pd.DataFrame, parameters: Sequence[str]
) -> pd.DataFrame:
    """Join completed runs' parameter values with their outcomes.

    Args:
        runs: ``runs.parquet`` of a sweep (``run_id``, ``point_id``, ``status``, parameters).
        summary: Per-run outcomes.
        parameters: Parameter columns of ``runs``.

    Returns:
        One row per completed run with ``scenario``, ``point_id``, the parameters and outcomes.
    """
    missing = [p for p in ("point_id", *parameters) if p not in runs.columns]
    if missing:
        raise ResultsError(f"runs.parquet has no column(s) {', '.join(missing)} of the sweep")
    extra = [c for c in ("point_id", *parameters) if c not in summary.columns]
    ok = runs.loc[runs["status"] == "ok", ["run_id", *extra]]
    return ok.merge(summary, on="run_id", how="inner")


def _levels(values: pd.Series, binned: bool) -> pd.Series:
    """Return the value each run is grouped at: itself, or the mean of its bin."""
    if not binned or values.nunique() <= N_BINS:
        return values
    bins = pd.qcut(values, N_BINS, duplicates="drop")
    return values.groupby(bins, observed=True).transform("mean")


def _grid_shape(n: int, ncols_max: int = 3) -> tuple[int, int]:
    ncols = min(n, ncols_max)
    return math.ceil(n / ncols), ncols


def sweep_response_figure(
    frame: pd.DataFrame, outcome: str, parameters: Sequence[str], *,
    labels: Mapping[str, str] | None = None, infos: Mapping[str, MetricInfo] | None = None,
    colors: Mapping[str, str] | None = None, binned: bool | None = None,
    log_x: Collection[str] = (),
) -> Figure:  # fmt: skip
    """Plot an outcome against each swept parameter: mean and 95% band, one panel per parameter.

    Parameters that the design varies together are one panel, labelled by the first and naming
    the others. With two factors on a small full grid (one scenario), each panel draws a line per
    level of the other factor, so no band averages over it; otherwise each scenario's line
    averages over the other parameters. Log axes show plain numbers, integer parameters integers.

    Args:
        frame: One row per completed run (see :func:`sweep_frame`).
        outcome: The outcome column.
        parameters: Parameter columns, one panel each (or per group varied together).
        labels: Axis labels of the parameters (default: the column names).
        infos: Metric declarations, for units.
        colors: Scenario colours (one line per scenario).
        binned: Group values into bins of equal count (sampled designs) rather than by exact
            value (grids); default: bin when a parameter has more than 25 distinct values.
        log_x: Parameters drawn on a logarithmic axis (those sampled in log space).

    Returns:
        The figure.
    """
    infos = infos or metric_infos()
    labels = labels or {}
    names = order_scenarios(frame["scenario"].unique())
    colors = dict(colors or scenario_colors(names))
    scale = unit_scale(outcome_unit(outcome, infos), frame[outcome].to_numpy(dtype=float))
    factors = linked_factors(frame, parameters)
    shown = list(factors)
    lines_by_level = by_level(frame, shown)
    nrows, ncols = _grid_shape(len(shown), 2)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 0.8 + 2.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        for ax, param in zip(axes.flat, shown, strict=False):
            if lines_by_level:
                other = shown[1 - shown.index(param)]
                draw_by_level(ax, frame, param, other, outcome, scale)
            else:
                bins = frame[param].nunique() > MAX_LEVELS if binned is None else binned
                _draw_scenarios(ax, frame, param, outcome, names, colors, scale, bins)
            ax.set_xlabel(wrap_label(factor_label(param, factors[param], labels), 44))
            parameter_ticks(ax, frame[param], log=param in log_x)
        for ax in axes.flat[len(shown) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(scale.label)
        fig.suptitle(f"{outcome_label(outcome)}: response to each parameter", x=0.01, ha="left")
        if lines_by_level:
            fig.legend([], [], loc="outside lower left", title=f"{names[0]}: mean and 95% CI "
                       "over the replicates at each grid point, a line per level of the other "
                       "parameter", title_fontsize=7.5)  # fmt: skip
        else:
            others = ", averaged over the other parameters" if len(shown) > 1 else ""
            handles, texts = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles, texts, loc="outside lower left", ncols=min(len(texts), 4),
                       title=f"Scenario: mean and 95% CI over the runs at each value{others}",
                       title_fontsize=7.5, alignment="left")  # fmt: skip
    return fig


def _draw_scenarios(
    ax: Axes, frame: pd.DataFrame, param: str, outcome: str, names: Sequence[str],
    colors: Mapping[str, str], scale: Scale, bins: bool,
) -> None:  # fmt: skip
    """Draw each scenario's mean outcome against ``param`` with its 95% band."""
    for name in names:
        sub = frame.loc[frame["scenario"] == name].copy()
        sub["_x"] = _levels(sub[param], bins)
        if bins:
            points = sub.groupby("point_id")[[param, outcome]].mean()
            ax.scatter(points[param], points[outcome] * scale.factor, s=5, alpha=0.3,
                       color=colors[name], linewidths=0)  # fmt: skip
        stats = grouped_ci(sub, "_x", [outcome]).sort_values("_x")
        ax.plot(stats["_x"], stats[f"{outcome}_mean"] * scale.factor, color=colors[name],
                linestyle=scenario_linestyle(name), marker=None if bins else "o",
                markersize=3, label=name)  # fmt: skip
        ax.fill_between(stats["_x"], stats[f"{outcome}_low"] * scale.factor,
                        stats[f"{outcome}_high"] * scale.factor, color=colors[name],
                        alpha=0.2, linewidth=0)  # fmt: skip


def wrap_label(text: str, width: int) -> str:
    """Wrap a parameter label at spaces, and a too-long field path after one of its dots."""
    lines = []
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False):
        while len(line) > width and "." in line[1:width]:
            cut = line.rindex(".", 1, width) + 1
            lines.append(line[:cut])
            line = " " + line[cut:]
        lines.append(line)
    return "\n".join(lines)


def is_grid(frame: pd.DataFrame, parameters: Sequence[str]) -> bool:
    """Whether the parameters form a full grid of few enough values for a heatmap."""
    counts = [frame[p].nunique() for p in parameters]
    if not all(1 < c <= MAX_LEVELS for c in counts):
        return False
    return frame.groupby(list(parameters)).ngroups == math.prod(counts)


def sweep_heatmap_figure(
    frame: pd.DataFrame, outcome: str, parameters: tuple[str, str], *,
    labels: Mapping[str, str] | None = None, infos: Mapping[str, MetricInfo] | None = None,
) -> Figure:  # fmt: skip
    """Plot the mean outcome over a two-parameter grid, one panel per scenario.

    Args:
        frame: One row per completed run (see :func:`sweep_frame`).
        outcome: The outcome column.
        parameters: ``(x, y)`` parameter columns.
        labels: Axis labels of the parameters.
        infos: Metric declarations, for units.

    Returns:
        The figure.

    Raises:
        ResultsError: When the parameters are not on a grid.
    """
    if not is_grid(frame, parameters):
        raise ResultsError(f"{parameters[0]} and {parameters[1]} are not on a grid; a heatmap "
                           f"needs 2-{MAX_LEVELS} distinct values of each")  # fmt: skip
    infos = infos or metric_infos()
    labels = labels or {}
    px, py = parameters
    names = order_scenarios(frame["scenario"].unique())
    unit = outcome_unit(outcome, infos)
    tables = {n: frame.loc[frame["scenario"] == n].pivot_table(index=py, columns=px,
                                                                values=outcome, aggfunc="mean")
              for n in names}  # fmt: skip
    scale = unit_scale(unit, np.concatenate([t.to_numpy().ravel() for t in tables.values()]))
    lo = min(np.nanmin(t.to_numpy()) for t in tables.values()) * scale.factor
    hi = max(np.nanmax(t.to_numpy()) for t in tables.values()) * scale.factor
    nrows, ncols = _grid_shape(len(names), 2)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 0.8 + 3.0 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        image = None
        for ax, name in zip(axes.flat, names, strict=False):
            table = tables[name] * scale.factor
            image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="cividis",
                              vmin=lo, vmax=hi)  # fmt: skip
            _annotate_cells(ax, table.to_numpy(), lo, hi)
            ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" for v in table.columns])
            ax.set_yticks(range(table.shape[0]), [f"{v:.3g}" for v in table.index])
            ax.set_xlabel(wrap_label(labels.get(px, px), 40))
            ax.set_ylabel(wrap_label(labels.get(py, py), 30))
            ax.set_title(name, loc="left")
            ax.grid(False)
        for ax in axes.flat[len(names) :]:
            ax.set_visible(False)
        if image is not None:
            fig.colorbar(image, ax=axes.ravel().tolist(), label=scale.label, shrink=0.9)
        fig.suptitle(f"{outcome_label(outcome)}: mean over runs at each grid point", x=0.01,
                     ha="left")  # fmt: skip
    return fig


def _annotate_cells(ax: Axes, values: np.ndarray, lo: float, hi: float) -> None:
    """Write each cell's value when the grid is small, in black or white for contrast."""
    if values.size > 64:
        return
    mid = (lo + hi) / 2
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.3g}",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if v > mid else "white",
            )


def sobol_figure(
    indices: Mapping[str, pd.DataFrame], *, labels: Mapping[str, str] | None = None,
    title: str = "Sobol sensitivity indices",
) -> Figure:  # fmt: skip
    """Plot first-order (S1) and total (ST) Sobol indices with 95% intervals, one panel per outcome.

    Args:
        indices: Outcome to a table from :func:`sim.analysis.stats.sobol_indices`.
        labels: Display names of the parameters.
        title: The figure title.

    Returns:
        The figure.
    """
    labels = labels or {}
    outcomes = list(indices)
    nrows, ncols = _grid_shape(len(outcomes))
    n_par = max(len(t) for t in indices.values())
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 0.8 + nrows * (0.7 + 0.45 * n_par)),
                     layout="constrained")  # fmt: skip
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        for ax, outcome in zip(axes.flat, outcomes, strict=False):
            table = indices[outcome]
            y = np.arange(len(table))[::-1]
            panel_title(ax, outcome)
            ax.grid(axis="y", visible=False)
            if table[["S1", "ST"]].isna().all().all():
                ax.text(0.5, 0.5, "does not vary\nover the design", transform=ax.transAxes,
                        ha="center", va="center", color="0.4", fontsize=8)  # fmt: skip
                ax.set_xlim(-0.05, 1.05)
                continue
            for k, (key, offset) in enumerate((("S1", 0.18), ("ST", -0.18))):
                ax.barh(y + offset, table[key], height=0.34, color=INDEX_COLORS[key],
                        xerr=table[f"{key}_conf"],
                        error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.35"},
                        label=("first-order S1", "total ST")[k])  # fmt: skip
            ax.axvline(0.0, color="0.3", linewidth=0.8)
            ax.set_xlim(
                min(-0.05, float(np.nanmin(table[["S1", "ST"]].to_numpy())) - 0.05),
                max(1.05, float(np.nanmax(table[["S1", "ST"]].to_numpy())) + 0.05),
            )
            ax.set_xlabel("share of output variance")
        first = indices[outcomes[0]]
        axes[0, 0].set_yticks(
            np.arange(len(first))[::-1], [labels.get(p, p) for p in first["parameter"]]
        )
        for ax in axes.flat[len(outcomes) :]:
            ax.set_visible(False)
        handles, texts = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, texts, loc="outside lower left", ncols=2,
                   title="Index with 95% bootstrap interval", title_fontsize=7.5)  # fmt: skip
        fig.suptitle(title, x=0.01, ha="left")
    return fig


def morris_figure(
    indices: Mapping[str, pd.DataFrame], *, labels: Mapping[str, str] | None = None,
    infos: Mapping[str, MetricInfo] | None = None, title: str = "Morris elementary effects",
) -> Figure:  # fmt: skip
    """Plot Morris mu* against sigma per parameter, one panel per outcome.

    Parameters far right matter most; parameters high above the diagonal act non-linearly or
    through interactions. Horizontal whiskers are 95% intervals of mu*.

    Args:
        indices: Outcome to a table from :func:`sim.analysis.stats.morris_indices`.
        labels: Display names of the parameters.
        infos: Metric declarations, for units.
        title: The figure title.

    Returns:
        The figure.
    """
    labels = labels or {}
    infos = infos or metric_infos()
    outcomes = list(indices)
    nrows, ncols = _grid_shape(len(outcomes))
    params = list(indices[outcomes[0]]["parameter"])
    style = {p: (FALLBACK_COLORS[i % len(FALLBACK_COLORS)], MARKERS[i % len(MARKERS)])
             for i, p in enumerate(params)}  # fmt: skip
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 0.9 + 2.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, outcome in zip(axes.flat, outcomes, strict=False):
            table = indices[outcome]
            unit = outcome_unit(outcome, infos)
            panel_title(ax, outcome)
            if not np.nanmax(table[["mu_star", "sigma"]].to_numpy(), initial=0.0) > 0:
                ax.text(0.5, 0.5, "does not vary\nover the design", transform=ax.transAxes,
                        ha="center", va="center", color="0.4", fontsize=8)  # fmt: skip
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            scale = unit_scale(unit, table[["mu_star", "sigma"]].to_numpy())
            f = scale.factor
            for _, row in table.iterrows():
                color, marker = style[row["parameter"]]
                ax.errorbar(
                    row["mu_star"] * f,
                    row["sigma"] * f,
                    xerr=row["mu_star_conf"] * f,
                    fmt=marker,
                    color=color,
                    markersize=5,
                    elinewidth=0.8,
                    capsize=2,
                )
            top = float(np.nanmax(table[["mu_star", "sigma"]].to_numpy()) * f) * 1.1 or 1.0
            ax.plot([0, top], [0, top], color="0.6", linestyle="--", linewidth=0.8)
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            unit_text = "percentage points" if unit == "share" else scale.label
            ax.set_xlabel(f"mu* ({unit_text})")
            ax.set_ylabel(f"sigma ({unit_text})")
        for ax in axes.flat[len(outcomes) :]:
            ax.set_visible(False)
        handles = [Line2D([], [], linestyle="none", marker=style[p][1], color=style[p][0])
                   for p in params]  # fmt: skip
        fig.legend(handles, [labels.get(p, p) for p in params], loc="outside lower left",
                   ncols=min(len(params), 3), title="Parameter (dashed: sigma = mu*)",
                   title_fontsize=7.5)  # fmt: skip
        fig.suptitle(title, x=0.01, ha="left")
    return fig
