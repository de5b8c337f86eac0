"""The centre's figure: its position and what pulls on it, a row per scenario.

Left: the centre's stance on platform stringency and on self-reliance (mean over replicates), with
the effective policy on platform stringency for reference. Right: the six pulls on its platform
stringency (``centre_pull_*``: priorities, growth, jobs, market value, AI, stakeholders; mean over
replicates), in position units a month before its speed; their sum is the net pull. A pinned centre
feels the pulls but does not move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from sim.errors import ResultsError
from sim.model.centre import PULLS
from sim.plots.data import Event
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


def centre_figure(
    timeseries: pd.DataFrame, *, events: Sequence[Event] = (),
    scenarios: Sequence[str] | None = None, colors: Mapping[str, str] | None = None,
) -> Figure:  # fmt: skip
    """Plot the centre's position and the pulls on it over time, a row per scenario.

    Args:
        timeseries: ``date``, ``scenario``, ``central_stance``, ``central_self_reliance``,
            ``effective_stringency`` and the ``centre_pull_*`` columns, one row per run and month.
        events: Policy events to mark.
        scenarios: Scenarios in row order (default: baseline first).
        colors: Scenario colours (for the row titles).

    Returns:
        The figure.

    Raises:
        ResultsError: When the table lacks the centre's columns.
    """
    needed = ["central_stance", "central_self_reliance", "effective_stringency", *PULL_COLUMNS]
    missing = [c for c in needed if c not in timeseries.columns]
    if missing:
        raise ResultsError(f"time series has no centre columns: {', '.join(missing)}")
    names = list(scenarios or order_scenarios(timeseries["scenario"].unique()))
    colors = dict(colors or scenario_colors(names))
    means = timeseries.groupby(["scenario", "date"])[needed].mean()
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 1.2 + 1.9 * len(names)), layout="constrained")
        axes = fig.subplots(len(names), 2, squeeze=False, sharex=True)
        for row, name in enumerate(names):
            frame = means.loc[name]
            left, right = axes[row]
            left.plot(frame.index, frame["central_stance"], color="#332288", linewidth=2.0,
                      label="centre: platform stringency")  # fmt: skip
            left.plot(frame.index, frame["central_self_reliance"], color="#332288",
                      linestyle=":", linewidth=1.6, label="centre: self-reliance")  # fmt: skip
            left.plot(frame.index, frame["effective_stringency"], color="black", linestyle="--",
                      linewidth=1.0, label="effective policy: platform stringency")  # fmt: skip
            left.set_ylim(0, 1)
            left.set_ylabel("position (0-1)")
            left.set_title(name, loc="left", color=colors.get(name, "black"), fontweight="bold")
            for pull, column in zip(PULLS, PULL_COLUMNS, strict=True):
                right.plot(frame.index, frame[column], color=PULL_COLORS[pull], linewidth=1.3,
                           label=pull)  # fmt: skip
            net = frame[list(PULL_COLUMNS)].to_numpy().sum(axis=1)
            right.plot(frame.index, net, color="black",
                       linewidth=1.8, label="net pull")  # fmt: skip
            right.axhline(0.0, color="0.6", linewidth=0.6)
            right.set_ylabel("pull a month")
            right.set_title("pulls on its platform stringency", loc="left", fontsize=8)
            for ax in (left, right):
                date_axis(ax)
                mark_events(ax, [e for e in events if name in e.scenarios], numbers=False)
                ax.set_xlim(frame.index.min(), frame.index.max())
        handles, labels = axes[0, 0].get_legend_handles_labels()
        more, more_labels = axes[0, 1].get_legend_handles_labels()
        fig.legend(handles + more, labels + more_labels, loc="outside lower center", ncols=4,
                   fontsize=7, title="Left: positions; right: pulls (dotted lines: the "
                   "scenario's marked events)", title_fontsize=7.5)  # fmt: skip
        fig.suptitle("The centre: its position and what pulls on it (mean over replicates)",
                     x=0.01, ha="left")  # fmt: skip
    return fig
