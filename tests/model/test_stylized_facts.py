"""Acceptance: the history scenario reproduces the stylized facts of 2020-2025 (seed 0).

* Listed Chinese platforms lost at least US$1 trillion from a peak in 2021 to a trough in 2022
  (the median of seeds 0-4: a single seed can sit in the lower tail; ``sim validate`` checks the
  share of 100 seeds).
* Cities signed more cooperation deals in 2023 (the thaw) than in 2021 (the crackdown).
* The baseline, without the crackdown, shows no such loss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.helpers import run, year_total

TRILLION = 1e12
SEED = 0
SEEDS = range(5)


def crackdown_fall(ts: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp, float]:
    """Return the peak (to end-2022), the trough after it (to end-2023) and the fall between.

    Args:
        ts: A run's time series.

    Returns:
        Peak date, trough date and the fall of ``market_value_usd`` from peak to trough, US$.
    """
    value = ts.set_index("date")["market_value_usd"]
    peak = value.loc[:"2022-12-01"].idxmax()
    trough = value.loc[peak:"2023-12-01"].idxmin()
    return peak, trough, float(value[peak] - value[trough])


def test_history_loses_a_trillion_from_a_2021_peak_to_a_2022_trough() -> None:
    falls = []
    for seed in SEEDS:
        peak, trough, fall = crackdown_fall(run("history_2020_2025", seed).timeseries)
        assert peak.year == 2021, f"seed {seed}: peak in {peak:%Y-%m}, expected 2021"
        assert trough.year == 2022, f"seed {seed}: trough in {trough:%Y-%m}, expected 2022"
        falls.append(fall)
    fall = float(np.median(falls))
    assert fall >= TRILLION, f"median fall US${fall / TRILLION:.2f}T, expected >= US$1T"


def test_history_signs_more_deals_in_2023_than_in_2021() -> None:
    ts = run("history_2020_2025", SEED).timeseries
    deals_2021, deals_2023 = (
        year_total(ts, "deals_signed", 2021),
        year_total(ts, "deals_signed", 2023),
    )
    assert deals_2023 > deals_2021, f"deals: {deals_2021:.0f} in 2021, {deals_2023:.0f} in 2023"


def test_the_baseline_has_no_crackdown_crash() -> None:
    peak, trough, fall = crackdown_fall(run("baseline", SEED).timeseries)
    crash = peak.year == 2021 and trough.year == 2022 and fall >= TRILLION
    assert not crash, (
        f"baseline falls US${fall / TRILLION:.2f}T from {peak:%Y-%m} to {trough:%Y-%m}"
    )


def test_the_fall_is_measured_peak_to_later_trough() -> None:
    dates = pd.date_range("2020-01-01", periods=48, freq="MS")
    values = [1.0] * 48
    values[14] = 5.0  # 2021-03 peak
    values[30] = 0.5  # 2022-07 trough
    values[5] = 0.1  # an earlier low does not count
    peak, trough, fall = crackdown_fall(pd.DataFrame({"date": dates, "market_value_usd": values}))
    assert (peak, trough, fall) == (pd.Timestamp("2021-03-01"), pd.Timestamp("2022-07-01"), 4.5)
