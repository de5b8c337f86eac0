"""The centre's figure: what pulls on it, with its position, a panel per scenario.

Each panel shows the six pulls on the centre's platform stringency (``centre_pull_*``: priorities,
growth, jobs, market value, AI, stakeholders; mean over replicates), in position units a month
before its speed, their sum (the net pull) and, on the right axis, the centre's platform stringency.
A pinned centre feels the pulls but does not move. The centre's position on both dimensions, among
the other stakeholders', is in the stakeholder figures (:mod:`sim.plots.influence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from sim.errors import ResultsError
from sim.model.centre import PULLS
from sim.plots.data import Event
from sim.plots.influence import finish_panel_grid
from sim.plots.style import PAPER_WIDTH_IN, figure_style, order_scenarios, scenario_colors
from sim.plots.timeseries import date_axis, mark_events

PULL_COLORS: dict[str, str] = {
    "priorities": "#332288",
    "growth": "#117733",
    "jobs": "#44AA99",
    "value": "#CC6677",
    "ai": "#DDCC77",
    "stakeholders": "#AA4499",
}
"""Colour of each pull on the centre (Paul Tol's muted palette)."""

PULL_COLUMNS: tuple[str, ...] = tuple(f"centre_pull_{p}" for p in PULLS)
CENTRE_ONLY: tuple[str, ...] = ("central_self_reliance", *PULL_COLUMNS)
"""Metrics drawn in the centre figure only (no time-series figure of their own by default)."""


def centre_figure(
    timeseries: pd.DataFrame, *, events: Sequence[Event] = (),
    scenarios: Sequence[str] | None = None, colors: Mapping[str, str] | None = None,
) -> Figure:  # fmt: skip
    """Plot the pulls on the centre's platform stringency over time, a panel per scenario.

    Each panel shows the six pulls and their sum (the net pull, left axis) and the centre's
    platform stringency (right axis, dashed), mean over replicates.

    Args:
        timeseries: ``date``, ``scenario``, ``central_stance`` and the ``centre_pull_*`` columns,
            one row per run and month.
        events: Policy events to mark.
        scenarios: Scenarios in panel order (default: baseline first).
        colors: Scenario colours (for the panel titles).

    Returns:
        The figure.

    Raises:
        ResultsError: When the table lacks the centre's columns.
    """
    needed = ["central_stance", *PULL_COLUMNS]
    missing = [c for c in needed if c not in timeseries.columns]
    if missing:
        raise ResultsError(f"time series has no centre columns: {', '.join(missing)}")
    names = list(scenarios or order_scenarios(timeseries["scenario"].unique()))
    colors = dict(colors or scenario_colors(names))
    means = timeseries.groupby(["scenario", "date"])[needed].mean()
    ncols = 1 if len(names) == 1 else 2
    nrows = -(-len(names) // ncols)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 1.1 + 2.1 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        twin = None
        for i, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
            frame = means.loc[name]
            for pull, column in zip(PULLS, PULL_COLUMNS, strict=True):
                ax.plot(frame.index, frame[column], color=PULL_COLORS[pull], linewidth=1.2,
                        label=pull)  # fmt: skip
            net = frame[list(PULL_COLUMNS)].to_numpy().sum(axis=1)
            ax.plot(frame.index, net, color="black", linewidth=1.6, label="net pull")
            ax.axhline(0.0, color="0.6", linewidth=0.6)
            twin = ax.twinx()
            twin.plot(frame.index, frame["central_stance"], color="0.35", linestyle="--",
                      linewidth=1.5, label="centre: platform stringency (right axis)")  # fmt: skip
            twin.set_ylim(0, 1)
            if i % ncols == ncols - 1 or i == len(names) - 1:
                twin.set_ylabel("centre's position")
            else:
                twin.set_yticklabels([])
            date_axis(ax)
            mark_events(ax, [e for e in events if name in e.scenarios], numbers=False)
            ax.set_xlim(frame.index.min(), frame.index.max())
            ax.set_title(name, loc="left", color=colors.get(name, "black"), fontweight="bold")
            if i % ncols == 0:
                ax.set_ylabel("pull a month")
        finish_panel_grid(axes, len(names))
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if twin is not None:
            more, more_labels = twin.get_legend_handles_labels()
            handles, labels = handles + more, labels + more_labels
        fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=7,
                   title="Pulls on the centre's platform stringency (a pinned centre feels them "
                   "but does not move); dotted grey: the scenario's marked events",
                   title_fontsize=7.5)  # fmt: skip
        fig.suptitle("The centre: what pulls on it (mean over replicates)", x=0.01, ha="left")
    return fig
