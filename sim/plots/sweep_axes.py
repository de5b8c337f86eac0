"""Sweep parameters as the axes of response figures.

* Parameters that a design varies together (the export-control tier and the blocked shares it
  sets) are one factor: :func:`linked_factors` keeps one of them and names the others on its axis.
* Two factors on a full grid are drawn one line per level of the other factor
  (:func:`draw_by_level`), so a panel's band is never averaged over the other factor.
* Log axes are labelled with plain numbers at 1, 2 and 5 times powers of ten, integer-valued
  parameters with a small span at integers (:func:`parameter_ticks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from sim.analysis.stats import grouped_ci
from sim.model.units import Scale

MAX_FACTOR_LEVELS = 25  # a parameter with more distinct values is sampled, not a factor
MAX_LINES = 6  # the other factor of a grid is drawn a line per level up to this many levels


def linked_factors(frame: pd.DataFrame, parameters: Sequence[str]) -> dict[str, list[str]]:
    """Group the parameters that vary together into factors.

    A parameter is linked to a factor when the factor's value fixes it at every design point (the
    blocked shares are set by the tier), the factor having at most
    :data:`MAX_FACTOR_LEVELS` levels, each repeated. Factors with more levels are kept first.

    Args:
        frame: One row per run, with the parameter columns.
        parameters: The parameters in design order.

    Returns:
        Each factor kept, in design order, with the parameters it fixes.
    """
    levels = {p: frame[p].nunique() for p in parameters}
    rows = frame.drop_duplicates(list(parameters))
    kept: dict[str, list[str]] = {}
    for param in sorted(parameters, key=lambda p: -levels[p]):  # stable: design order on ties
        owner = next((q for q in kept if levels[param] > 1 and levels[q] <= MAX_FACTOR_LEVELS
                      and levels[q] < len(rows)
                      and rows.groupby(q)[param].nunique().max() == 1), None)  # fmt: skip
        if owner is None:
            kept[param] = []
        else:
            kept[owner].append(param)
    return {p: sorted(kept[p], key=list(parameters).index) for p in parameters if p in kept}


def factor_label(param: str, linked: Sequence[str], labels: Mapping[str, str]) -> str:
    """Return a factor's axis label, naming the parameters it also sets."""
    text = labels.get(param, param)
    return f"{text}, which also sets {', '.join(linked)}" if linked else text


def parameter_ticks(ax: Axes, values: pd.Series, *, log: bool = False) -> None:
    """Tick a parameter's axis: plain numbers on a log axis, integers for integer parameters.

    Args:
        ax: The axes (the parameter on x).
        values: The parameter's values.
        log: Draw the axis in log scale.
    """
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if log:
        ax.set_xscale("log")
        positive = numbers[numbers > 0]
        decades = math.log10(positive.max() / positive.min()) if len(positive) else 0.0
        ax.xaxis.set_major_locator(LogLocator(10.0, subs=(1.0, 2.0, 5.0) if decades <= 2 else
                                              (1.0,)))  # fmt: skip
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    elif len(numbers) and np.allclose(numbers, np.round(numbers)) and np.ptp(numbers) <= 20:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # wider spans tick at integers


def by_level(frame: pd.DataFrame, factors: Sequence[str]) -> bool:
    """Tell whether two factors form a full grid small enough to draw a line per level."""
    if len(factors) != 2 or frame["scenario"].nunique() != 1:
        return False
    counts = [frame[p].nunique() for p in factors]
    full = frame.groupby(list(factors)).ngroups == math.prod(counts)
    return full and all(1 < c <= MAX_LINES for c in counts)


def draw_by_level(
    ax: Axes, frame: pd.DataFrame, param: str, other: str, outcome: str, scale: Scale
) -> None:
    """Draw the outcome against ``param``, a line with its 95% band per level of ``other``.

    Each band is the confidence interval over the replicates at one grid point, so it is never
    averaged over ``other``.
    """
    levels = sorted(frame[other].unique())
    shades = colormaps["viridis"](np.linspace(0.05, 0.85, len(levels)))
    for level, color in zip(levels, shades, strict=True):
        stats = grouped_ci(frame.loc[frame[other] == level], param, [outcome]).sort_values(param)
        f = scale.factor
        ax.plot(stats[param], stats[f"{outcome}_mean"] * f, color=color, marker="o",
                markersize=3, label=f"{level:g}")  # fmt: skip
        ax.fill_between(stats[param], stats[f"{outcome}_low"] * f, stats[f"{outcome}_high"] * f,
                        color=color, alpha=0.18, linewidth=0)  # fmt: skip
    ax.legend(title=other, title_fontsize=7, fontsize=7, ncols=min(len(levels), 4),
              handlelength=1.2, columnspacing=0.8, loc="best")  # fmt: skip
