"""A scenario with no events stays at rest through 2020.

The start is solved so that the rules hold it in expectation (sim.model.initial_state,
Investors.calibrate): compliance, strikes and the sanction memories at the level the regulators'
base-rate probes sustain, engagement ties and positions at the Friedkin-Johnsen fixed point, each
regulator's stringency at its target, compute purchases and chip taste. What still moves, by the
rules and not from an inconsistent start (docs/ODD.md, section 5):

* the sanctions themselves are random: one run moves, the mean over seeds stays;
* no investigation is open at the start, so the first months close fewer cases than the steady
  rate (the market memory dips by about 5% in the spring of 2020, strikes by about 10%);
* revenue grows at each firm's recorded growth rate: values follow revenue at constant multiples
  (the baseline's counterfactual) and concentration (HHI) falls about 1.6% in 2020, because the
  firms' recorded growth rates differ;
* base-rate golden shares and city deals add ties that co-opt firms toward the centre, a slow
  trend (effective stringency +0.0007 in 2020).

Tolerances are about four standard errors of the mean over ``SEEDS`` seeds (measured on 24 seeds:
discount rate 0.0005, uncertainty 0.005, compliance 0.003), plus the trends above where they
apply; the drifts this file guards against were larger (with the former start, over 2020: effective
stringency -0.003, self-reliance -0.037, regulators' stringency -0.0085, uncertainty from 0 toward
its level of 0.068).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.enforcement_risk import enforcement_exposure
from sim.model.initial_state import rest_positions, sanction_rates
from sim.model.policy_model import PolicyModel
from sim.scenario.schema import Scenario
from tests.helpers import quiet, scenario

SEEDS = range(24)
MONTHS = 12
#: Largest allowed change of the mean over seeds from the start, in any month of 2020.
TOLERANCE = {
    "discount_rate": 0.002,
    "effective_stringency": 0.001,
    "regulator_stringency": 0.002,
    "uncertainty": 0.02,
    "compliance": 0.01,
    # Each firm's share is held; the aggregate moves with the firms' relative growth (-0.003).
    "domestic_share": 0.005,
}


def _no_events(*overrides: str) -> Scenario:
    sc = scenario("baseline", f"months={MONTHS}", *overrides)
    return sc.model_copy(update={"timeline": {}})


def _state(m: PolicyModel) -> dict[str, float]:
    f = m.firms
    return {
        "discount_rate": float(np.mean(f.discount_rate)),
        "effective_stringency": float(m.policy[0]),
        "regulator_stringency": float(np.mean([r.stringency for r in m.regulators])),
        "uncertainty": float(m.uncertainty),
        "compliance": float(f.compliance.mean()),
        "domestic_share": float(f.compute_domestic.sum() / f.compute_total().sum()),
        "market_memory": float(m._uncertainty.market_memory),
        "strikes": float(f.strikes.sum()),
        "sanction_memory": float(f.sanction_memory.sum()),
    }


def _paths(seeds: range) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Return the start and each quantity's path, months 1-12 x seeds."""
    sc = _no_events()
    runs = []
    for seed in seeds:
        m = PolicyModel(scenario=sc, rng=seed)
        start = _state(m)
        path = []
        for _ in range(MONTHS):
            m.step()
            path.append(_state(m))
        runs.append(path)
    return start, {k: np.array([[p[k] for p in path] for path in runs]).T for k in start}


def test_a_scenario_with_no_events_stays_at_rest_through_2020_in_expectation() -> None:
    start, paths = _paths(SEEDS)
    for name, tolerance in TOLERANCE.items():
        drift = paths[name].mean(axis=1) - start[name]
        assert np.all(np.abs(drift) < tolerance), (name, drift)


def test_the_sanction_memories_start_at_the_level_the_base_rate_sustains() -> None:
    """Market memory, strikes and firms' sanction memory: near their start, over 2020 and seeds.

    Each is a sum of random sanctions; its mean over 48 seeds and 12 months has a standard error
    of about 3% of its level, and the empty investigation pipeline lowers it by up to 10% (the
    former start at 0 was far below).
    """
    start, paths = _paths(range(48))
    for name in ("market_memory", "strikes", "sanction_memory"):
        assert start[name] > 0.0
        assert paths[name].mean() == pytest.approx(start[name], rel=0.12), name


def test_the_market_memory_is_the_stationary_level_of_the_expected_sanctions() -> None:
    m = PolicyModel(scenario=_no_events(), rng=0)
    f = m.firms
    rates = sanction_rates(enforcement_exposure(f, m.regulators, m.params), f, m.params)
    size = np.sqrt(f.revenue / f.revenue[: f.n_named].max())
    keep = 0.5 ** (1.0 / m.params.valuation.sanction_halflife)
    inflow = float(rates.signal @ size)
    assert m._uncertainty.market_memory == pytest.approx(keep * inflow / (1.0 - keep), rel=1e-3)
    decay = m.params.enforcement.strike_decay
    # A firm whose pyramid pressure sits on the order threshold is solved to it by shrinking
    # steps, to within a few parts in a thousand.
    np.testing.assert_allclose(f.strikes, (1.0 - decay) * rates.strikes / decay, rtol=5e-3)
    np.testing.assert_allclose(f.sanction_memory, keep * rates.signal / (1.0 - keep), rtol=1e-3)
    saturation = m.params.valuation.sanction_saturation
    assert m.uncertainty == pytest.approx(np.tanh(m._uncertainty.market_memory / saturation))


def test_positions_ties_and_regulators_start_at_the_fixed_point_of_the_month() -> None:
    m = PolicyModel(scenario=_no_events(*quiet()), rng=0)
    net = m.influence
    np.testing.assert_allclose(rest_positions(net), net.position, atol=1e-12)
    position, ties, policy = net.position.copy(), net.ties.copy(), m.policy.copy()
    stringency = [r.stringency for r in m.regulators]
    assert ties.sum() > 0.0  # the engagement ties the firms' effort sustains
    for _ in range(MONTHS):
        m.step()
    # Not exactly: firms' alignment drifts toward the self-reliance policy (a slow trend of the
    # rules), which moves their budget split and so their engagement ties a little.
    np.testing.assert_allclose(net.position, position, atol=1e-5)
    np.testing.assert_allclose(net.ties, ties, rtol=1e-3, atol=1e-9)
    np.testing.assert_allclose(m.policy, policy, atol=1e-5)
    np.testing.assert_allclose([r.stringency for r in m.regulators], stringency, atol=1e-6)


def test_without_enforcement_draws_the_start_is_exactly_at_rest() -> None:
    sc = _no_events()
    regulators = {k: v.model_copy(update={"capacity": 0.0}) for k, v in sc.regulators.items()}
    m = PolicyModel(scenario=sc.model_copy(update={"regulators": regulators}), rng=0)
    f = m.firms
    compliance, share = f.compliance.copy(), f.foreign_share().copy()
    multiple = f.market_value / f.revenue
    for _ in range(MONTHS):
        m.step()
    np.testing.assert_allclose(f.compliance, compliance, atol=2e-3)
    np.testing.assert_allclose(f.foreign_share(), share, atol=2e-2)
    assert abs(float(np.mean(f.discount_rate)) - m.params.valuation.discount_rate) < 1e-3
    valued = m.investors.valued & (f.margin > 0.0)
    # Values follow revenue at constant multiples, plus the cash the firms retain.
    ratio = (f.market_value / f.revenue)[valued] / multiple[valued]
    assert np.all((ratio > 0.9) & (ratio < 1.25)), ratio


def test_concentration_falls_in_2020_by_the_recorded_growth_rates_alone() -> None:
    """HHI falls about 1.6% in 2020: the counterfactual's growth, not an inconsistent start.

    Revenue grows at each firm's recorded growth rate (docs/ODD.md, section 5), and those differ;
    with no enforcement at all the fall is the same.
    """
    falls = []
    for overrides in ((), quiet()):
        m = PolicyModel(scenario=_no_events(*overrides), rng=0)
        hhi = m.firms.hhi()
        for _ in range(MONTHS):
            m.step()
        falls.append(m.firms.hhi() / hhi - 1.0)
    assert -0.03 < falls[0] < -0.005
    assert falls[0] == pytest.approx(falls[1], abs=2e-3)
