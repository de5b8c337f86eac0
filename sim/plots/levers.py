"""The tornado chart of a lever study: what each lever's step down and step up changes.

One panel per headline outcome. Each row is a lever that moved the outcome; its two bars are the
mean change from the unmoved scenario after a step down and after a step up, paired by seed, with
95% confidence intervals; rows are sorted by the size of the swing, the widest on top. A lever
whose move goes against the direction an analyst expects is labelled in red; levers expected to
move the outcome that left it identical on every seed are listed last, in grey, as dead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.model.units import format_change, unit_scale
from sim.plots.style import (
    OKABE_ITO,
    MetricInfo,
    figure_style,
    outcome_label,
    outcome_unit,
    panel_title,
)

ARROWS = {1: "↑", -1: "↓", 0: ""}
"""How an expected direction is written in tables."""

TORNADO = "tornado"
"""File name (without extension) of the tornado chart in a study's ``figures/`` folder."""
TORNADO_CAPTION = (
    "Change of each headline outcome after each lever's step down and step up, from the unmoved "
    "scenario on the same seeds: mean and 95% confidence interval; the widest swings on top."
)

STEP_COLORS = {"down": OKABE_ITO["sky_blue"], "up": OKABE_ITO["vermillion"]}
MAX_ROWS = 12
"""Most levers shown per panel (the widest swings)."""


@dataclass(frozen=True)
class ChangeRow:
    """One row of a lever table, formatted as text.

    A lever, an outcome it is expected to move, the direction expected when it goes up, the
    changes measured after a step down and a step up (mean [95% interval]) and the verdict.
    """

    lever: str
    label: str
    step: str
    outcome: str
    expected: str
    down: str
    up: str
    verdict: str


def change_rows(effects: pd.DataFrame, infos: Mapping[str, MetricInfo]) -> list[ChangeRow]:
    """Return the rows every lever table shows (terminal, report, docs), in the study's order.

    Args:
        effects: From :func:`sim.analysis.levers.lever_effects`.
        infos: Metric declarations (for units).

    Returns:
        One row per lever and outcome with an expected direction (one row per lever that does
        not apply to the scenario).
    """
    rows: list[ChangeRow] = []
    for r in effects.loc[effects["expected"] != 0].to_dict("records"):
        lever, label, step = str(r["lever"]), str(r["label"]), str(r["step"])
        if r["verdict"] == "n/a":  # one row says the scenario has none of the lever's fields
            if not rows or rows[-1].lever != lever:
                rows.append(ChangeRow(lever, label, step, "none of its fields is in the scenario",
                                      "", "–", "–", "n/a"))  # fmt: skip
            continue
        unit = outcome_unit(str(r["outcome"]), infos)
        down, up = (format_change(r[f"{d}_mean"], r[f"{d}_low"], r[f"{d}_high"], unit)
                    for d in ("down", "up"))  # fmt: skip
        rows.append(ChangeRow(lever, label, step, outcome_label(str(r["outcome"])),
                              ARROWS[int(r["expected"])], down, up, str(r["verdict"])))
    return rows


def study_title(manifest: Mapping[str, Any]) -> str:
    """Return the title of a lever study's figures from its manifest."""
    design = manifest.get("design") or {}
    return f"Lever study: {design.get('scenario', '?')}, {design.get('replicates', '?')} seeds"


def _panel_rows(effects: pd.DataFrame, outcome: str, limit: int) -> pd.DataFrame:
    """Return the levers of one panel, top first.

    Those that moved the outcome, widest swing first (at most ``limit``, and every one that moved
    it against the expected direction), then those expected to move it that left it identical on
    every seed.
    """
    rows = effects.loc[effects["outcome"] == outcome]
    moved = rows.loc[~rows["verdict"].isin(("dead", "n/a"))]
    moved = moved.loc[moved["swing_mean"].abs().sort_values(ascending=False, kind="stable").index]
    keep = (np.arange(len(moved)) < limit) | (moved["verdict"] == "opposite").to_numpy()
    dead = rows.loc[(rows["verdict"] == "dead") & (rows["expected"] != 0)]
    return pd.concat([moved.loc[keep], dead])


def tornado_figure(
    effects: pd.DataFrame, *, infos: Mapping[str, MetricInfo],
    outcomes: Sequence[str] | None = None, title: str = "Lever study", max_rows: int = MAX_ROWS,
) -> Figure:  # fmt: skip
    """Draw a lever study's tornado chart, one panel per outcome.

    Args:
        effects: From :func:`sim.analysis.levers.lever_effects`.
        infos: Metric declarations (for units).
        outcomes: The outcomes to show (default: every outcome of the study, in its order).
        title: The figure title.
        max_rows: Most levers per panel.

    Returns:
        The figure.
    """
    shown = list(outcomes or dict.fromkeys(effects["outcome"]))
    ncols = min(3, max(1, len(shown)))
    nrows = -(-len(shown) // ncols)
    height = max(1, min(max_rows, max((len(_panel_rows(effects, o, max_rows)) for o in shown),
                                      default=1)))  # fmt: skip
    with figure_style():
        fig = Figure(figsize=(11.0, 0.9 + nrows * (1.3 + 0.24 * height)), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, outcome in zip(axes.flat, shown, strict=False):
            _panel(ax, effects, outcome, infos, max_rows)
        for ax in axes.flat[len(shown):]:
            ax.set_visible(False)
        handles = [
            ax.barh([0], [0], color=STEP_COLORS[d], label=f"step {d}")
            for d in ("down", "up")
        ]  # fmt: skip
        fig.legend(handles, [h.get_label() for h in handles], loc="outside lower left", ncols=2,
                   title="Mean change from the unmoved scenario, paired by seed, with 95% "
                   "interval; red label: against the expected direction",
                   title_fontsize=7.5)  # fmt: skip
        fig.suptitle(title, x=0.01, ha="left")
    return fig


def _panel(ax: Axes, effects: pd.DataFrame, outcome: str, infos: Mapping[str, MetricInfo],
           max_rows: int) -> None:  # fmt: skip
    """Draw one outcome's panel."""
    rows = _panel_rows(effects, outcome, max_rows)
    unit = outcome_unit(outcome, infos)
    values = rows[["down_low", "down_high", "up_low", "up_high", "down_mean", "up_mean"]]
    scale = unit_scale(unit, values.to_numpy(float))
    panel_title(ax, outcome)
    ax.grid(axis="y", visible=False)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    y = np.arange(len(rows))[::-1]
    for direction, offset in (("down", 0.19), ("up", -0.19)):
        mean = rows[f"{direction}_mean"].to_numpy(float) * scale.factor
        err = np.abs(np.vstack([
            mean - rows[f"{direction}_low"].to_numpy(float) * scale.factor,
            rows[f"{direction}_high"].to_numpy(float) * scale.factor - mean,
        ]))  # fmt: skip
        ax.barh(y + offset, np.nan_to_num(mean), height=0.36,
                color=STEP_COLORS[direction], xerr=np.nan_to_num(err),
                error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "0.3"})  # fmt: skip
    ax.set_yticks(y, list(rows["lever"]), fontsize=7)
    for tick, verdict, at in zip(ax.get_yticklabels(), rows["verdict"], y, strict=True):
        if verdict == "opposite":
            tick.set_color(OKABE_ITO["vermillion"])
        elif verdict == "dead":
            tick.set_color("0.5")
            ax.text(0.0, at, "  dead", ha="left", va="center", fontsize=6.5, color="0.45")
    label = "percentage points" if unit == "share" else scale.label
    ax.set_xlabel(f"change, {label}" if label else "change")
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    if rows.empty:
        ax.text(0.5, 0.5, "no lever moved it", transform=ax.transAxes,
                ha="center", va="center", color="0.4", fontsize=8)  # fmt: skip
