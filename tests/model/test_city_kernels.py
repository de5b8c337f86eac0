"""The regulators' compiled draws give, bit for bit, the NumPy they replace."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import sum_kernels
from sim.model.agents.regulators import draw_one
from tests.model.test_kernels import same_bits


@pytest.mark.parametrize("n", [1, 2, 9, 129, 10_003])
def test_regulator_target_weights_and_one_draw_are_numpys(n: int) -> None:
    rng = np.random.default_rng(n)
    revenue_power = rng.lognormal(0.0, 2.0, n) ** 0.8
    exposure = rng.uniform(0.0, 1.0, n)
    compliance = rng.uniform(0.0, 1.0, n)
    compliance[: n // 3] = 1.0  # fully compliant firms weigh nothing
    weights = sum_kernels.target_weights(revenue_power, exposure, compliance)
    same_bits(weights, revenue_power * exposure * (1.0 - compliance))
    total = weights.sum()
    for seed in range(5):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        row = draw_one(ours, weights, total)
        expected = theirs.choice(n, 1, replace=False, p=weights / total)
        np.testing.assert_array_equal(row, expected)
        assert ours.bit_generator.state == theirs.bit_generator.state
