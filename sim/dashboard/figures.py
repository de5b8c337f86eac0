"""Matplotlib figures of the live dashboard: metric charts and the influence network.

These functions draw from plain data (a time series, a network snapshot) and return a
:class:`matplotlib.figure.Figure`; the Solara components in :mod:`sim.dashboard.components` show
them. The x axis of every chart spans the whole scenario period from the first step on, so a chart
grows from left to right as the model is stepped, with the scenario's marked policy events as
dotted lines and, optionally, the baseline run with the same seed as a dashed grey line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.model.centre import PULLS
from sim.model.metrics import METRICS_BY_NAME
from sim.model.units import unit_scale
from sim.plots.style import KIND_COLORS, figure_style, scenario_colors

BASELINE_COLOR = "0.55"
EVENT_COLOR = "0.35"
DPI = 96
STAGGER_ROWS = 3
LINESTYLES: tuple[Any, ...] = ("-", (0, (4, 1.5)), (0, (1, 1.2)))
MANY_COLORS = ("#332288", "#117733", "#44AA99", "#CC6677", "#DDCC77", "#AA4499")


@dataclass(frozen=True)
class Panel:
    """One chart of the dashboard.

    Attributes:
        title: The panel's title.
        metrics: The metrics drawn (same unit), each with a legend label.
    """

    title: str
    metrics: tuple[tuple[str, str], ...]


PANELS: tuple[Panel, ...] = (
    Panel("Market value of listed firms", (("market_value_usd", "market value"),)),
    Panel("Fines per month", (("fines_count", "fines"),)),
    Panel("Compliance and alignment", (("mean_compliance", "mean compliance"),
                                      ("mean_alignment", "mean alignment"))),
    Panel("City deals per month", (("deals_signed", "deals signed"),)),
    Panel("Compute stock by origin of chips", (("domestic_compute_share", "domestic chips"),
                                               ("foreign_compute_share", "foreign chips"))),
    Panel("Effective platform stringency", (("effective_stringency", "effective policy"),
                                            ("central_stance", "central stance"))),
    Panel("The centre's position", (("central_stance", "platform stringency"),
                                    ("central_self_reliance", "self-reliance"))),
    Panel("Pulls on the centre", tuple((f"centre_pull_{p}", p) for p in PULLS)),
)  # fmt: skip
"""The key metrics, in display order; the page shows them two panels to a chart."""


@dataclass(frozen=True)
class Event:
    """A policy event marked on the charts.

    Attributes:
        date: First day of the event's month.
        label: Its short text.
    """

    date: pd.Timestamp
    label: str


@dataclass(frozen=True)
class NetworkSnapshot:
    """The stakeholders' influence network at one step.

    Attributes:
        names: Stakeholder names.
        kinds: Their kinds (``center``, ``regulator``, ``city``, ``fund``, ``investors``, ``firm``).
        clout: Their clout.
        position: Their positions, one row per stakeholder: platform stringency, self-reliance.
        weights: Row-stochastic listening weights: ``weights[i, j]`` is how much i listens to j.
        policy: The effective policy on both dimensions.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    clout: np.ndarray
    position: np.ndarray
    weights: np.ndarray
    policy: np.ndarray


def _period(start: pd.Timestamp, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the x limits that span a scenario's months."""
    return start - pd.DateOffset(days=15), start + pd.DateOffset(months=months) - pd.DateOffset(
        days=15
    )


def _draw_panel(
    ax: Axes,
    panel: Panel,
    timeseries: pd.DataFrame,
    baseline: pd.DataFrame | None,
    run_color: str,
) -> None:
    """Draw one panel: the run, the baseline and the unit on the y axis."""
    unit = METRICS_BY_NAME[panel.metrics[0][0]].unit
    flow = METRICS_BY_NAME[panel.metrics[0][0]].kind == "flow"
    shown = [timeseries[m] for m, _ in panel.metrics if m in timeseries]
    if baseline is not None:
        shown += [baseline[m] for m, _ in panel.metrics if m in baseline]
    values = np.concatenate([np.asarray(s, dtype=float) for s in shown]) if shown else np.zeros(0)
    scale = unit_scale(unit, values, flow=flow)
    handles: list[Line2D] = []
    many = len(panel.metrics) > len(LINESTYLES)  # too many for line styles: a colour each
    for k, (metric, label) in enumerate(panel.metrics):
        style = LINESTYLES[0 if many else k % len(LINESTYLES)]
        color = MANY_COLORS[k % len(MANY_COLORS)] if many else run_color
        if baseline is not None and metric in baseline:
            ax.plot(baseline["date"], baseline[metric] * scale.factor, color=BASELINE_COLOR,
                    linestyle=style, linewidth=1.0, label=f"{label}, baseline")  # fmt: skip
        if metric in timeseries and len(timeseries):
            ax.plot(timeseries["date"], timeseries[metric] * scale.factor, color=color,
                    linestyle=style, label=label)  # fmt: skip
        handles.append(Line2D([], [], color=color, linestyle=style, label=label))
    if baseline is not None:
        handles.append(Line2D([], [], color=BASELINE_COLOR, label="baseline, same seed"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13),
              ncols=2 if len(handles) > 1 else 1, fontsize=7, frameon=False,
              handlelength=2.4, columnspacing=1.0)  # fmt: skip
    ax.set_title(panel.title, loc="left", pad=30)
    ax.set_ylabel(scale.label)
    if unit == "share":
        ax.set_ylim(-2, 102)
    else:  # from 0, unless a value is negative (a pull on the centre)
        negative = values.size and np.nanmin(values) < 0
        ax.set_ylim(ax.get_ylim()[0] if negative else 0, max(ax.get_ylim()[1], 1.0))


def mark_events(ax: Axes, events: Sequence[Event], lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    """Draw each event in ``[lo, hi]`` as a dotted line with its number (from 1) above the plot.

    A number that would sit too close to the previous one moves up a row, so numbers never
    overlap.

    Args:
        ax: The axes, x in dates.
        events: The events, numbered in the order given.
        lo: First date shown.
        hi: Last date shown.
    """
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    span = max((hi - lo).days, 1)
    last: list[pd.Timestamp | None] = [None] * STAGGER_ROWS
    for number, event in enumerate(events, start=1):
        if not lo <= event.date <= hi:
            continue
        x = float(mdates.date2num(event.date))
        ax.axvline(x, color=EVENT_COLOR, linestyle=":", linewidth=0.9, zorder=1)
        row = next(
            (r for r, x in enumerate(last) if x is None or (event.date - x).days / span > 0.06),
            number % STAGGER_ROWS,
        )
        last[row] = event.date
        ax.annotate(
            str(number), xy=(x, 1.0), xycoords=trans,
            xytext=(0, 3 + 11 * row), textcoords="offset points", ha="center", va="bottom",
            fontsize=6.5, color=EVENT_COLOR, annotation_clip=False,
        )  # fmt: skip


def metrics_figure(
    timeseries: pd.DataFrame,
    panels: Sequence[Panel],
    *,
    start: pd.Timestamp,
    months: int,
    scenario: str,
    baseline: pd.DataFrame | None = None,
    events: Sequence[Event] = (),
    width_in: float = 6.0,
    height_in: float = 3.5,
) -> Figure:
    """Draw panels of key metrics side by side, over the scenario's whole period.

    Args:
        timeseries: The run so far: ``date`` and the metric columns (may be empty).
        panels: The panels to draw, left to right.
        start: First month of the scenario.
        months: Months in the scenario (fixes the x axis).
        scenario: Scenario name (gives the run's colour).
        baseline: The baseline run with the same seed, drawn dashed grey, or ``None``.
        events: Policy events, drawn as dotted vertical lines.
        width_in: Figure width, inches.
        height_in: Figure height, inches.

    Returns:
        The figure.
    """
    color = scenario_colors([scenario])[scenario]
    lo, hi = _period(start, months)
    with figure_style():
        fig = Figure(figsize=(width_in, height_in), dpi=DPI)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.27, top=0.82, wspace=0.3)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, panel in zip(axes, panels, strict=True):
            _draw_panel(ax, panel, timeseries, baseline, color)
            mark_events(ax, events, lo, hi)
            ax.set_xlim(lo, hi)
            locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig


def _heaviest_of_each_kind(kinds: Sequence[str], clout: np.ndarray) -> list[int]:
    """Return the index of the stakeholder with most clout of each kind (the ones named)."""
    best: dict[str, int] = {}
    for i, kind in enumerate(kinds):
        if kind not in best or clout[i] > clout[best[kind]]:
            best[kind] = i
    return list(best.values())


def network_figure(
    snapshot: NetworkSnapshot,
    *,
    min_weight: float = 0.03,
    width_in: float = 6.0,
    height_in: float = 3.5,
) -> Figure:
    """Draw the stakeholders at their positions on the two policy dimensions, with influence ties.

    Each stakeholder is a dot at its current position (x: platform stringency, y: self-reliance),
    sized by clout and coloured by kind; a grey line joins two stakeholders when one listens to the
    other with at least ``min_weight``, darker for heavier weights. A star marks the effective
    policy; the stakeholder with most clout of each kind is named.

    Args:
        snapshot: The network at the current step.
        min_weight: Lightest listening weight drawn.
        width_in: Figure width, inches.
        height_in: Figure height, inches.

    Returns:
        The figure.
    """
    pos = snapshot.position
    w = np.asarray(snapshot.weights, dtype=float)
    with figure_style():
        fig = Figure(figsize=(width_in, height_in), dpi=DPI)
        fig.subplots_adjust(left=0.1, right=0.78, bottom=0.13, top=0.97)
        ax = fig.subplots()
        strongest = max(float(w.max(initial=0.0)), 1e-12)
        pairs = [(i, j) for i, j in zip(*np.nonzero(w >= min_weight), strict=True) if i != j]
        if pairs:
            weight = np.array([w[i, j] for i, j in pairs]) / strongest
            colors = np.zeros((len(pairs), 4))
            colors[:, :3] = 0.4
            colors[:, 3] = np.minimum(0.15 + 0.6 * weight, 0.75)
            ax.add_collection(LineCollection(
                [pos[[i, j]] for i, j in pairs], colors=colors,
                linewidths=0.4 + 2.0 * np.array([w[i, j] for i, j in pairs]), zorder=1,
            ))  # fmt: skip
        clout = np.asarray(snapshot.clout, dtype=float)
        sizes = 25 + 400 * np.sqrt(clout / max(float(clout.max(initial=0.0)), 1e-12))
        for kind in dict.fromkeys(snapshot.kinds):
            rows = [i for i, k in enumerate(snapshot.kinds) if k == kind]
            ax.scatter(
                pos[rows, 0], pos[rows, 1], s=sizes[rows], color=KIND_COLORS.get(kind, "0.5"),
                edgecolor="white", linewidth=0.6, alpha=0.9, label=kind, zorder=2,
            )  # fmt: skip
        ax.scatter([snapshot.policy[0]], [snapshot.policy[1]], marker="*", s=280, color="black",
                   edgecolor="white", linewidth=0.8,
                   label="effective policy", zorder=3)  # fmt: skip
        for i in _heaviest_of_each_kind(snapshot.kinds, clout):
            ax.annotate(snapshot.names[i], (pos[i, 0], pos[i, 1]), xytext=(6, 4),
                        textcoords="offset points", fontsize=7, zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.75})  # fmt: skip
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("position on platform stringency (0 lax, 1 strict)")
        ax.set_ylabel("position on self-reliance")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, markerscale=0.5)
    return fig
