"""Investors value firms from expected cash flows.

A fine's size, its probability and a freeze's length each move value, and the thaw recovers
without positive signals.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.enforcement_risk import enforcement_exposure
from sim.model.runner import run_scenario
from sim.model.valuation import annuity_factor, firm_value_usd, implied_margin
from tests.helpers import model, scenario, step

SEEDS = (0, 1, 2)
P_FINE = {"CAC": 0.3, "SAMR": 1.0, "PBoC": 0.7, "MIIT": 0.2}


def _crackdown_value(seed: int, *overrides: str) -> float:
    """Mean listed value from mid-2021 to the end of 2022 in the crackdown."""
    ts = run_scenario(scenario("crackdown", "months=36", *overrides), seed).timeseries
    window = (ts["date"] >= "2021-06-01") & (ts["date"] <= "2022-12-01")
    return float(ts.loc[window, "market_value_usd"].mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_a_larger_fine_rate_lowers_value_on_paired_seeds(seed: int) -> None:
    low = _crackdown_value(seed, "regulators.SAMR.fine_rate=0.02")
    high = _crackdown_value(seed, "regulators.SAMR.fine_rate=0.06")
    assert high < low


@pytest.mark.parametrize("seed", SEEDS)
def test_a_likelier_fine_lowers_value_on_paired_seeds(seed: int) -> None:
    low = _crackdown_value(seed, *(f"regulators.{r}.p_fine={0.5 * p}" for r, p in P_FINE.items()))
    high = _crackdown_value(seed, *(f"regulators.{r}.p_fine={p}" for r, p in P_FINE.items()))
    assert high < low


def test_a_longer_freeze_raises_the_expected_cost_and_lowers_value() -> None:
    m = step(model("crackdown", months=30), 20)  # mid-2021: stringency high
    inv = m.investors
    assert inv is not None
    f, v = m.firms, m.params.valuation

    def value() -> np.ndarray:
        m.enforcement = enforcement_exposure(f, m.regulators, m.params)
        cost = inv.expected_cost()
        annuity = annuity_factor(f.discount_rate - m.params.firms.long_run_growth,
                                 v.horizon_years)  # fmt: skip
        return firm_value_usd(f.cash, f.revenue, f.value_margin, cost, annuity, v.usd_per_cny)

    before = value()
    for r in m.regulators:
        r.spec = r.spec.model_copy(update={"freeze_months": 2 * r.spec.freeze_months})
    after = value()
    exposed = inv.valued & (f.exposure[:, 0] > 0)
    assert np.all(after[exposed] <= before[exposed]) and np.any(after[exposed] < before[exposed])


def test_the_implied_margin_inverts_the_value() -> None:
    rng = np.random.default_rng(0)
    cash, revenue = rng.uniform(0, 100, 20), rng.uniform(1, 500, 20)
    cost, annuity = rng.uniform(0, 0.05, 20), annuity_factor(rng.uniform(-0.05, 0.3, 20), 30.0)
    value = rng.uniform(1, 900, 20)
    margin = implied_margin(value, cash, revenue, cost, annuity, 0.145)
    np.testing.assert_allclose(firm_value_usd(cash, revenue, margin, cost, annuity, 0.145), value)


@pytest.mark.parametrize("seed", (0, 1))
def test_the_thaw_recovers_with_every_positive_signal_removed(seed: int) -> None:
    sc = scenario("thaw")
    quiet = {k: e for k, e in sc.timeline.items() if not (e.type == "signal" and e.strength > 0)}
    assert len(quiet) < len(sc.timeline)
    summary = run_scenario(sc.model_copy(update={"timeline": quiet}), seed).summary
    assert summary["recovery_from_trough"] >= 0.2
