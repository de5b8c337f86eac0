"""Stakeholder figures: positions on each policy dimension over time, and the influence network.

Positions come from replicate 0 of each scenario (the stored ``stakeholders`` table); thin lines
are single stakeholders, thick lines the clout-and-salience-weighted mean of each kind, the dashed
line the effective policy (the weighted mean over all). The network figure shows what changes in
the influence matrix W between the stored dates (each December): how the total weight others give
each stakeholder moved, for those that moved most, and the weights of the ties that changed most,
date by date. Drawing W itself would show the same few heavy ties (everyone listens to the
centre) at every date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.errors import ResultsError
from sim.plots.data import Event
from sim.plots.style import (
    KIND_COLORS,
    PAPER_WIDTH_IN,
    figure_style,
    humanize,
    order_scenarios,
    scenario_colors,
)
from sim.plots.timeseries import date_axis, mark_events

KIND_ORDER: tuple[str, ...] = ("center", "regulator", "fund", "city", "investors", "firm")
TOP_TIES = 12  # ties shown: those whose weight changed most
TOP_MOVERS = 8  # stakeholders shown: those whose received weight changed most
MAX_DATES = 8


def finish_panel_grid(axes: np.ndarray, n: int) -> None:
    """Hide the panels of a grid beyond the first ``n`` and date the lowest panel of each column.

    Args:
        axes: The grid of axes (rows x columns, sharing x).
        n: Panels in use, filled row by row.
    """
    ncols = axes.shape[1]
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
        elif k + ncols >= n:  # nothing below: show its dates
            ax.xaxis.set_tick_params(labelbottom=True)


def _weighted_mean(frame: pd.DataFrame, column: str) -> pd.Series:
    """Clout-and-salience-weighted mean of ``column`` per date."""
    w = frame["clout"] * frame["salience"]
    num = (frame[column] * w).groupby(frame["date"]).sum()
    den = w.groupby(frame["date"]).sum()
    return num / den.where(den > 0)


def stakeholder_positions_figure(
    stakeholders: pd.DataFrame, dimension: str, *, events: Sequence[Event] = (),
    scenarios: Sequence[str] | None = None, colors: Mapping[str, str] | None = None,
) -> Figure:  # fmt: skip
    """Plot every stakeholder's position on one policy dimension over time, a panel per scenario.

    Args:
        stakeholders: ``date``, ``scenario``, ``stakeholder``, ``kind``, ``clout``, ``salience``
            and one column per dimension (replicate 0 of each scenario).
        dimension: The policy dimension, e.g. ``platform_stringency``.
        events: Policy events to mark.
        scenarios: Scenarios in panel order (default: baseline first).
        colors: Scenario colours (for the panel titles).

    Returns:
        The figure.
    """
    if dimension not in stakeholders.columns:
        raise ResultsError(f"stakeholders table has no dimension column {dimension!r}")
    names = list(scenarios or order_scenarios(stakeholders["scenario"].unique()))
    colors = dict(colors or scenario_colors(names))
    ncols = 1 if len(names) == 1 else 2
    nrows = math.ceil(len(names) / ncols)
    kinds = [k for k in KIND_ORDER if k in set(stakeholders["kind"])]
    kinds += sorted(set(stakeholders["kind"]) - set(kinds))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 1.1 + 2.3 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        shown: list[Event] = []
        for i, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
            frame = stakeholders.loc[stakeholders["scenario"] == name]
            for _, one in frame.groupby("stakeholder", sort=False):
                ax.plot(one["date"], one[dimension], color=KIND_COLORS.get(one["kind"].iloc[0],
                        "0.5"), linewidth=0.5, alpha=0.35)  # fmt: skip
            for kind in kinds:
                mean = _weighted_mean(frame.loc[frame["kind"] == kind], dimension)
                ax.plot(mean.index, mean.to_numpy(), color=KIND_COLORS.get(kind, "0.5"),
                        linewidth=2.0, label=kind)  # fmt: skip
            effective = _weighted_mean(frame, dimension)
            ax.plot(effective.index, effective.to_numpy(), color="black", linestyle="--",
                    linewidth=1.4, label="effective policy")  # fmt: skip
            date_axis(ax)
            ax.set_xlim(frame["date"].min(), frame["date"].max())
            ax.set_ylim(0, 1)
            marked, _ = mark_events(ax, [e for e in events if name in e.scenarios],
                                    numbers=False)  # fmt: skip
            shown += [e for e in marked if e not in shown]
            ax.set_title(name, loc="left", color=colors.get(name, "black"), fontweight="bold")
            if i % ncols == 0:
                ax.set_ylabel("position (0-1)")
        finish_panel_grid(axes, len(names))
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
                   title="Thick: weighted mean of each kind; thin: single stakeholders; "
                   "dotted: the scenario's marked events", title_fontsize=7.5)  # fmt: skip
        fig.suptitle(f"Stakeholder positions on {humanize(dimension).lower()}", x=0.01,
                     ha="left")  # fmt: skip
    return fig


def network_dates(network: pd.DataFrame, n: int = MAX_DATES) -> list[pd.Timestamp]:
    """Return up to ``n`` dates of the stored networks, evenly spread, first and last included."""
    dates = sorted(pd.to_datetime(network["date"]).unique())
    if len(dates) <= n:
        return [pd.Timestamp(d) for d in dates]
    picks = np.unique(np.round(np.linspace(0, len(dates) - 1, n)).astype(int))
    return [pd.Timestamp(dates[i]) for i in picks]


def influence_network_figure(
    network: pd.DataFrame, stakeholders: pd.DataFrame, scenario: str, *,
    dates: Sequence[pd.Timestamp | str] | None = None, ties: int = TOP_TIES,
    movers: int = TOP_MOVERS,
) -> Figure:  # fmt: skip
    """Show how the influence network of one scenario changes between stored dates.

    Top: for the ``movers`` stakeholders whose received weight changed most, the change since the
    first date in the total weight the others give them, one line each, named at its end. Bottom:
    the ``ties`` ties (speaker to listener) whose weight changed most, one row each, a column per
    date, each cell the weight the listener gives the speaker.

    Args:
        network: ``date``, ``scenario``, ``listener``, ``speaker``, ``weight``.
        stakeholders: The stakeholders table (for each one's kind).
        scenario: The scenario to draw.
        dates: Dates to compare (default: up to eight stored dates, first and last included).
        ties: How many ties to show.
        movers: How many stakeholders to show.

    Returns:
        The figure.

    Raises:
        ResultsError: When the scenario has no stored network or a date is not stored.
    """
    net = network.loc[network["scenario"] == scenario].copy()
    if net.empty:
        raise ResultsError(f"no stored influence network for scenario {scenario!r}")
    net["date"] = pd.to_datetime(net["date"])
    chosen = [pd.Timestamp(d) for d in dates] if dates else network_dates(net)
    stored = set(net["date"])
    missing = [f"{d:%Y-%m}" for d in chosen if d not in stored]
    if missing:
        known = ", ".join(f"{d:%Y-%m}" for d in sorted(stored))
        raise ResultsError(f"no network stored at {', '.join(missing)}; stored: {known}")
    kinds = (stakeholders.loc[stakeholders["scenario"] == scenario]
             .drop_duplicates("stakeholder").set_index("stakeholder")["kind"])  # fmt: skip
    others = net.loc[(net["listener"] != net["speaker"]) & net["date"].isin(chosen)]
    weights = others.pivot_table(index=["speaker", "listener"], columns="date", values="weight",
                                 aggfunc="sum").reindex(columns=chosen).fillna(0.0)  # fmt: skip
    attention = weights.groupby(level="speaker").sum()
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 8.6), layout="constrained")
        top, bottom = fig.subplots(2, 1, height_ratios=[1.0, 1.25])
        shown = _attention_panel(top, attention, kinds, movers)
        shown |= _ties_panel(fig, bottom, weights, kinds, ties)
        present = [k for k in KIND_ORDER if k in {str(kinds.get(n, "")) for n in shown}]
        handles = [Line2D([], [], color=KIND_COLORS[k], marker="o", linewidth=1.4) for k in present]
        fig.legend(handles, present, loc="outside lower center", ncols=len(present),
                   title="Colour: the stakeholder's kind (in the table, the speaker's)",
                   title_fontsize=7.5)  # fmt: skip
        fig.suptitle(f"Influence network of {scenario}: what changed", x=0.01, ha="left")
    return fig


def _attention_panel(ax: Axes, attention: pd.DataFrame, kinds: pd.Series, n: int) -> set[str]:
    """Draw the change since the first date of the weight others give a stakeholder.

    Returns:
        The stakeholders drawn.
    """
    change = attention.sub(attention.iloc[:, 0], axis=0)
    chosen = change.abs().max(axis=1).sort_values(ascending=False).index[:n]
    x = list(attention.columns)
    ends = []
    for name in chosen:
        color = KIND_COLORS.get(str(kinds.get(name, "")), "0.5")
        ax.plot(x, change.loc[name].to_numpy(), color=color, marker="o", markersize=3,
                linewidth=1.4)  # fmt: skip
        ends.append((float(change.loc[name].iloc[-1]), name, color))
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    _label_ends(ax, ends)
    ax.set_xticks(x, [f"{d:%Y-%m}" for d in x])
    ax.set_ylabel("change in weight received\nsince " + f"{x[0]:%Y-%m}")
    ax.set_title(f"Change in the total weight others give a stakeholder ({len(chosen)} largest)",
                 loc="left", fontsize=9)  # fmt: skip
    return set(chosen)


def spread_labels(ys: Sequence[float], gap: float) -> list[float]:
    """Return label positions near ``ys`` (in their order) at least ``gap`` apart.

    Labels that would collide form a group centred on the mean of its targets; groups that then
    touch merge, until none do.
    """
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    groups: list[list[int]] = [[i] for i in order]

    def placed(group: list[int]) -> list[float]:
        centre = float(np.mean([ys[i] for i in group]))
        return [centre + (k - (len(group) - 1) / 2) * gap for k in range(len(group))]

    merged = True
    while merged:
        merged = False
        for k in range(len(groups) - 1):
            if placed(groups[k])[-1] + gap > placed(groups[k + 1])[0] + 1e-12:
                groups[k] += groups.pop(k + 1)
                merged = True
                break
    out = [0.0] * len(ys)
    for group in groups:
        for i, y in zip(group, placed(group), strict=True):
            out[i] = y
    return out


def _label_ends(ax: Axes, ends: list[tuple[float, str, str]]) -> None:
    """Write each line's name right of its end, spread so that names never overlap."""
    lo, hi = ax.get_ylim()
    gap = (hi - lo) * 0.06
    at = spread_labels([y for y, _, _ in ends], gap)
    if at:  # names spread past the ends of the axis: widen it so they stay beside it
        ax.set_ylim(min(lo, min(at) - gap / 2), max(hi, max(at) + gap / 2))
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for (_, name, color), y in zip(ends, at, strict=True):
        ax.text(1.01, y, name, transform=trans, va="center", ha="left", fontsize=7.5,
                color=color, clip_on=False)  # fmt: skip


def _ties_panel(fig: Figure, ax: Axes, weights: pd.DataFrame, kinds: pd.Series, n: int) -> set[str]:
    """Draw a heatmap of the ``n`` ties whose weight changed most, a row each, dates across.

    Returns:
        The speakers of the ties drawn.
    """
    span = weights.max(axis=1) - weights.min(axis=1)
    rows = weights.loc[span.sort_values(ascending=False).index[:n]]
    values = rows.to_numpy()
    top = max(float(values.max(initial=0.0)), 1e-12)
    image = ax.imshow(values, aspect="auto", cmap="cividis", norm=Normalize(0.0, top))
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                color="black" if v > top / 2 else "white")  # fmt: skip
    ax.set_xticks(range(values.shape[1]), [f"{d:%Y-%m}" for d in rows.columns])
    ax.set_yticks(range(len(rows)), [f"{speaker} \u2192 {listener}"
                                     for speaker, listener in rows.index])  # fmt: skip
    for tick, (speaker, _) in zip(ax.get_yticklabels(), rows.index, strict=True):
        tick.set_color(KIND_COLORS.get(str(kinds.get(speaker, "")), "0.2"))
    ax.grid(False)
    ax.set_title(f"The {len(rows)} ties that changed most (speaker \u2192 listener)", loc="left",
                 fontsize=9)  # fmt: skip
    fig.colorbar(image, ax=ax, label="weight the listener gives the speaker", shrink=0.8)
    return {str(speaker) for speaker, _ in rows.index}
