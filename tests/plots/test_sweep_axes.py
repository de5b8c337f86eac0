"""Sweep response figures: readable log axes, linked factors once, bands per level, integers.

Factors that a design varies together are shown once, no band averages over another factor of a
grid, and integer parameters are ticked at integers.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.analysis.stats import mean_ci
from sim.plots.data import load_batch
from sim.plots.plan_sweeps import sweep_parameters
from sim.plots.sweep_axes import linked_factors
from sim.plots.sweeps import sweep_frame, sweep_response_figure

OUTCOME = "final_chip_self_reliance"
BLOCKED = {0: (0.0, 0.0, 0.0), 1: (0.5, 0.5, 0.5), 2: (0.5, 0.75, 0.75), 3: (0.5, 0.75, 0.85)}


def chip_like_frame(replicates: int = 3) -> pd.DataFrame:
    """Runs of a csv design like chip_controls: the tier sets three blocked shares."""
    rng = np.random.default_rng(0)
    rows = []
    for point, (tier, fund) in enumerate((t, f) for t in range(4) for f in (0, 172, 344, 688)):
        for rep in range(replicates):
            b22, b23, b24 = BLOCKED[tier]
            value = 0.15 + 0.1 * tier + 0.0001 * fund * (1 + tier) + rng.normal(0, 0.01)
            rows.append({"run_id": f"{point}-{rep}", "point_id": point, "scenario": "x",
                         "tier": tier, "blocked_2022": b22, "blocked_2023": b23,
                         "blocked_2024": b24, "chip_fund_cny_bn": fund, OUTCOME: value})
    return pd.DataFrame(rows)


PARAMS = ["tier", "blocked_2022", "blocked_2023", "blocked_2024", "chip_fund_cny_bn"]


def test_parameters_varied_together_are_one_factor() -> None:
    frame = chip_like_frame()
    assert linked_factors(frame, PARAMS) == {
        "tier": ["blocked_2022", "blocked_2023", "blocked_2024"], "chip_fund_cny_bn": []}
    # a grid of independent parameters, and a sampled design, keep every parameter
    grid = frame.loc[frame["tier"].isin([0, 1])]
    assert list(linked_factors(grid, ["tier", "chip_fund_cny_bn"])) == ["tier", "chip_fund_cny_bn"]
    sampled = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.linspace(5, 3, 40)})
    assert list(linked_factors(sampled, ["a", "b"])) == ["a", "b"]


def test_each_factor_once_with_a_line_per_level_of_the_other() -> None:
    frame = chip_like_frame()
    fig = sweep_response_figure(frame, OUTCOME, PARAMS, infos={})
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2  # the tier and the fund size, not the tier four times
    tier_ax, fund_ax = axes
    label = " ".join(tier_ax.get_xlabel().split())
    assert label == "tier, which also sets blocked_2022, blocked_2023, blocked_2024"
    FigureCanvasAgg(fig).draw()
    ticks = [t.get_text() for t in tier_ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.lstrip("−-").isdigit() for t in ticks), ticks  # no 0.5 steps
    # the fund panel draws one line per tier, each the mean over that grid point's replicates
    lines = [ln for ln in fund_ax.get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["0", "1", "2", "3"]
    band = fund_ax.collections[0].get_paths()[0].vertices  # tier 0's band
    for tier, line in zip(range(4), lines, strict=True):
        at = frame.loc[frame["tier"] == tier].groupby("chip_fund_cny_bn")[OUTCOME]
        assert np.allclose(line.get_ydata() / 100, at.mean().to_numpy())
    _, low, high, _ = mean_ci(frame.loc[(frame["tier"] == 0)
                                        & (frame["chip_fund_cny_bn"] == 0), OUTCOME].to_numpy())
    at_zero = sorted(set(np.round(band[band[:, 0] == 0, 1] / 100, 12)))
    assert np.allclose([at_zero[0], at_zero[-1]], [low, high])  # over that point's replicates


def test_log_axes_have_plain_labels_that_do_not_overlap(sobol_dir: Path) -> None:
    data = load_batch(sobol_dir)
    sp = sweep_parameters(data)
    frame = sweep_frame(data.runs, data.summary, sp.columns)
    fig = sweep_response_figure(frame, "final_market_value_usd", sp.columns,
                                log_x={"samr_fine_rate"})  # fmt: skip
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = next(a for a in fig.axes if a.get_xscale() == "log")
    labels = [t for t in ax.get_xticklabels(which="both") if t.get_visible() and t.get_text()]
    assert len(labels) >= 2
    assert not any("times" in t.get_text() or "^" in t.get_text() for t in labels)
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not [(a, b) for a, b in combinations(boxes, 2) if a.overlaps(b)]
