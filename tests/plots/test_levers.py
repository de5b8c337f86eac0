"""The tornado chart and the lever table rows, drawn from constructed lever effects."""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.levers import EFFECTS_SCHEMA
from sim.plots.levers import change_rows, tornado_figure
from sim.plots.style import metric_infos

OUTCOMES = ("final_market_value_usd", "max_drawdown")


def _effects() -> pd.DataFrame:
    rows = []
    specs = [("wide", 1, "agrees", 5.0), ("against", -1, "opposite", 0.5), ("none", 1, "dead", 0.0),
             ("quiet", 0, "moves", 1.0), ("absent", 1, "n/a", math.nan)]  # fmt: skip
    for lever, expected, verdict, size in specs:  # lever by lever, as lever_effects gives them
        for outcome in OUTCOMES:
            scale = 1e9 if outcome.endswith("_usd") else 0.01
            row = dict.fromkeys(EFFECTS_SCHEMA.names, math.nan)
            row.update(scenario="s", lever=lever, label=lever.title(), path="p", step="x0.5 / x1.5",
                       fields=1, outcome=outcome, expected=expected, base_mean=10 * scale, n=3,
                       verdict=verdict)  # fmt: skip
            for side, sign in (("down", -1), ("up", 1), ("swing", 2)):
                mean = sign * size * scale
                row.update({f"{side}_mean": mean, f"{side}_low": mean - scale,
                            f"{side}_high": mean + scale})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows, columns=EFFECTS_SCHEMA.names)


def test_tornado_has_a_panel_per_outcome_widest_first_dead_last() -> None:
    fig = tornado_figure(_effects(), infos=metric_infos(), max_rows=2)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_yticklabels()]
    assert len(axes) == len(OUTCOMES)
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    # widest swing on top, the opposite one kept beyond max_rows, the dead one last, n/a left out
    assert labels == ["wide", "quiet", "against", "none"]
    colors = {t.get_text(): t.get_color() for t in axes[0].get_yticklabels()}
    assert colors["against"] != colors["wide"] and colors["none"] == "0.5"
    assert "percentage points" in axes[1].get_xlabel()


def test_change_rows_show_expected_outcomes_and_one_row_for_absent_levers() -> None:
    rows = change_rows(_effects(), metric_infos())
    assert [r.lever for r in rows] == ["wide", "wide", "against", "against", "none", "none",
                                       "absent"]  # fmt: skip
    assert rows[0].expected == "↑" and rows[0].up.startswith("US$5")
    assert rows[1].up.startswith("5 pp") and rows[-1].verdict == "n/a"
