"""Stakeholder figures: positions on each policy dimension over time, and the influence network.

Positions come from replicate 0 of each scenario (the stored ``stakeholders`` table); thin lines
are single stakeholders, thick lines the clout-and-salience-weighted mean of each kind, the dashed
line the effective policy (the weighted mean over all). The network figure draws the influence
matrix W at chosen dates on a fixed circular layout, stakeholders grouped by kind, so dates can be
compared: lines join each stakeholder to the speakers it listens to most, coloured by the
speaker's kind, wider for larger weights; a node's size is how much the others listen to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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
TOP_SPEAKERS = 3  # each listener's strongest speakers drawn
MAX_DATES = 4


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
        for k, ax in enumerate(axes.flat):
            if k >= len(names):
                ax.set_visible(False)
            elif k + ncols >= len(names):  # nothing below: show its dates
                ax.xaxis.set_tick_params(labelbottom=True)
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
    dates: Sequence[pd.Timestamp | str] | None = None, top: int = TOP_SPEAKERS,
) -> Figure:  # fmt: skip
    """Draw the influence network of one scenario at chosen dates, on a fixed circular layout.

    Args:
        network: ``date``, ``scenario``, ``listener``, ``speaker``, ``weight``.
        stakeholders: The stakeholders table (for each one's kind).
        scenario: The scenario to draw.
        dates: Dates to draw (default: up to four stored dates, first and last included).
        top: Draw each listener's ``top`` strongest speakers (besides itself).

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
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    nodes = sorted(kinds.index, key=lambda s: (order.get(kinds[s], len(order)),
                                               list(kinds.index).index(s)))  # fmt: skip
    pos = nx.circular_layout(nodes)
    others = net.loc[net["listener"] != net["speaker"]]
    attention = others.groupby(["date", "speaker"])["weight"].sum()
    most = float(attention.max()) if len(attention) else 1.0
    ncols = 1 if len(chosen) == 1 else 2
    nrows = math.ceil(len(chosen) / ncols)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 0.9 + 3.5 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, date in zip(axes.flat, chosen, strict=False):
            edges = (others.loc[others["date"] == date].sort_values("weight", ascending=False)
                     .groupby("listener", sort=False).head(top))  # fmt: skip
            _draw_network(
                ax, edges, nodes, pos, kinds, attention.get(date, pd.Series(dtype=float)), most
            )
            ax.text(
                0.0,
                1.0,
                f"{date:%Y-%m}",
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=10,
                fontweight="bold",
            )
        for ax in axes.flat[len(chosen) :]:
            ax.set_visible(False)
        handles = [Line2D([], [], linestyle="none", marker="o", color=KIND_COLORS.get(k, "0.5"))
                   for k in KIND_ORDER if k in set(kinds)]  # fmt: skip
        fig.legend(handles, [k for k in KIND_ORDER if k in set(kinds)],
                   loc="outside lower center", ncols=6,
                   title=f"Lines: each stakeholder's {top} strongest influences, in the speaker's "
                   "colour (width: weight); node size: total weight others give it",
                   title_fontsize=7.5)  # fmt: skip
        fig.suptitle(f"Influence network, {scenario}", x=0.01, ha="left")
    return fig


def _draw_network(
    ax: Axes, edges: pd.DataFrame, nodes: list[str], pos: Mapping[str, np.ndarray],
    kinds: pd.Series, attention: pd.Series, most: float,
) -> None:  # fmt: skip
    """Draw one date's network on ``ax``: nodes sized by attention, edges by weight."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for row in edges.itertuples(index=False):
        if row.speaker in pos and row.listener in pos:
            graph.add_edge(row.speaker, row.listener, weight=float(row.weight))  # type: ignore[arg-type]
    sizes = [15 + 260 * float(attention.get(n, 0.0)) / max(most, 1e-12) for n in nodes]
    node_colors = [KIND_COLORS.get(kinds.get(n, ""), "0.5") for n in nodes]
    edge_list = list(graph.edges(data="weight"))
    w_top = max((w for *_, w in edge_list), default=1.0)
    nx.draw_networkx_edges(
        graph, pos, ax=ax, edgelist=[(u, v) for u, v, _ in edge_list],
        width=[0.3 + 2.2 * w / w_top for *_, w in edge_list],
        edge_color=[KIND_COLORS.get(kinds.get(u, ""), "0.5") for u, _, _ in edge_list],
        alpha=0.55, arrows=False,
    )  # fmt: skip
    nx.draw_networkx_nodes(
        graph,
        pos,
        ax=ax,
        nodelist=nodes,
        node_size=sizes,
        node_color=node_colors,
        edgecolors="white",
        linewidths=0.5,
    )
    for name in nodes:
        x, y = pos[name]
        angle = math.degrees(math.atan2(y, x))
        flip = 90 < angle % 360 < 270
        ax.text(
            x * 1.13,
            y * 1.13,
            name,
            fontsize=6,
            rotation=angle + 180 * flip,
            rotation_mode="anchor",
            ha="right" if flip else "left",
            va="center",
        )
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.55, 1.55)
    ax.set_aspect("equal")
    ax.axis("off")
