"""Time-series figures: scenarios overlaid with replicate bands, and differences from the baseline.

Each figure shows real dates on the x axis, the metric's unit on the y axis (US$ in trillions or
billions, shares in percent) and the policy events of the scenarios' timelines marked by numbered
lines, with a key that gives each number's date and label.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.analysis.stats import grouped_ci, paired_differences
from sim.errors import ResultsError
from sim.model.units import unit_scale
from sim.plots.data import Event
from sim.plots.style import (
    PAPER_WIDTH_IN,
    MetricInfo,
    figure_style,
    humanize,
    metric_infos,
    order_scenarios,
    scenario_colors,
    scenario_linestyle,
)
from sim.scenario.loader import BASELINE

EVENT_COLOR = "0.35"
_STAGGER_GAP = 0.032  # axes fraction: closer event numbers go on another row
_STAGGER_ROWS = 3
_ROW_PT = 13.0  # vertical distance of rows of event numbers, in points
KEY_WIDTH = 34  # characters per line of an event's label in the key
OVERLAP = 0.1  # scenario means closer than this share of the plot's range are hard to tell apart


def _title(info: MetricInfo, cumulative: bool = False, start: pd.Timestamp | None = None) -> str:
    """The figure title: the metric's description without its full stop."""
    text = info.description.strip().rstrip(".") or humanize(info.name)
    if cumulative:
        text = text.removesuffix(" this month").removesuffix(" per month")
        text += f", cumulative since {start:%Y-%m}" if start is not None else ", cumulative"
    return text


def accumulate(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Return ``frame`` with ``metric`` replaced by its running total within each run."""
    keys = ["run_id"] if "run_id" in frame.columns else ["scenario", "seed"]
    out = frame.sort_values([*keys, "date"]).copy()
    out[metric] = out.groupby(keys, sort=False)[metric].cumsum()
    return out


def _clip_to_bounds(stats: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Keep the band inside what the unit allows: shares in [0, 1], amounts and counts >= 0."""
    lower = 0.0 if unit in ("share", "count", "USD") else None
    upper = 1.0 if unit == "share" else None
    return stats.assign(low=stats["low"].clip(lower=lower, upper=upper),
                        high=stats["high"].clip(lower=lower, upper=upper))  # fmt: skip


class MonthStartLocator(mdates.DateLocator):
    """Ticks on the first day of every ``step``-th month of the year from January.

    It gives the ticks of ``YearLocator`` (``step=12``) and ``MonthLocator(bymonth=...)``, from
    one ``pandas.date_range`` instead of dateutil's rules, which made up a large share of the time
    spent drawing the time-series figures.

    Args:
        step: Months between ticks; 12 for years, 3 for quarters.
    """

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def __call__(self) -> Sequence[float]:
        """Return the tick positions in the axis' view."""
        vmin, vmax = self.axis.get_view_interval() if self.axis is not None else (0.0, 1.0)
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        """Return the tick positions from ``vmin`` to ``vmax`` (Matplotlib date numbers)."""
        lo, hi = sorted((vmin, vmax))
        first = pd.Timestamp(mdates.num2date(lo).replace(tzinfo=None)).to_period("Y").start_time
        months = pd.date_range(first, mdates.num2date(hi).replace(tzinfo=None), freq="MS")
        ticks = months[(months.month - 1) % self.step == 0].to_pydatetime()
        values = mdates.date2num(ticks)
        return list(values[(values >= lo) & (values <= hi)])


def date_axis(ax: Axes) -> None:
    """Label the x axis with years and tick each quarter."""
    ax.xaxis.set_major_locator(MonthStartLocator(12))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(MonthStartLocator(3))


def mark_events(
    ax: Axes, events: Sequence[Event], *, numbers: bool = True
) -> tuple[list[Event], int]:
    """Draw a dotted line at each event inside the axis' date range, numbered above the plot.

    Numbers that would sit closer than a few months to the previous one on the same row move up a
    row, so they never overlap.

    Args:
        ax: The axes (x in dates, already drawn so its limits are known).
        events: The events, sorted by date.
        numbers: Write the numbers above the plot (only on the top panel of a stack).

    Returns:
        The events drawn, in the order of their numbers, and the number of rows of numbers.
    """
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    shown = [e for e in events if lo <= e.date.to_pydatetime() <= hi]
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    span = max(ax.get_xlim()[1] - ax.get_xlim()[0], 1e-9)
    last_x = [-np.inf] * _STAGGER_ROWS
    rows = 0
    for i, event in enumerate(shown, start=1):
        x = mdates.date2num(event.date)
        ax.axvline(x, color=EVENT_COLOR, linestyle=":", linewidth=0.9, zorder=1)
        if not numbers:
            continue
        row = next((r for r in range(_STAGGER_ROWS) if (x - last_x[r]) / span >= _STAGGER_GAP),
                   int(np.argmin(last_x)))  # fmt: skip
        last_x[row] = x
        rows = max(rows, row + 1)
        ax.annotate(str(i), xy=(x, 1.0), xycoords=trans, xytext=(0, 4 + _ROW_PT * row),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7,
                    color=EVENT_COLOR, annotation_clip=False,
                    bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": EVENT_COLOR,
                          "lw": 0.6})  # fmt: skip
    return shown, rows


def scenario_legend(fig: Figure, title: str) -> None:
    """Add the scenario legend below the plot, titled with what the band shows."""
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower left", ncols=1,
               title=title, title_fontsize=7.5, alignment="left", handlelength=2.6)  # fmt: skip


def event_key(fig: Figure, shown: Sequence[Event]) -> None:
    """Add the key of numbered events below the figure."""
    if not shown:
        return
    handles = [Line2D([], [], linestyle="none", marker=f"${i}$", markersize=6 + 2 * (i > 9),
                      color=EVENT_COLOR) for i in range(1, len(shown) + 1)]  # fmt: skip
    labels = [f"{e.date:%Y-%m}  " + "\n".join(textwrap.wrap(e.label, KEY_WIDTH)) for e in shown]
    fig.legend(handles, labels, loc="outside lower right", ncols=2 if len(shown) > 4 else 1,
               title="Policy events", title_fontsize=7.5, handletextpad=0.3,
               columnspacing=1.2, alignment="left")  # fmt: skip


def _band_frame(frame: pd.DataFrame, metric: str, band: str) -> pd.DataFrame:
    """Return per scenario and date: mean, low and high of the band, and ``n``."""
    if band == "ci":
        return grouped_ci(frame, ["scenario", "date"], [metric]).rename(
            columns={f"{metric}_mean": "mean", f"{metric}_low": "low", f"{metric}_high": "high"}
        )
    if band == "range":
        g = frame.groupby(["scenario", "date"], observed=True)[metric]
        return pd.DataFrame(
            {"mean": g.mean(), "low": g.quantile(0.025), "high": g.quantile(0.975), "n": g.count()}
        ).reset_index()
    raise ValueError(f"band must be 'ci' or 'range', got {band!r}")


def _mean_band(ax: Axes, stats: pd.DataFrame, name: str, color: str, factor: float) -> None:
    """Draw one scenario's mean line over time and its shaded band (``low`` to ``high``)."""
    ax.plot(
        stats["date"],
        stats["mean"] * factor,
        color=color,
        label=name,
        zorder=3,
        linestyle=scenario_linestyle(name),
    )
    ax.fill_between(stats["date"], stats["low"] * factor, stats["high"] * factor,
                    color=color, alpha=0.18, linewidth=0, zorder=2)  # fmt: skip


def _band_note(band: str, n: pd.Series, *, paired: bool = False) -> str:
    """Say what the line and band are and how many runs (or pairs) each scenario has."""
    lo, hi = int(n.min()), int(n.max())
    count = f"{lo}" if lo == hi else f"{lo}-{hi}"
    what = "95% CI" if band == "ci" else "central 95% of runs"
    mean = "paired mean" if paired else "mean"
    return f"Scenarios: {mean}, {what}\n({count} {'pairs' if paired else 'runs'} each)"


def timeseries_figure(
    timeseries: pd.DataFrame, metric: str, *, info: MetricInfo | None = None,
    events: Sequence[Event] = (), colors: Mapping[str, str] | None = None,
    scenarios: Sequence[str] | None = None, band: str = "ci", cumulative: bool | None = None,
) -> Figure:  # fmt: skip
    """Plot one metric over time, scenarios overlaid, mean with a 95% band across replicates.

    Monthly flows (fines, deals, subsidies...) are shown as running totals by default, which
    end at the run's ``total_`` outcome; the band never leaves the range the unit allows.

    Args:
        timeseries: Rows per run and month: ``scenario``, ``date`` and ``metric``.
        metric: The metric to plot.
        info: Its declaration (unit, description, kind); default from :mod:`sim.model.metrics`.
        events: Policy events to mark (see :attr:`sim.plots.data.BatchData.events`).
        colors: Scenario colours (default: :func:`sim.plots.style.scenario_colors`).
        scenarios: Scenarios to show, in legend order (default: all, baseline first).
        band: ``ci`` for the 95% confidence interval of the mean, ``range`` for the central 95%
            of replicates.
        cumulative: Show running totals (default: for flows).

    Returns:
        The figure.
    """
    if metric not in timeseries.columns:
        raise ResultsError(f"time series have no column {metric!r}")
    info = info or metric_infos()[metric]
    cum = info.kind == "flow" if cumulative is None else cumulative
    names = list(scenarios or order_scenarios(timeseries["scenario"].unique()))
    colors = dict(colors or scenario_colors(names))
    frame = timeseries.loc[timeseries["scenario"].isin(names)]
    frame = accumulate(frame, metric) if cum else frame
    stats = _clip_to_bounds(_band_frame(frame, metric, band), info.unit)
    scale = unit_scale(info.unit, stats[["mean", "low", "high"]].to_numpy(),
                       flow=info.kind == "flow" and not cum)  # fmt: skip
    paired = None
    if "seed" in frame.columns and overlapping(stats):
        with contextlib.suppress(ResultsError):  # no paired runs: the overlaid lines only
            paired = _paired_stats(timeseries, metric, names[0], cum, names)
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 6.2 if paired else 4.2), layout="constrained")
        ax, *lower = fig.subplots(2 if paired else 1, 1, squeeze=False, sharex=True,
                                  height_ratios=[1.6, 1.0] if paired else None)[:, 0]  # fmt: skip
        for name in names:
            s = stats.loc[stats["scenario"] == name].sort_values("date")
            if s.empty:
                continue
            _mean_band(ax, s, name, colors[name], scale.factor)
        date_axis(ax)
        ax.set_xlim(stats["date"].min(), stats["date"].max())
        ax.set_ylabel(scale.label + (", cumulative" if cum else ""))
        if paired:
            _draw_differences(lower[0], *paired, colors, names[0], info, cum)
            mark_events(lower[0], events, numbers=False)
            lower[0].set_title(f"The lines above overlap: each scenario minus {names[0]}, "
                               "paired by seed, with its 95% CI", loc="left",
                               fontsize=8.5)  # fmt: skip
        shown, _ = mark_events(ax, events)
        fig.suptitle(_title(info, cum, stats["date"].min()), x=0.01, ha="left")
        scenario_legend(fig, _band_note(band, stats["n"]))
        event_key(fig, shown)
    return fig


def difference_timeseries_figure(
    timeseries: pd.DataFrame, metric: str, *, baseline: str = BASELINE,
    info: MetricInfo | None = None, events: Sequence[Event] = (),
    colors: Mapping[str, str] | None = None, scenarios: Sequence[str] | None = None,
) -> Figure:  # fmt: skip
    """Plot each scenario's difference from the baseline over time, with paired 95% intervals.

    Replicate ``k`` of each scenario is compared with the baseline run of the same seed, so the
    band is the confidence interval of the mean per-seed difference.

    Args:
        timeseries: Rows per run and month: ``scenario``, ``seed``, ``date`` and ``metric``.
        metric: The metric.
        baseline: The baseline scenario.
        info: The metric's declaration (default from :mod:`sim.model.metrics`).
        events: Policy events to mark.
        colors: Scenario colours.
        scenarios: Scenarios to show (default: all but the baseline).

    Returns:
        The figure.

    Raises:
        ResultsError: When the baseline or paired runs are missing.
    """
    info = info or metric_infos()[metric]
    cum = info.kind == "flow"
    stats, names = _paired_stats(timeseries, metric, baseline, cum, scenarios)
    colors = dict(colors or scenario_colors([baseline, *names]))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 4.2), layout="constrained")
        ax = fig.add_subplot()
        _draw_differences(ax, stats, names, colors, baseline, info, cum)
        shown, _ = mark_events(ax, events)
        what = f"{humanize(metric)}{' (cumulative)' if cum else ''}"
        fig.suptitle(f"{what}: difference from {baseline}", x=0.01, ha="left")
        scenario_legend(fig, _band_note("ci", stats["n"], paired=True))
        event_key(fig, shown)
    return fig


def _paired_stats(
    timeseries: pd.DataFrame, metric: str, baseline: str, cum: bool,
    scenarios: Sequence[str] | None,
) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """Return the paired differences from ``baseline`` per scenario and date, and the scenarios.

    Raises:
        ResultsError: When the baseline or paired runs are missing.
    """
    if baseline not in set(timeseries["scenario"]):
        raise ResultsError(f"no completed run of the baseline scenario {baseline!r}")
    frame = accumulate(timeseries, metric) if cum else timeseries
    diffs = paired_differences(frame, [metric], baseline, index=("seed", "date"))
    if scenarios is not None:
        diffs = diffs.loc[diffs["scenario"].isin(scenarios)]
    if diffs.empty:
        raise ResultsError(f"no run shares a seed with a {baseline!r} run; cannot pair them")
    names = [n for n in (scenarios or order_scenarios(diffs["scenario"].unique()))
             if n != baseline]  # fmt: skip
    return _band_frame(diffs, metric, "ci"), names


def _draw_differences(
    ax: Axes, stats: pd.DataFrame, names: Sequence[str], colors: Mapping[str, str],
    baseline: str, info: MetricInfo, cum: bool,
) -> None:  # fmt: skip
    """Draw each scenario's paired difference from ``baseline`` over time on ``ax``."""
    scale = unit_scale(info.unit, stats[["mean", "low", "high"]].to_numpy(), flow=not cum and
                       info.kind == "flow")  # fmt: skip
    label = "percentage points" if info.unit == "share" else scale.label
    ax.axhline(0.0, color=colors.get(baseline, "black"), linewidth=1.0, zorder=2)
    for name in names:
        s = stats.loc[stats["scenario"] == name].sort_values("date")
        _mean_band(ax, s, name, colors[name], scale.factor)
    date_axis(ax)
    ax.set_xlim(stats["date"].min(), stats["date"].max())
    ax.set_ylabel(f"{label}{', cumulative' if cum else ''}, minus {baseline}")


def overlapping(stats: pd.DataFrame) -> bool:
    """Tell whether the scenarios' mean lines lie on top of one another.

    They do when, at every date, the means of all scenarios lie within :data:`OVERLAP` of the
    range the means span over the whole plot: a reader cannot tell the lines apart.
    """
    means = stats.pivot_table(index="date", columns="scenario", values="mean")
    if means.shape[1] < 2:
        return False
    span = float(np.nanmax(means.to_numpy()) - np.nanmin(means.to_numpy()))
    spread = (means.max(axis=1) - means.min(axis=1)).max()
    return bool(span > 0 and spread <= OVERLAP * span)
