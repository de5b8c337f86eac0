"""Confidence intervals of counts and shares stay within the values they can take."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.stats import mean_ci
from sim.plots.style import metric_infos, outcome_bounds


def test_a_rare_count_has_no_negative_lower_bound() -> None:
    freezes = [0.0] * 19 + [1.0]  # one freeze still active in one of 20 runs
    mean, low, high, n = mean_ci(freezes)
    assert low < 0  # Student's t alone goes below zero
    mean, low, high, n = mean_ci(freezes, bounds=outcome_bounds("final_freezes_active",
                                                                metric_infos()))  # fmt: skip
    assert (mean, low, n) == (0.05, 0.0, 20) and 0.05 < high < 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30))
def test_a_share_interval_stays_in_zero_to_one(values: list[float]) -> None:
    mean, low, high, _ = mean_ci(values, bounds=outcome_bounds("final_mean_compliance",
                                                               metric_infos()))  # fmt: skip
    assert 0.0 <= low <= mean + 1e-12 and mean - 1e-12 <= high <= 1.0


def test_the_bounds_follow_the_units() -> None:
    infos = metric_infos()
    assert outcome_bounds("total_deals_signed", infos) == (0.0, math.inf)
    assert outcome_bounds("max_drawdown", infos) == (0.0, 1.0)
    assert outcome_bounds("recovery_from_trough", infos) == (0.0, math.inf)
    assert outcome_bounds("final_market_value_usd", infos) == (-math.inf, math.inf)
    assert np.isnan(mean_ci([3.0], bounds=(0.0, 1.0))[1])
