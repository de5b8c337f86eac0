"""The market-value summary measures the maximum drawdown: the largest fall from a running peak."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.metrics import METRIC_NAMES, max_drawdown_span, summarize


def _frame(values: list[float]) -> pd.DataFrame:
    dates = pd.date_range("2020-01-01", periods=len(values), freq="MS")
    data: dict[str, object] = {"date": dates}
    for name in METRIC_NAMES:
        data[name] = np.zeros(len(values))
    data["market_value_usd"] = values
    return pd.DataFrame(data)


def test_a_fall_before_the_highest_month_counts() -> None:
    # Value falls 80% in the first year and ends above its first peak: measured from the
    # highest month (12) the loss would be 1; the maximum drawdown is the fall from 10 to 2.
    summary = summarize(_frame([10.0, 2.0, 12.0, 11.0]))
    assert summary["peak_date"] == pd.Timestamp("2020-01")
    assert summary["trough_date"] == pd.Timestamp("2020-02")
    assert summary["peak_market_value_usd"] == 10.0
    assert summary["peak_to_trough_loss_usd"] == 8.0
    assert summary["max_drawdown"] == 0.8
    assert summary["recovery_from_trough"] == 4.5


def test_a_fall_after_a_new_high_is_measured_from_that_high() -> None:
    # Value falls 60% (10 -> 4), recovers to a new high of 20, then falls to 12: the largest fall
    # in money is the second (8), the largest relative fall the first (60%).
    summary = summarize(_frame([10.0, 4.0, 20.0, 12.0]))
    assert summary["peak_date"] == pd.Timestamp("2020-03")
    assert summary["trough_date"] == pd.Timestamp("2020-04")
    assert summary["peak_to_trough_loss_usd"] == 8.0
    assert summary["max_drawdown"] == 0.6


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**13).map(float), min_size=1, max_size=40))
def test_the_loss_is_the_largest_fall_from_any_month_to_a_later_one(values: list[float]) -> None:
    mv = np.asarray(values)
    i_peak, i_trough = max_drawdown_span(mv)
    assert 0 <= i_peak <= i_trough < len(mv)
    best = max(
        (mv[i] - mv[j] for i in range(len(mv)) for j in range(i, len(mv))), default=0.0
    )
    assert mv[i_peak] - mv[i_trough] == best
    summary = summarize(_frame(values))
    assert summary["peak_to_trough_loss_usd"] == best
    assert 0.0 <= summary["max_drawdown"] <= 1.0
