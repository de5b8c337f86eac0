"""The cities' and regulators' compiled draws give, bit for bit, the NumPy they replace."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import sum_kernels
from sim.model.agents.regulators import draw_one
from tests.model.test_kernels import same_bits


def court_cdf_numpy(size_alignment: np.ndarray, home: np.ndarray) -> np.ndarray:
    """The cumulative court weights as ``Municipality.choose_firm`` wrote them in NumPy."""
    cdf = size_alignment * home
    with np.errstate(invalid="ignore"):  # no firm with any weight: NaN, as in the model
        cdf /= cdf.sum()
    np.cumsum(cdf, out=cdf)
    cdf /= cdf[-1]
    return cdf


@pytest.mark.parametrize("n", [1, 2, 7, 8, 127, 128, 129, 300, 1_000, 10_003])
@pytest.mark.parametrize("seed", range(4))
def test_court_cdf_is_numpys(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed])
    revenue = rng.lognormal(0.0, 2.0, n)
    revenue[: min(n, 2)] = 0.0  # firms without revenue weigh nothing
    alignment = rng.uniform(0.0, 1.0, n)
    size_alignment = np.sqrt(revenue) * (1.0 + alignment)
    home = np.where(rng.integers(0, 6, n) == 2, 3.5, 1.0)
    if n > 2:
        size_alignment[-1] = 0.0  # the last firm weighs nothing: the sum ends on a repeat
    same_bits(sum_kernels.court_cdf(size_alignment, home), court_cdf_numpy(size_alignment, home))


def test_court_cdf_of_no_firms_is_empty() -> None:
    assert sum_kernels.court_cdf(np.empty(0), np.empty(0)).shape == (0,)


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
