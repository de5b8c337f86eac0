"""The firm phase's chip kernels give, bit for bit, the NumPy expressions they replace.

:func:`sim.model.firm_kernels.chip_purchase` sums its shortfalls a leaf of NumPy's pairwise sum at a
time and skips leaves with no shortfall; these tests check its sums against ``np.add.reduce`` on
every size up to 300 and on large ones, with served and rationed buyers, zeros of both signs,
infinities or a NaN, and runs of leaves with and without shortfalls. (Where several NaNs meet in a
sum, which one the sum keeps is not defined: compiled sums may swap an addition's operands.)
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import firm_kernels

SIZES = [*range(0, 301), 1000, 10_000, 100_003]


def same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Assert that two float arrays have the same shape and the same bits in every element."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual.view(np.int64), expected.view(np.int64))


def orders(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Return domestic demand and foreign units available for ``n`` buyers of a ``kind``."""
    demand, available = rng.uniform(0.0, 3.0, n), rng.uniform(0.0, 3.0, n)
    if kind == "signed":
        demand *= rng.choice([-1.0, 1.0], n)
        available *= rng.choice([-1.0, 1.0], n)
    elif kind == "huge_tiny":
        demand *= 10.0 ** rng.integers(-300, 300, n)
        available *= 10.0 ** rng.integers(-300, 300, n)
    elif kind == "zeros":
        # Runs of buyers wanting nothing (leaves without shortfall), zeros of both signs.
        runs = (np.arange(n) // 200) % 2 == 0
        demand[runs] = np.where(rng.random(runs.sum()) < 0.5, 0.0, -0.0)
        available[runs] = np.where(rng.random(runs.sum()) < 0.5, 0.0, -0.0)
    elif kind == "infinite" and n:
        at = rng.integers(0, n, 3)
        demand[at] = [np.inf, -0.0, 1e308]
        available[at[::-1]] = [np.inf, -0.0, 1e308]
    elif kind == "nan" and n:
        demand[rng.integers(0, n)] = np.nan
    return demand, available


@pytest.mark.parametrize("kind", ["random", "signed", "huge_tiny", "zeros", "infinite", "nan"])
@pytest.mark.parametrize(("fill", "required"), [(1.0, 0.0), (0.8, 0.0), (1.0, 0.3), (0.8, 0.3)])
def test_chip_purchase_sums_are_numpy_sums(kind: str, fill: float, required: float) -> None:
    rng = np.random.default_rng(hash((kind, fill, required)) % 2**32)
    keep, price = 0.97, 0.2
    for n in SIZES:
        demand, available = orders(rng, n, kind)
        stock_f, stock_d, cash = rng.uniform(0.0, 3.0, n), rng.uniform(0.0, 3.0, n), np.zeros(n)
        with np.errstate(all="ignore"):
            domestic = demand * fill
            foreign = available
            if required:
                foreign = np.minimum(available, domestic * (1.0 - required) / required)
            expected = [
                np.add.reduce(x)
                for x in (foreign, domestic, demand - domestic, available - foreign)
            ]
            stocks = (stock_f * keep + foreign, stock_d * keep + domestic)
            paid = cash - (foreign + domestic) * price
        got = firm_kernels.chip_purchase(
            demand, available, fill, required, stock_f, stock_d, cash, keep, price
        )
        same_bits(np.array(got), np.array(expected))
        same_bits(stock_f, stocks[0])
        same_bits(stock_d, stocks[1])
        same_bits(cash, paid)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 129, 10_000])
def test_chip_logit_is_the_numpy_expression(n: int) -> None:
    rng = np.random.default_rng(n)
    intensity, rd_spend = rng.uniform(0.0, 5.0, n), rng.uniform(-1.0, 2.0, n)
    alignment, taste = rng.uniform(0.0, 1.0, n), rng.uniform(-800.0, 800.0, n)
    if n:
        rd_spend[0], taste[-1] = -0.0, np.nan
    value_term, pull, self_reliance = 0.4, 2.0, 0.7
    units, neg_z = np.full(n, np.nan), np.full(n, np.nan)
    firm_kernels.chip_logit(
        intensity, rd_spend, alignment, taste, value_term, pull, self_reliance, units, neg_z
    )
    z = value_term + pull * (self_reliance * alignment - 0.25)
    same_bits(units, intensity * rd_spend)
    same_bits(neg_z, -(z + taste))


@pytest.mark.parametrize("kind", ["random", "signed", "huge_tiny", "zeros", "infinite", "nan"])
@pytest.mark.parametrize(("required", "blocked"), [(0.0, 0.0), (0.3, 0.4)])
def test_chip_orders_sums_are_numpy_sums(kind: str, required: float, blocked: float) -> None:
    rng = np.random.default_rng(hash((kind, required, blocked, "orders")) % 2**32)
    for n in SIZES:
        units, exp_neg_z = orders(rng, n, kind)
        exp_neg_z = np.abs(exp_neg_z)
        with np.errstate(all="ignore"):
            q = np.maximum(1.0 / (1.0 + exp_neg_z), required)
            want_foreign = units * (1.0 - q)
            foreign = want_foreign * (1.0 - blocked)
            domestic = units * q + want_foreign * blocked
            got_foreign, got_domestic = np.full(n, np.nan), np.full(n, np.nan)
            got = firm_kernels.chip_orders(
                units, exp_neg_z, required, blocked, got_foreign, got_domestic
            )
        same_bits(got_foreign, foreign)
        same_bits(got_domestic, domestic)
        same_bits(np.array(got), np.array([np.add.reduce(units), np.add.reduce(domestic)]))


@pytest.mark.parametrize("kind", ["random", "signed", "huge_tiny", "zeros", "infinite", "nan"])
def test_pay_shares_pays_and_sums_as_numpy(kind: str) -> None:
    """``cash[rows] += amount * share / total`` and the payments' np.sum, for distinct rows."""
    rng = np.random.default_rng(hash((kind, "pay")) % 2**32)
    for n in [*range(0, 301, 7), 1000, 10_000]:
        share, _ = orders(rng, n, kind)
        cash = rng.uniform(-5.0, 5.0, 2 * n + 3)
        rows = np.sort(rng.choice(cash.size, n, replace=False)).astype(np.int64)[::-1].copy()
        total, amount = float(np.abs(share).sum()) or 1.0, 0.5 * rng.uniform(0.0, 40.0)
        expected = cash.copy()
        with np.errstate(all="ignore"):
            paid = amount * share / total
            expected[rows] += paid
            got = firm_kernels.pay_shares(cash, rows, share, total, amount)
        same_bits(cash, expected)
        same_bits(np.array(got), np.array(np.add.reduce(paid)))


@pytest.mark.parametrize("kind", ["random", "signed", "huge_tiny", "zeros", "infinite", "nan"])
def test_spend_step_cash_change_is_the_change_of_numpy_sums(kind: str) -> None:
    rng = np.random.default_rng(hash((kind, "spend")) % 2**32)
    for n in SIZES:
        cash, revenue = orders(rng, n, kind)
        margin, rd_intensity, rd_share = (rng.uniform(-0.5, 0.5, n) for _ in range(3))
        with np.errstate(all="ignore"):
            before = np.add.reduce(cash)
            monthly = revenue / 12.0
            after = cash + monthly * margin
            rd = monthly * (rd_intensity + 0.05 * rd_share)
            change = np.add.reduce(after) - before
            got = np.full(n, np.nan)
            got_change = firm_kernels.spend_step(
                revenue, rd_intensity, rd_share, margin, cash, 0.05, got
            )
        same_bits(got, rd)
        same_bits(cash, after)
        same_bits(np.array(got_change), np.array(change))


@pytest.mark.parametrize("kind", ["random", "signed", "huge_tiny"])
def test_budget_split_is_the_numpy_expression(kind: str) -> None:
    """budget_split gives allocate_budget's NumPy shares on every size, and on extreme values."""
    rng = np.random.default_rng(hash((kind, "budget")) % 2**32)
    month, b0, b1, b2, b3 = 5, 1.0, 1.5, 2.0, 0.5
    response, own_cost, self_reliance, cash_constraint = 3.0, 0.02, 0.4, 0.3
    expansion = b2 * (1.0 + 0.5 * 0.6)
    for n in SIZES:
        cost, strikes, alignment, pressure, cash = (rng.uniform(0.0, 1.0, n) for _ in range(5))
        if kind == "signed":
            pressure = rng.uniform(-3.0, 1.0, n)  # a negative total takes the 0.25 branch
            cash = rng.uniform(-1.0, 1.0, n)
            cash[:: max(n // 5, 1)] = -0.0
        elif kind == "huge_tiny":
            cost *= 10.0 ** rng.integers(-300, 300, n)
            strikes *= 10.0 ** rng.integers(-300, 300, n)
            pressure *= rng.choice([-1.0, 1.0], n) * 10.0 ** rng.integers(-300, 300, n)
        freeze_until = np.asfortranarray(rng.integers(month - 2, month + 3, (n, 3)), np.int64)
        with np.errstate(all="ignore"):
            blocked = np.maximum(freeze_until[:, 1], freeze_until[:, 2]) > month
            w = np.empty((4, n))
            w[0] = b0 * (1.0 + response * cost / own_cost + strikes)
            w[1] = b1 * (1.0 + self_reliance * alignment)
            w[2] = expansion * np.where(blocked, 0.1, 1.0)
            w[2] *= np.where(cash > 0.0, 1.0, cash_constraint)
            w[3] = b3 * (1.0 + pressure)
            total = w[0] + w[1] + w[2] + w[3]
            positive = total > 0
            np.divide(w, total, out=w, where=positive)
            w[:, ~positive] = 0.25
            got = np.full((4, n), np.nan)
            firm_kernels.budget_split(
                got, cost, strikes, alignment, pressure, cash, freeze_until, month, b0, b1, b3,
                response, own_cost, self_reliance, expansion, cash_constraint,
            )  # fmt: skip
        same_bits(got, w)
