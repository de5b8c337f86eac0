"""The investors' fused valuation kernels give, bit for bit, the NumPy expressions they replace.

:func:`sim.model.value_kernels.move_rates` and :func:`sim.model.value_kernels.annuity_values`
do in two passes over the firms what the target rates, the annuity factor and the firm values do
in NumPy (``Investors.step``); the expected cost written into a kept array is the product's.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import kernels, value_kernels
from sim.model.enforcement_risk import EnforcementExposure, RegulatorRules
from tests.model.test_kernels import same_bits, values

SIZES = [0, 1, 7, 100, kernels.BLOCK + 3]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("blocked", "listing_risk"), [(0.0, 0.0), (0.4, 0.03)])
def test_month_valuation(n: int, blocked: float, listing_risk: float) -> None:
    """move_rates, NumPy's expm1 and annuity_values give the step's NumPy valuation."""
    rng = np.random.default_rng(90 + n)
    # Rates whose spread is exactly 0, tiny, NaN and negative at growth 0.05.
    rate = values(rng, n, -0.1, 0.3, 0.05, 0.05 + 1e-12, np.nan, -0.2)
    golden, abroad = rng.random(n) < 0.3, rng.random(n) < 0.5
    foreign, domestic = values(rng, n, 0.0, 3.0), values(rng, n, 0.0, 3.0)
    rd = values(rng, n, 0.0, 0.3, 0.2)
    common, b_golden, b_export, adjust, growth, horizon = 0.1, 0.02, 0.05, 0.3, 0.05, 30.0
    cash, revenue = values(rng, n, -50.0, 50.0), values(rng, n, 0.0, 300.0)
    margin, cost = values(rng, n, -0.2, 0.3), values(rng, n, 0.0, 0.1)
    valued = rng.random(n) < 0.8

    args = (golden, b_golden, foreign, domestic, rd, blocked > 0.0, b_export * blocked, abroad,
            listing_risk)  # fmt: skip
    # The NumPy expressions (the kernels' docstrings); the target rates' kernel is NumPy's
    # (tests/model/test_kernels.py).
    target = value_kernels.target_rates(common, *args)
    moved = rate + adjust * (target - rate)
    spread = moved - growth
    x = spread * horizon
    small = np.abs(x) < 1e-9
    x = np.where(small, 1.0, x)
    annuity = np.expm1(-x) / x * -horizon
    annuity[small] = horizon * (1.0 - 0.5 * spread[small] * horizon)
    value = np.subtract(margin, cost) * revenue * annuity
    value += cash
    value *= 0.14
    np.maximum(value, 0.0, out=value)
    np.copyto(value, 0.0, where=~valued)

    expm1 = np.full(n, np.nan)
    value_kernels.move_rates(rate, adjust, growth, horizon, expm1, common, *args)
    same_bits(rate, moved)
    np.expm1(expm1, out=expm1)
    annuity_out, value_out = np.full(n, np.nan), np.full(n, np.nan)
    value_kernels.annuity_values(expm1, rate, growth, horizon, cash, revenue, margin, cost, 0.14,
                                 valued, annuity_out, value_out)  # fmt: skip
    same_bits(annuity_out, annuity)
    same_bits(value_out, value)


@pytest.mark.parametrize("n", [0, 1, 9, 1000, 10_001])
def test_expected_cost_into_a_kept_array(n: int) -> None:
    """The product written into a given array has the bits of a new one."""
    rng = np.random.default_rng(100 + n)
    r = 4
    share = rng.uniform(0.0, 0.5, (r, n))
    share[:, : min(n, 2)] = [0.9, 0.0][: min(n, 2)]  # hazards that pass 1
    weighted = rng.uniform(0.0, 0.01, (r, n))
    rate = np.array([3.0, 0.5, 1.5, 0.0])
    rules = RegulatorRules(
        domain=np.arange(r), stringency=np.ones(r), rate=rate, fine_share=np.ones(r),
        p_fine=np.ones(r), p_freeze=np.ones(r), freeze_years=np.ones(r),
    )  # fmt: skip
    top = share.max(axis=1) if n else np.zeros(r)
    exposure = EnforcementExposure(
        rules=rules, weights=share, divisor=np.ones(r), weighted=weighted, top_share=top
    )
    out = np.full(n, np.nan)
    got = exposure.expected_cost(rate * 0.7, out=out)
    assert got is out
    same_bits(got, exposure.expected_cost(rate * 0.7))
