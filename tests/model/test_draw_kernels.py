"""The compiled draws give, bit for bit, the NumPy and the ``rng.choice`` draws they replace."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import draw_kernels
from sim.model.agents.regulators import draw_one, draw_without_replacement
from tests.model.test_kernels import same_bits

SIZES = [1, 2, 7, 8, 9, 127, 128, 129, 300, 1_000, 10_003]


def weights(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return non-negative weights with zeros first, last and in runs, and repeated values."""
    w = rng.lognormal(0.0, 2.0, n)
    w[rng.random(n) < 0.3] = 0.0
    w[: min(n, 2)] = 0.0
    if n > 3:
        w[-1] = 0.0  # the running sum ends on a repeat
        w[n // 2 : n // 2 + 3] = w[n // 2]  # equal weights: ties in the running sum
    if not w.any():
        w[-1] = 1.0
    return w


def uniforms(rng: np.random.Generator, running: np.ndarray) -> np.ndarray:
    """Return uniforms, and the normalised running sums themselves (ties), 0 and the largest."""
    cdf = running / running[-1]
    probes = rng.choice(cdf, min(cdf.size, 20))
    return np.concatenate([rng.random(50), probes, np.nextafter(probes, 0.0), [0.0, 1.0 - 2**-53]])


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", range(4))
def test_regulator_target_weights_are_numpys(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed])
    revenue_power = rng.lognormal(0.0, 2.0, n) ** 0.8
    exposure = np.ascontiguousarray(rng.uniform(0.0, 1.0, (4, n)).T)[:, seed % 4]  # a column
    compliance = rng.uniform(0.0, 1.0, n)
    compliance[: n // 3] = 1.0  # fully compliant firms weigh nothing
    skip = rng.choice(n, min(n, seed * 7), replace=False)
    expected = revenue_power * exposure * (1.0 - compliance)
    expected[skip] = 0.0
    out = np.empty(n)
    total, positive = draw_kernels.target_weights(revenue_power, exposure, compliance, skip, out)
    same_bits(out, expected)
    same_bits(np.array(total), np.array(expected.sum()))
    assert positive == np.count_nonzero(expected > 0)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", range(4))
def test_search_is_searchsorted_of_the_normalised_running_sums(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed])
    w = weights(rng, n)
    total = w.sum()
    running = np.empty(n)
    last = draw_kernels.running_shares(w, total, running)
    same_bits(running, np.cumsum(w / total))
    cdf = np.cumsum(w / total)
    cdf /= cdf[-1]
    for u in uniforms(rng, running).tolist():
        assert draw_kernels.search(running, last, u) == cdf.searchsorted(u, side="right")


@pytest.mark.parametrize("kind", ["uniform", "huge_tiny", "signed"])
def test_running_shares_are_numpys_cumsum_in_blocks(kind: str) -> None:
    rng = np.random.default_rng(["uniform", "huge_tiny", "signed"].index(kind))
    for n in [*range(1, 200), 1_000, 10_000, 100_003]:
        w = rng.uniform(0.0, 1.0, n)
        if kind != "uniform":
            w *= 10.0 ** rng.integers(-300, 300, n)
        if kind == "signed":
            w *= rng.choice([-1.0, 1.0], n)
        total = float(rng.uniform(0.1, 10.0))
        expected = np.cumsum(w / total)
        out = np.full(n, 7.0)
        same_bits(np.array([draw_kernels.running_shares(w, total, out)]), expected[-1:])
        same_bits(out, expected)
        draw_kernels.running_shares(w, total, w)  # in place
        same_bits(w, expected)


def test_search_orders_nan_as_numpy_does() -> None:
    running = np.array([0.0, 0.5, np.nan, np.nan])
    for last in (1.0, np.nan, 0.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            cdf = running / last
        for u in (0.0, 0.25, 0.5, 0.75):
            assert draw_kernels.search(running, last, u) == cdf.searchsorted(u, side="right")
    assert draw_kernels.search(np.empty(0), 1.0, 0.5) == 0


@pytest.mark.parametrize("n", SIZES)
def test_court_weights_are_numpys(n: int) -> None:
    rng = np.random.default_rng(n)
    revenue = rng.lognormal(0.0, 2.0, n)
    revenue[: min(n, 2)] = 0.0  # firms without revenue weigh nothing
    alignment = rng.uniform(0.0, 1.0, n)
    home = rng.integers(0, 6, n) == 2
    w = np.sqrt(revenue) * (1.0 + alignment) * np.where(home, 3.5, 1.0)
    with np.errstate(invalid="ignore"):  # no firm with any weight: NaN, as in the model
        expected = np.cumsum(w / w.sum())
    out = np.full(n, 7.0)
    last = draw_kernels.court_weights(revenue, alignment, home, 3.5, out)
    same_bits(out, expected)
    same_bits(np.array([last]), expected[-1:])
    empty = np.empty(0)
    assert draw_kernels.court_weights(empty, empty, np.empty(0, dtype=bool), 3.5, empty) == 1.0


@pytest.mark.parametrize("n", SIZES)
def test_a_city_draws_what_rng_choice_draws(n: int) -> None:
    rng = np.random.default_rng([n, 99])
    revenue, alignment = rng.lognormal(0.0, 2.0, n), rng.uniform(0.0, 1.0, n)
    home = rng.integers(0, 6, n) == 2
    running = np.empty(n)
    last = draw_kernels.court_weights(revenue, alignment, home, 1.7, running)
    w = np.sqrt(revenue) * (1.0 + alignment) * np.where(home, 1.7, 1.0)
    for seed in range(20):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        row = draw_kernels.search(running, last, ours.random())
        assert row == theirs.choice(n, p=w / w.sum())
        assert ours.bit_generator.state == theirs.bit_generator.state


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_regulator_draws_are_rng_choices(n: int, size: int) -> None:
    rng = np.random.default_rng([n, size])
    w = weights(rng, n)
    size = min(size, int(np.count_nonzero(w)))
    total = w.sum()
    for seed in range(25):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        # Some states hold half of a 64-bit draw (an earlier bounded integer).
        for g in (ours, theirs):
            g.integers(0, 10, size=seed % 3)
        expected = theirs.choice(n, size, replace=False, p=w / total)
        if size == 1:
            copy = w.copy()
            rows = np.array([draw_one(ours, copy, total)])
            same_bits(copy, w)  # without ``out``, the weights stay as they were
        else:
            rows = draw_without_replacement(ours, w.copy(), size, total)
        np.testing.assert_array_equal(rows, expected)
        assert ours.bit_generator.state == theirs.bit_generator.state


@pytest.mark.parametrize("seed", range(400))
def test_bounded_integers_one_at_a_time_draw_what_an_array_draws(seed: int) -> None:
    """Regulators draw a case's length per target: an array's values, the generator alike."""
    lo = seed % 5
    hi = lo + seed % 13
    size = 1 + seed % 6
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    for g in (ours, theirs):  # states with and without half of a 64-bit draw kept
        g.integers(0, 10, size=seed % 3)
        g.random(seed % 4)
    one_at_a_time = [int(ours.integers(lo, hi + 1)) for _ in range(size)]
    assert one_at_a_time == theirs.integers(lo, hi + 1, size=size).tolist()
    assert ours.bit_generator.state == theirs.bit_generator.state
    assert ours.random() == theirs.random(1)[0]
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_revenue_to_the_power_one_is_revenue() -> None:
    """Regulators read revenue itself for ``np.power(revenue, 1.0)``: the same bits."""
    rng = np.random.default_rng(0)
    for n in (1, 7, 129, 10_003, 100_003):
        x = rng.lognormal(0.0, 5.0, n) * rng.choice([-1.0, 1.0], n)
        special = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1.7976931348623157e308]
        x[: min(n, 8)] = special[: min(n, 8)]
        same_bits(np.power(x, 1.0), x)
