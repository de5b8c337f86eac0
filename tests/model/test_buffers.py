"""Arrays kept between months are reused only when nothing else can see them.

And the kernels that write into kept arrays give NumPy's bits (as in ``test_kernels.py``).
"""

from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass

import numpy as np
import pytest

from sim.model import value_kernels
from sim.model.buffers import KeptArrays
from sim.model.enforcement_risk import enforcement_exposure
from sim.model.policy_model import PolicyModel
from tests.model.test_kernels import same_bits


def test_a_kept_array_is_reused_once_nothing_holds_it() -> None:
    kept = KeptArrays()
    a = kept.empty("x", (3, 4))
    address = a.__array_interface__["data"][0]
    del a
    b = kept.empty("x", (3, 4))
    assert b.__array_interface__["data"][0] == address
    assert kept.empty("y", (3, 4)) is not b  # another name, another array


@dataclass
class Holder:
    value: np.ndarray


@pytest.mark.parametrize(
    "hold",
    [
        lambda a: a,
        lambda a: a.T,
        lambda a: a.T[:, 1],
        lambda a: a[1:2].reshape(-1),
        lambda a: Holder(a),
        lambda a: [a[0]],
        lambda a: memoryview(a),
    ],
)
def test_an_array_held_in_any_way_is_never_handed_out_again(hold) -> None:  # type: ignore[no-untyped-def]
    kept = KeptArrays()
    a = kept.empty("x", (3, 4))
    a[:] = 1.0
    address = a.__array_interface__["data"][0]
    held = hold(a)
    del a
    for _ in range(3):  # more arrays than are kept: none of them is the held one
        b = kept.empty("x", (3, 4))
        b[:] = 2.0
        assert b.__array_interface__["data"][0] != address
    assert held is not None


def test_two_arrays_of_a_name_are_in_use_at_once() -> None:
    kept = KeptArrays()
    last = kept.empty("x", (5,))
    this = kept.empty("x", (5,))
    assert not np.shares_memory(last, this)
    del last
    again = kept.empty("x", (5,))
    assert not np.shares_memory(again, this)
    assert kept.empty("x", (6,)).shape == (6,)  # a new shape: a new array


def test_copies_and_pickles_of_a_keeper_start_empty() -> None:
    kept = KeptArrays()
    kept.empty("x", (4,))
    for other in (copy.deepcopy(kept), pickle.loads(pickle.dumps(kept))):
        assert other._arrays == {}


@pytest.mark.parametrize("n", [*range(0, 40), 127, 128, 129, 4099, 100_003])
def test_the_largest_weight_is_the_largest_value_with_the_sign_bit_clear(n: int) -> None:
    """enforcement_cost finds each row's largest weight by its bits, as an integer maximum."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * np.exp(rng.uniform(-300, 300, n))
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324, -5e-324]
    ones, halves = np.ones(2), np.full(2, 0.5)
    firm = np.full(n, 0.5)
    for k in range(len(edges) + 1):
        y = x.copy()
        y[rng.permutation(n)[: min(k, n)]] = edges[: min(k, n)]
        weights = np.ascontiguousarray(np.stack([y, y[::-1] * -1.0]))
        largest, divisor, cost = np.empty(2), np.empty(2), np.empty_like(weights)
        value_kernels.enforcement_cost(
            weights, ones, firm, firm, firm, halves, halves, halves, halves, halves, 1.0, 1.0,
            0.5, cost, largest, divisor,
        )  # fmt: skip
        for r in range(2):
            kept = weights[r][~np.signbit(weights[r])].view(np.int64)  # NaN so signed above +inf
            top = np.int64(kept.max() if kept.size else -1).view(np.float64)
            if top > 0.0:  # the largest share (divisor 1.0); NaN where there is none above 0
                assert largest[r] == top
            else:
                assert np.isnan(largest[r])


def test_the_largest_share_is_numpys_on_rows_of_zeros_and_nan() -> None:
    m = PolicyModel("baseline", rng=3, n_synthetic_firms=40)
    f = m.firms
    f.compliance[:] = 1.0  # no targeting weight: every share is 0
    e = enforcement_exposure(f, m.regulators, m.params)
    same_bits(e.top_share, e.share.max(axis=1))
    f.compliance[:] = 0.5
    for bad in (np.nan, np.inf):  # a share of NaN, and of inf / inf
        f.revenue[3] = bad
        e = enforcement_exposure(f, m.regulators, m.params)
        assert np.isnan(e.share[:, 3]).all()
        same_bits(e.top_share, e.share.max(axis=1))


def test_last_months_exposure_stays_as_it_was_while_it_is_held() -> None:
    m = PolicyModel("baseline", rng=5, n_synthetic_firms=300)
    m.step()
    held = m.enforcement
    row = m.enforcement.weighted[2]
    copies = held.weights.copy(), held.weighted.copy(), row.copy()
    for _ in range(4):
        m.step()
        assert not np.shares_memory(m.enforcement.weights, held.weights)
    for kept, was in zip((held.weights, held.weighted, row), copies, strict=True):
        same_bits(kept, was)
    same_bits(held.top_share, held.share.max(axis=1))


def test_a_month_reuses_its_kept_arrays() -> None:
    m = PolicyModel("baseline", rng=5, n_synthetic_firms=300)
    m.step()
    m.step()
    seen = {m.enforcement.weights.__array_interface__["data"][0]}
    for _ in range(4):
        m.step()
        seen.add(m.enforcement.weights.__array_interface__["data"][0])
    assert len(seen) == 2  # this month's and last month's


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 17, 1000, 100_003])
def test_numpys_exp_and_power_give_the_same_bits_in_place(n: int) -> None:
    rng = np.random.default_rng(90 + n)
    x = rng.uniform(-800.0, 800.0, n)
    x[: min(n, 6)] = [0.0, -0.0, np.nan, np.inf, -np.inf, 709.9][: min(n, 6)]
    base = np.abs(rng.standard_normal(n)) * np.exp(rng.uniform(-50, 50, n))
    base[: min(n, 4)] = [0.05, 0.0, 1.0, np.inf][: min(n, 4)]
    with np.errstate(over="ignore"):
        for fn, arg, values in ((np.exp, (), x), (np.power, (1.0 / 12.0,), base)):
            expected = fn(values, *arg)
            got = values.copy()
            fn(got, *arg, out=got)
            same_bits(got, expected)
