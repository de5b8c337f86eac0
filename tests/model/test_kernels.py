"""The compiled kernels give, bit for bit, the NumPy expressions they replace.

Each test computes the expression as the firm rules wrote it in NumPy (quoted in the kernel's
docstring) and compares every bit of the results, on seeded arrays that include the edge values
of the rules: zeros and negative zeros, negative cash and margins, weights summing to zero,
freezes that end on the month, growth below the floor, logits whose exponential overflows,
shares clipped at 0 and 1, NaN, and sizes that are not a multiple of the kernels' block or of the
vector width.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.model import firm_kernels, kernels, sum_kernels, value_kernels

SIZES = [0, 1, 7, kernels.BLOCK + 3]


def same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Assert that two float arrays have the same shape and the same bits in every element."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual.view(np.int64), expected.view(np.int64))


def values(rng: np.random.Generator, n: int, lo: float, hi: float, *edges: float) -> np.ndarray:
    """Return ``n`` uniform values in [lo, hi) whose first entries are ``edges`` (and ±0)."""
    x = rng.uniform(lo, hi, n)
    special = np.array([0.0, -0.0, *edges])[:n]
    x[: special.size] = special
    return x


def freezes(rng: np.random.Generator, n: int, month: int) -> np.ndarray:
    """Return freeze ends around ``month``: lapsed, ending this month, in force.

    Column-major, as ``FirmPopulation.freeze_until`` is (the kernels are compiled for its layout).
    """
    return np.asfortranarray(rng.integers(month - 2, month + 3, (n, 3)).astype(np.int64))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("base", [(1.0, 1.5, 2.0, 0.5), (0.0, 0.0, 0.0, 0.0), (1.0, 0.0, 3.0, 0.2)])
def test_budget_split(n: int, base: tuple[float, float, float, float]) -> None:
    rng = np.random.default_rng(n)
    month, support, self_reliance = 5, 0.6, 0.4
    expected_cost = values(rng, n, 0.0, 0.2, 1e-300, np.nan)
    strikes = values(rng, n, 0.0, 3.0)
    alignment = values(rng, n, 0.0, 1.0, 1.0)
    pressure = values(rng, n, -3.0, 1.0, -1.0)  # a negative total takes the 0.25 branch
    cash = values(rng, n, -1.0, 1.0, -5.0)
    freeze_until = freezes(rng, n, month)
    response, cash_constraint, support_response = 3.0, 0.3, 0.5
    own_cost = max(0.05 * base[0] / max(sum(base), 1e-12), 1e-12)

    blocked = np.maximum(freeze_until[:, 1], freeze_until[:, 2]) > month
    w = np.empty((4, n))
    w[0] = base[0] * (1.0 + response * expected_cost / own_cost + strikes)
    w[1] = base[1] * (1.0 + self_reliance * alignment)
    w[2] = base[2] * (1.0 + support_response * support) * np.where(blocked, 0.1, 1.0)
    w[2] *= np.where(cash > 0.0, 1.0, cash_constraint)
    w[3] = base[3] * (1.0 + pressure)
    total = w[0] + w[1] + w[2] + w[3]
    positive = total > 0
    np.divide(w, total, out=w, where=positive)
    w[:, ~positive] = 0.25

    out = np.empty((4, n))
    firm_kernels.budget_split(
        out, expected_cost, strikes, alignment, pressure, cash, freeze_until, month, base[0],
        base[1], base[3], response, own_cost, self_reliance,
        base[2] * (1.0 + support_response * support), cash_constraint,
    )  # fmt: skip
    same_bits(out, w)


@settings(max_examples=40, deadline=None)
@given(
    c=hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(-0.5, 1.5) | st.just(np.nan)),
    efficiency=st.floats(0.0, 2.0),
    decay=st.floats(0.0, 1.0),
)
def test_compliance_step(c: np.ndarray, efficiency: float, decay: float) -> None:
    effort = np.linspace(0.0, 1.0, c.size)
    expected = c.copy()
    expected += efficiency * effort * (1.0 - expected) - decay * expected
    np.clip(expected, 0.0, 1.0, out=expected)
    firm_kernels.compliance_step(c, effort, efficiency, decay)
    same_bits(c, expected)


@settings(max_examples=40, deadline=None)
@given(
    a=hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(-0.5, 1.5) | st.just(np.nan)),
    self_reliance=st.floats(-1.0, 2.0),
    drift=st.floats(0.0, 1.0),
)
def test_alignment_step(a: np.ndarray, self_reliance: float, drift: float) -> None:
    golden = np.arange(a.size) % 3 == 0
    expected = a.copy()
    expected += drift * np.where(golden, 2.0, 1.0) * (self_reliance - expected)
    np.clip(expected, 0.0, 1.0, out=expected)
    firm_kernels.alignment_step(a, golden, self_reliance, drift)
    same_bits(a, expected)


@pytest.mark.parametrize("n", SIZES)
def test_growth_step(n: int) -> None:
    rng = np.random.default_rng(10 + n)
    month = 7
    growth = values(rng, n, -1.5, 0.5, -2.0, np.nan)  # below -95% a year: the floor
    deal_boost = values(rng, n, 0.0, 0.1)
    expansion = values(rng, n, 0.0, 1.0, 1.0)
    freeze_until = freezes(rng, n, month)
    exposure = values(rng, n, -0.1, 1.1, 1.0)
    macro, base_exp, exp_growth, penalty, reversion, long_run, exp_exposure = (
        0.01, 0.4, 0.3, 0.15, 0.02, 0.05, 0.5,
    )  # fmt: skip

    extra = expansion - base_exp
    blocked = np.maximum(freeze_until[:, 1], freeze_until[:, 2]) > month
    annual = growth + macro + exp_growth * extra - penalty * blocked + deal_boost
    factor = np.maximum(1.0 + annual, 0.05)
    g, d, e = growth.copy(), deal_boost.copy(), exposure.copy()
    g += reversion * (long_run - g)
    d *= 0.95
    e += exp_exposure * extra
    np.clip(e, 0.0, 1.0, out=e)

    out = np.full(n, np.nan)
    firm_kernels.growth_step(
        growth, deal_boost, expansion, freeze_until, exposure, month, macro, base_exp,
        exp_growth, penalty, reversion, long_run, exp_exposure, out,
    )  # fmt: skip
    for actual, expected in ((out, factor), (growth, g), (deal_boost, d), (exposure, e)):
        same_bits(actual, expected)


@pytest.mark.parametrize("n", SIZES)
def test_spend_and_capability(n: int) -> None:
    rng = np.random.default_rng(20 + n)
    revenue = values(rng, n, 0.0, 500.0, 1e-300)
    rd_intensity, rd_share = values(rng, n, 0.0, 0.2), values(rng, n, 0.0, 1.0)
    margin, cash = values(rng, n, -0.5, 0.3), values(rng, n, -10.0, 10.0)
    monthly = revenue / 12.0
    rd = monthly * (rd_intensity + 0.05 * rd_share)
    expected_cash = cash + monthly * margin
    before = np.add.reduce(cash)
    got = np.full(n, np.nan)
    change = firm_kernels.spend_step(revenue, rd_intensity, rd_share, margin, cash, 0.05, got)
    same_bits(got, rd)
    same_bits(cash, expected_cash)
    same_bits(np.array(change), np.array(np.add.reduce(expected_cash) - before))

    foreign, domestic = values(rng, n, 0.0, 3.0), values(rng, n, 0.0, 3.0)
    capability = values(rng, n, 0.0, 2.0)
    expected = capability.copy()
    expected += 0.02 * np.sqrt(foreign + domestic * (1.0 - 0.3)) - 0.01 * expected
    firm_kernels.capability_step(capability, foreign, domestic, 1.0 - 0.3, 0.02, 0.01)
    same_bits(capability, expected)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("required", [0.0, 0.3])
def test_chip_demand_and_purchase(n: int, required: float) -> None:
    rng = np.random.default_rng(30 + n)
    intensity, rd_spend = values(rng, n, 0.0, 5.0), values(rng, n, 0.0, 2.0)
    alignment = values(rng, n, 0.0, 1.0)
    taste = values(rng, n, -5.0, 5.0, -800.0, 800.0)  # exp(-z) overflows and underflows
    value_term, pull, self_reliance, blocked = 0.4, 2.0, 0.7, 0.35

    units = intensity * rd_spend
    z = value_term + pull * (self_reliance * alignment - 0.25)
    z = z + taste
    with np.errstate(over="ignore"):
        q = np.maximum(1.0 / (1.0 + np.exp(-z)), required)
    want_foreign = units * (1.0 - q)
    available = want_foreign * (1.0 - blocked)
    demand = units * q + want_foreign * blocked

    got_units, neg_z = np.full(n, np.nan), np.full(n, np.nan)
    firm_kernels.chip_logit(
        intensity, rd_spend, alignment, taste, value_term, pull, self_reliance, got_units, neg_z
    )
    same_bits(got_units, units)
    same_bits(neg_z, -z)
    got_demand = np.full(n, np.nan)
    with np.errstate(over="ignore"):
        got_available = np.exp(neg_z)  # the foreign units are written over it
        wanted, demanded = firm_kernels.chip_orders(
            units, got_available, required, blocked, got_available, got_demand
        )
    same_bits(got_available, available)
    same_bits(got_demand, demand)
    same_bits(np.array(wanted), np.add.reduce(units))
    same_bits(np.array(demanded), np.add.reduce(demand))

    fill, keep, price = 0.8, 0.97, 0.2
    stock_f, stock_d, cash = values(rng, n, 0.0, 3.0), values(rng, n, 0.0, 3.0), np.zeros(n)
    domestic = demand * fill
    foreign = available
    if required:
        foreign = np.minimum(available, domestic * (1.0 - required) / required)
    expected = {
        "foreign": foreign, "domestic": domestic, "short_d": demand - domestic,
        "short_f": available - foreign, "stock_f": stock_f * keep + foreign,
        "stock_d": stock_d * keep + domestic, "cash": cash - (foreign + domestic) * price,
    }  # fmt: skip
    got = firm_kernels.chip_purchase(demand, available, fill, required, stock_f, stock_d, cash,
                                     keep, price)  # fmt: skip
    sums = [np.add.reduce(expected[name]) for name in ("foreign", "domestic", "short_d", "short_f")]
    assert all(type(total) is float for total in got)
    same_bits(np.array(got), np.array(sums))
    for name, actual in (("stock_f", stock_f), ("stock_d", stock_d), ("cash", cash)):
        same_bits(actual, expected[name])


@pytest.mark.parametrize("n", [0, 1, 9, 40])
@pytest.mark.parametrize("extra", [0, 5])
def test_stake_rows(n: int, extra: int) -> None:
    """Rows where a draw falls below the chance and no stake is held, among the first ``n``."""
    rng = np.random.default_rng(90 + n + extra)
    draws = values(rng, n, 0.0, 1.0, 0.5, np.nan)
    exposure = values(rng, n + extra, 0.0, 1.0, 1.0, 0.5)  # a draw equal to its chance
    memory = values(rng, n + extra, 0.0, 3.0, 0.0, np.inf)
    held = rng.random(n + extra) < 0.3
    base, weight = 0.6, 0.8
    chance = base * exposure[:n] * (1.0 + weight * memory[:n])
    expected = np.flatnonzero((draws < chance) & ~held[:n])
    rows = np.full(n, -1, dtype=np.int64)
    k = firm_kernels.stake_rows(draws, base, exposure, weight, memory, held, rows)
    np.testing.assert_array_equal(rows[:k], expected)


@pytest.mark.parametrize("n", [0, 1, 50, 1000])
def test_sector_sums_are_bincounts(n: int) -> None:
    rng = np.random.default_rng(40 + n)
    # Runs of one sector and interleaved sectors; sector 4 never occurs.
    sector = np.where(rng.random(n) < 0.7, 3, rng.integers(0, 4, n)).astype(np.int64)
    revenue = rng.lognormal(0.0, 2.0, n)
    rev = np.bincount(sector, weights=revenue, minlength=5)
    squares = np.bincount(sector, weights=(revenue / rev[sector]) ** 2, minlength=5)
    got_rev, got_squares = sum_kernels.sector_sums(sector, revenue, 5)
    same_bits(got_rev, rev)
    same_bits(got_squares, squares)


@pytest.mark.parametrize("n", [0, 1, 9, 129, 1000, 2 * kernels.BLOCK + 5, 100_003])
@pytest.mark.parametrize("n_reg", [0, 1, 5])
def test_enforcement_pass(n: int, n_reg: int) -> None:
    rng = np.random.default_rng(50 + n + n_reg)
    columns = rng.uniform(0.0, 1.0, (n_reg, n))
    if n:
        columns[:, 0] = 0.0
    if n_reg > 1:
        columns[-1] = 0.0  # a regulator whose weights sum to 0 (divided by 1)
    revenue = values(rng, n, 0.0, 300.0, 1e-300)
    compliance = values(rng, n, 0.0, 1.0, 1.0)
    strikes = values(rng, n, 0.0, 4.0, 10.0)  # zc reaches its cap of 1
    domestic = values(rng, n, 0.5, 1.0, 1.0)
    stringency, p_fine, fine_share, p_freeze, years = (
        rng.uniform(0.0, 1.0, n_reg) for _ in range(5)
    )
    full_pressure, strike_weight, penalty = 0.8, 0.25, 0.15
    fine = p_fine * fine_share
    freeze = p_freeze * stringency * years
    freeze *= penalty

    share = columns * (revenue * (1.0 - compliance))
    targeting = share.copy()
    weights = np.empty_like(columns)
    leaves = sum_kernels.pairwise_leaves(n)
    got_total = value_kernels.targeting_weights(columns, revenue, compliance, weights, *leaves)
    same_bits(weights, share)
    total = share.sum(axis=1)
    same_bits(got_total, total)

    divisor = np.where(total > 0.0, total, 1.0)
    share /= divisor[:, None]
    a = (1.0 - compliance) / full_pressure
    b = strike_weight * strikes * a
    cost = np.minimum(np.multiply.outer(stringency, a) + b, 1.0)
    cost *= np.multiply.outer(fine, domestic) + freeze[:, None]
    cost *= share
    got = np.empty_like(columns)
    top, got_divisor = np.full(n_reg, np.nan), np.full(n_reg, np.nan)
    exact = value_kernels.enforcement_cost(
        weights, got_total, compliance, strikes, domestic, stringency, p_fine, fine_share,
        p_freeze, years, penalty, full_pressure, strike_weight, got, top, got_divisor,
    )  # fmt: skip
    same_bits(weights, targeting)  # read, not divided in place
    same_bits(got_divisor, divisor)
    same_bits(weights / got_divisor[:, None], share)
    same_bits(got, cost)
    largest = share.max(axis=1) if n else np.zeros(n_reg)
    positive = np.isfinite(total) & (largest > 0.0)
    same_bits(top[positive], largest[positive])
    assert np.isnan(top[~positive]).all() and exact == positive.all()

    # Both kernels in one call: the same weights, costs, divisors and largest shares.
    fused_weights, fused_cost = np.empty_like(columns), np.empty_like(columns)
    fused_top, fused_divisor = np.full(n_reg, np.nan), np.full(n_reg, np.nan)
    fused_exact = value_kernels.enforcement_pass(
        columns, revenue, compliance, strikes, domestic, stringency, p_fine, fine_share,
        p_freeze, years, penalty, full_pressure, strike_weight, fused_weights, fused_cost,
        fused_top, fused_divisor, *leaves,
    )  # fmt: skip
    same_bits(fused_weights, targeting)
    same_bits(fused_cost, cost)
    same_bits(fused_divisor, divisor)
    same_bits(fused_top, top)
    assert fused_exact == exact


@pytest.mark.parametrize("n", [1, 2, 9, 1000])
def test_the_largest_share_is_the_largest_weight_divided(n: int) -> None:
    """Dividing by a row's positive total keeps the order: neighbours that round together."""
    rng = np.random.default_rng(70 + n)
    base = rng.uniform(0.5, 1.0, n)
    # The largest weight and others a few units in the last place below it, which the division
    # may round to the same share; tiny and huge weights.
    columns = np.vstack([base, base * 1e-300, base * 1e300])
    for row in columns:
        top = np.argmax(row)
        row[rng.integers(0, n, min(n, 5))] = np.nextafter(row[top], 0.0)
    ones, zeros = np.ones(n), np.zeros(n)
    weights, cost = np.empty_like(columns), np.empty_like(columns)
    rules = [np.full(3, 0.5) for _ in range(5)]
    top, divisor = np.full(3, np.nan), np.full(3, np.nan)
    exact = value_kernels.enforcement_pass(
        columns, ones, zeros, zeros, ones, *rules, 0.15, 0.8, 0.25, weights, cost, top, divisor,
        *sum_kernels.pairwise_leaves(n),
    )  # fmt: skip
    share = columns / np.where(columns.sum(axis=1) > 0.0, columns.sum(axis=1), 1.0)[:, None]
    finite = np.isfinite(columns.sum(axis=1)) & (share.max(axis=1) > 0.0)
    same_bits(top[finite], share.max(axis=1)[finite])
    assert exact == finite.all()


@pytest.mark.parametrize("n", SIZES)
def test_fade_memories(n: int) -> None:
    rng = np.random.default_rng(60 + n)
    memory, strikes = values(rng, n, 0.0, 5.0, 1e-300, np.inf), values(rng, n, 0.0, 4.0, np.nan)
    memory_keep, strike_keep = 0.5 ** (1.0 / 6.0), 1.0 - 0.08
    expected_memory, expected_strikes = memory * memory_keep, strikes * strike_keep
    value_kernels.fade_memories(memory, memory_keep, strikes, strike_keep)
    same_bits(memory, expected_memory)
    same_bits(strikes, expected_strikes)


def test_element_helpers_follow_numpy() -> None:
    """NaN propagates and ties of 0.0 and -0.0 resolve as in NumPy's array loops."""
    edge = np.array([np.nan, -np.inf, -1.0, -0.0, 0.0, 5e-324, 0.05, 1.0, 1.5, np.inf])
    same_bits([kernels.clip01(x) for x in edge], np.clip(edge, 0.0, 1.0))
    for y in edge:
        same_bits([kernels.maximum(x, y) for x in edge], np.maximum(edge, y))
        same_bits([kernels.minimum(x, y) for x in edge], np.minimum(edge, y))
        same_bits([kernels.maximum(y, x) for x in edge], np.maximum(y, edge))
        same_bits([kernels.minimum(y, x) for x in edge], np.minimum(y, edge))


PAIRWISE_SIZES = [*range(301), 1000, 10_000, 100_003]


def summands(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Return ``n`` values to sum: random, of huge and tiny magnitudes, or large and signed."""
    if kind == "random":
        return rng.standard_normal(n)
    if kind == "huge_tiny":
        return rng.standard_normal(n) * np.exp(rng.uniform(-300.0, 300.0, n))
    x = rng.uniform(0.0, 1e16, n)
    x[::3] *= -1.0
    x[: min(n, 2)] = [-0.0, 0.0][: min(n, 2)]
    return x


@pytest.mark.parametrize("kind", ["random", "huge_tiny", "signed"])
def test_pairwise_sum_is_numpys(kind: str) -> None:
    """Sums, the metrics' firm sums and sums of selected elements have np.add.reduce's bits."""
    rng = np.random.default_rng(len(kind))
    for n in PAIRWISE_SIZES:
        a = summands(rng, n, kind)
        same_bits(sum_kernels.pairwise_sum(a), np.add.reduce(a))
        mask = rng.random(n) < (0.0 if n % 7 == 0 else 1.0 if n % 7 == 1 else 0.6)
        same_bits(_metric_sums_of(a, mask)[:15], _numpy_sums_of(a, mask))


@pytest.mark.parametrize("kind", ["random", "huge_tiny", "signed"])
def test_leaf_sums_in_lanes_are_numpys(kind: str) -> None:
    """A leaf summed in vector lanes (contiguous) or by scalar sums (strided) has NumPy's bits."""
    rng = np.random.default_rng(10 + len(kind))
    for n in [*range(301), 1000, 10_000]:
        a = summands(rng, 2 * n, kind)
        for values in (a[:n], a[::2]):  # contiguous: lanes; strided: scalar running sums
            for lo in sorted({0, 1, 7, n // 3, max(n - 8, 0)} - {n} if n else {0}):
                m = min(sum_kernels.LEAF, n - lo)
                leaf = np.array(values[lo : lo + m])
                same_bits(0.0 + sum_kernels.leaf_sum(values, lo, m), np.add.reduce(leaf))
            same_bits(sum_kernels.pairwise_sum(values), np.add.reduce(np.array(values)))


def _metric_sums_of(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return :func:`sum_kernels.metric_sums` with every float array ``a``, listed ``mask``."""
    n, out = a.size, np.full(sum_kernels.N_SUMS, np.nan)
    sum_kernels.metric_sums(
        a, a, a, a, a, a, a, a, 0.7, a, a, mask, mask, np.zeros((n, 3), np.int64), 0,
        np.zeros(n, np.int64), 1, np.full(2 * n, np.nan), out,
    )  # fmt: skip
    return out


def _numpy_sums_of(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return the NumPy sums that :func:`_metric_sums_of` stands for (the firm sums)."""
    total, lv = np.add.reduce, a * mask
    return np.array([
        total(a), total(a), total(a * a), total(a), total(a), total(a), total(a), total(a),
        total(a + a), total(a * 0.7), total(a + a * 0.7), total(a * lv), total(lv),
        total(a[mask]), total(a[~mask]),
    ])  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 7, 8, 127, 128, 129, 200, 1000, 10_000, 100_003])
@pytest.mark.parametrize("runs", [False, True])
def test_metric_sums(n: int, runs: bool) -> None:
    """Every sum has NumPy's bits: sectors in runs or mixed; all, some or no firms listed."""
    rng = np.random.default_rng(60 + n)
    month, weight = 4, 0.7
    arrays = [summands(rng, n, "random" if k % 2 else "huge_tiny") for k in range(10)]
    (compliance, alignment, expansion, revenue, rd_spend, capability, foreign, domestic,
     market_value, rate) = arrays  # fmt: skip
    revenue = np.abs(revenue)
    listed = rng.random(n) < {7: 0.0, 127: 0.0, 8: 1.0, 128: 1.0}.get(n, 0.7)
    golden = rng.random(n) < 0.1
    freeze_until = freezes(rng, n, month)
    sector = rng.integers(0, 4, n).astype(np.int64)
    if runs:
        sector.sort()

    lv = market_value * listed
    rev = np.bincount(sector, weights=revenue, minlength=5)
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = np.bincount(sector, weights=(revenue / rev[sector]) ** 2, minlength=5)
        hhi = 10_000.0 * (rev / rev.sum() * squares).sum()
    total = np.add.reduce
    expected = [
        total(compliance), total(alignment), total(expansion * revenue), total(revenue),
        total(rd_spend), total(capability), total(foreign), total(domestic),
        total(foreign + domestic), total(domestic * weight), total(foreign + domestic * weight),
        total(rate * lv), total(lv), total(market_value[listed]), total(market_value[~listed]),
        np.count_nonzero(freeze_until > month), np.count_nonzero(golden), hhi,
    ]  # fmt: skip
    got = np.full(sum_kernels.N_SUMS, np.nan)
    sum_kernels.metric_sums(
        compliance, alignment, expansion, revenue, rd_spend, capability, foreign, domestic,
        weight, market_value, rate, listed, golden, freeze_until, month, sector, 5,
        np.full(2 * n, np.nan), got,
    )  # fmt: skip
    assert len(got) == len(sum_kernels.METRIC_SUMS)
    same_bits(got, np.array(expected, dtype=float))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("blocked", "listing_risk"), [(0.0, 0.0), (0.4, 0.03)])
def test_investors_valuation(n: int, blocked: float, listing_risk: float) -> None:
    rng = np.random.default_rng(70 + n)
    rate = values(rng, n, 0.0, 0.3, 0.05)  # a spread of exactly 0 at growth 0.05
    golden, abroad = rng.random(n) < 0.3, rng.random(n) < 0.5
    foreign, domestic = values(rng, n, 0.0, 3.0), values(rng, n, 0.0, 3.0)
    rd = values(rng, n, 0.0, 0.3, 0.2)
    common, b_golden, b_export, adjust, growth, horizon = 0.1, 0.02, 0.05, 0.3, 0.05, 30.0

    target = np.full(n, common)
    target -= b_golden * golden
    if blocked > 0.0:
        total = foreign + domestic
        share = np.divide(foreign, total, out=np.zeros(n), where=total > 0)
        target += b_export * blocked * (share * np.minimum(1.0, 5.0 * rd))
    if listing_risk > 0.0:
        target += listing_risk * abroad
    moved = rate + adjust * (target - rate)
    args = (golden, b_golden, foreign, domestic, rd, blocked > 0.0, b_export * blocked, abroad,
            listing_risk)  # fmt: skip
    same_bits(value_kernels.target_rates(common, *args), target)
    exponent = np.full(n, np.nan)
    value_kernels.move_rates(rate, adjust, growth, horizon, exponent, common, *args)
    same_bits(rate, moved)
    spread = moved - growth
    same_bits(exponent, value_kernels.annuity_exponent(spread, horizon))

    near_zero = np.array([0.0, -0.0, 1e-12, -1e-12, 0.1, np.nan, -0.2])
    for s in (near_zero, spread):
        x = s * horizon
        small = np.abs(x) < 1e-9
        x = np.where(small, 1.0, x)
        expected = np.expm1(-x) / x * -horizon
        expected[small] = horizon * (1.0 - 0.5 * s[small] * horizon)
        annuity = value_kernels.annuity(
            np.expm1(value_kernels.annuity_exponent(s, horizon)), s, horizon
        )
        same_bits(annuity, expected)

    cash, revenue = values(rng, n, -50.0, 50.0), values(rng, n, 0.0, 300.0)
    margin, cost = values(rng, n, -0.2, 0.3), values(rng, n, 0.0, 0.1)
    valued = rng.random(n) < 0.8
    value = np.subtract(margin, cost) * revenue * annuity
    value += cash
    value *= 0.14
    same_bits(value_kernels.firm_values(cash, revenue, margin, cost, annuity, 0.14, valued,
                                        False), value)  # fmt: skip
    np.maximum(value, 0.0, out=value)
    np.copyto(value, 0.0, where=~valued)
    same_bits(value_kernels.firm_values(cash, revenue, margin, cost, annuity, 0.14, valued,
                                        True), value)  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 5, 33])
def test_observe_rates(n: int) -> None:
    rng = np.random.default_rng(85 + n)
    perceived = values(rng, n, 0.0, 30.0, 1e-300, np.inf)
    opened = rng.integers(0, 200, n).astype(float)
    before = opened - rng.integers(0, 5, n)
    expected = perceived.copy()
    with np.errstate(invalid="ignore"):  # inf - inf
        expected += 0.1 * (opened - before - expected)
    value_kernels.observe_rates(perceived, opened, before, 0.1)
    same_bits(perceived, expected)
    same_bits(before, opened)


@pytest.mark.parametrize("n", [0, 1, 9, 1000])
def test_hazard_cap(n: int) -> None:
    rng = np.random.default_rng(80 + n)
    divisor = np.array([1.0, 3.0, 0.7, 1.0])
    weights = rng.uniform(0.0, 0.5, (4, n)) * divisor[:, None]
    weights[:, : min(n, 2)] = [0.9, 0.0][: min(n, 2)]  # hazards that pass 1, firms not targeted
    share = weights / divisor[:, None]
    weighted = rng.uniform(0.0, 0.01, (4, n))
    rate = np.array([3.0, 0.5, 1.5, 0.0])
    top = share.max(axis=1) if n else np.zeros(4)
    total = rate @ weighted
    expected = total.copy()
    for r in np.flatnonzero(top * rate > 1.0):
        rows = np.flatnonzero(share[r] * rate[r] > 1.0)
        s = share[r, rows]
        expected[rows] -= (s * rate[r] - 1.0) * weighted[r, rows] / s
    value_kernels.hazard_cap(total, rate, weights, divisor, weighted, top)
    same_bits(total, 12.0 * expected)
