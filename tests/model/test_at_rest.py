"""A scenario with no events stays at rest through 2020.

The start is solved so that the rules hold it (sim.model.initial_state, Investors.calibrate): with
no events, discount rates, the domestic compute share, concentration and compliance stay where
they start. What still moves is what the rules make happen at the base rate: the regulators' own
probes (their sanctions raise uncertainty and the sanctioned firms' compliance) and revenue growth
(values follow revenue at constant multiples; concentration follows the firms' recorded growth).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.policy_model import PolicyModel
from tests.helpers import scenario

SEEDS = (0, 1, 2)


def _no_events(months: int = 12) -> PolicyModel:
    sc = scenario("baseline", f"months={months}")
    return sc.model_copy(update={"timeline": {}})


@pytest.mark.parametrize("seed", SEEDS)
def test_a_scenario_with_no_events_stays_at_rest_through_2020(seed: int) -> None:
    m = PolicyModel(scenario=_no_events(), rng=seed)
    f = m.firms

    def state() -> dict[str, float]:
        total = f.compute_total()
        return {
            "discount_rate": float(np.mean(f.discount_rate)),
            "domestic_share": float(f.compute_domestic.sum() / total.sum()),
            "hhi": f.hhi(),
            "compliance": float(f.compliance.mean()),
        }

    start = state()
    for _ in range(12):
        m.step()
        now = state()
        assert abs(now["discount_rate"] - start["discount_rate"]) < 0.015, now
        assert abs(now["domestic_share"] - start["domestic_share"]) < 0.01, now
        assert abs(now["hhi"] / start["hhi"] - 1.0) < 0.02, now
        assert abs(now["compliance"] - start["compliance"]) < 0.05, now


def test_without_enforcement_draws_the_start_is_exactly_at_rest() -> None:
    sc = _no_events()
    regulators = {k: v.model_copy(update={"capacity": 0.0}) for k, v in sc.regulators.items()}
    m = PolicyModel(scenario=sc.model_copy(update={"regulators": regulators}), rng=0)
    f = m.firms
    compliance, share = f.compliance.copy(), f.foreign_share().copy()
    multiple = f.market_value / f.revenue
    for _ in range(12):
        m.step()
    np.testing.assert_allclose(f.compliance, compliance, atol=2e-3)
    np.testing.assert_allclose(f.foreign_share(), share, atol=2e-2)
    assert abs(float(np.mean(f.discount_rate)) - m.params.valuation.discount_rate) < 1e-3
    valued = m.investors.valued & (f.margin > 0.0)
    # Values follow revenue at constant multiples, plus the cash the firms retain.
    ratio = (f.market_value / f.revenue)[valued] / multiple[valued]
    assert np.all((ratio > 0.9) & (ratio < 1.25)), ratio
