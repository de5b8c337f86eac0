"""Compiled loops for the firm rules and the expected-cost pass.

Each kernel fuses a chain of element-wise NumPy operations into one loop over the firms (arrays
read once, not once per operation). For each element, a loop does the same IEEE operations in the
same order as the NumPy expression quoted in its docstring, so its results are bitwise NumPy's:

* ``+ - * /`` and ``sqrt`` are exactly rounded, and Numba without ``fastmath`` neither reorders
  them nor contracts a product and a sum into a fused multiply-add;
* ``np.maximum``, ``np.minimum`` and ``np.clip`` are written with NumPy's comparisons
  (:func:`maximum`, :func:`minimum`, :func:`clip01`): NaN propagates, and a tie between ``0.0``
  and ``-0.0`` gives the element NumPy gives;
* ``np.exp`` and ``np.power`` are not compiled (NumPy's vectorized versions may differ from the C
  library's in the last bit): callers keep each as one NumPy call between two kernels. Sums
  (pairwise in NumPy) and matrix products (BLAS) stay in NumPy too.

``tests/model/test_kernels.py`` checks every kernel against its NumPy expression bit for bit.
Numba is imported at the first kernel call (commands that run no model do not pay for it), and
compiled code is cached on disk (``cache=True``): a new process loads it instead of compiling.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
P = ParamSpec("P")
R = TypeVar("R")

#: The kernels' Python functions, by name, compiled by :func:`compile_kernels`.
_PYTHON: dict[str, Callable[..., Any]] = {}


def kernel(fn: Callable[P, R]) -> Callable[P, R]:
    """Declare ``fn`` a kernel: its first call compiles them all (:func:`compile_kernels`)."""
    _PYTHON[fn.__name__] = fn

    @functools.wraps(fn)
    def first_call(*args: P.args, **kwargs: P.kwargs) -> R:
        compile_kernels()
        compiled: Callable[P, R] = globals()[fn.__name__]
        return compiled(*args, **kwargs)

    return first_call


def compile_kernels() -> None:
    """Replace every kernel here by its Numba dispatcher (each compiles at its first call).

    ``error_model="numpy"``: a division by zero gives inf or NaN as in NumPy, without a check.
    """
    from numba import njit

    jit = njit(cache=True, error_model="numpy")
    namespace = globals()
    for name, fn in _PYTHON.items():
        if not hasattr(namespace[name], "py_func"):  # not yet a dispatcher
            namespace[name] = jit(fn)

def contiguous(values: FloatArray) -> FloatArray:
    """Return ``values`` as a contiguous float array (itself when it is one), to pass a kernel."""
    return np.ascontiguousarray(values, dtype=np.float64)


#: Firms per block of :func:`enforcement_cost` (a block's rows stay in the CPU caches).
BLOCK = 4096


@kernel
def maximum(a: float, b: float) -> float:
    """Return ``np.maximum(a, b)`` of one pair: ``a`` if ``a > b`` or ``a`` is NaN, else ``b``."""
    return a if (a > b or a != a) else b


@kernel
def minimum(a: float, b: float) -> float:
    """Return ``np.minimum(a, b)`` of one pair: ``a`` if ``a < b`` or ``a`` is NaN, else ``b``."""
    return a if (a < b or a != a) else b


@kernel
def clip01(x: float) -> float:
    """Return ``np.clip(x, 0.0, 1.0)`` of one element (NaN and ``-0.0`` stay as they are)."""
    y = 0.0 if x < 0.0 else x
    return 1.0 if y > 1.0 else y


@kernel
def budget_split(
    w: FloatArray, expected_cost: FloatArray, strikes: FloatArray, alignment: FloatArray,
    pressure: FloatArray, cash: FloatArray, freeze_until: IntArray, month: int,
    base: tuple[float, float, float, float], cost_response: float, own_cost: float,
    self_reliance: float, expansion: float, cash_constraint: float,
) -> None:  # fmt: skip
    """Write the budget shares into ``w`` (shape (4, n)), as ``FirmPopulation.allocate_budget``.

    Reproduces, with ``blocked = np.maximum(freeze_until[:, 1], freeze_until[:, 2]) > month``::

        w[0] = base[0] * (1.0 + cost_response * expected_cost / own_cost + strikes)
        w[1] = base[1] * (1.0 + self_reliance * alignment)
        w[2] = expansion * np.where(blocked, 0.1, 1.0)
        w[2] *= np.where(cash > 0.0, 1.0, cash_constraint)
        w[3] = base[3] * (1.0 + pressure)
        total = w[0] + w[1] + w[2] + w[3]
        w = np.where(total > 0, w / total, 0.25)
    """
    b0, b1, _, b3 = base
    w0, w1, w2, w3 = w[0], w[1], w[2], w[3]
    for i in range(w.shape[1]):
        x0 = b0 * (1.0 + cost_response * expected_cost[i] / own_cost + strikes[i])
        x1 = b1 * (1.0 + self_reliance * alignment[i])
        blocked = max(freeze_until[i, 1], freeze_until[i, 2]) > month
        x2 = expansion * (0.1 if blocked else 1.0)
        x2 *= 1.0 if cash[i] > 0.0 else cash_constraint
        x3 = b3 * (1.0 + pressure[i])
        total = x0 + x1 + x2 + x3
        positive = total > 0.0
        w0[i] = x0 / total if positive else 0.25
        w1[i] = x1 / total if positive else 0.25
        w2[i] = x2 / total if positive else 0.25
        w3[i] = x3 / total if positive else 0.25


@kernel
def compliance_step(
    compliance: FloatArray, effort: FloatArray, efficiency: float, decay: float
) -> None:
    """Update ``compliance`` (``c``) in place, as ``FirmPopulation.update_compliance``.

    Reproduces ``c += efficiency * effort * (1.0 - c) - decay * c; np.clip(c, 0.0, 1.0, out=c)``.
    """
    for i in range(compliance.shape[0]):
        c = compliance[i]
        compliance[i] = clip01(c + (efficiency * effort[i] * (1.0 - c) - decay * c))


@kernel
def alignment_step(
    alignment: FloatArray, golden_share: BoolArray, self_reliance: float, drift: float
) -> None:
    """Update ``alignment`` (``a``) in place, as ``FirmPopulation.update_alignment``.

    Reproduces ``a += drift * np.where(golden_share, 2.0, 1.0) * (self_reliance - a)`` and
    ``np.clip(a, 0.0, 1.0, out=a)``.
    """
    for i in range(alignment.shape[0]):
        a = alignment[i]
        rate = drift * (2.0 if golden_share[i] else 1.0)
        alignment[i] = clip01(a + rate * (self_reliance - a))


@kernel
def growth_step(
    growth: FloatArray, deal_boost: FloatArray, expansion_share: FloatArray,
    freeze_until: IntArray, exposure: FloatArray, month: int, macro: float, base_expansion: float,
    expansion_growth: float, freeze_penalty: float, reversion: float, long_run: float,
    expansion_exposure: float,
) -> FloatArray:  # fmt: skip
    """Advance growth, deal boosts and antitrust exposure; return the revenue growth factor's base.

    The first half of ``FirmPopulation.grow``; the caller raises the result to the power 1/12 in
    NumPy. Reproduces, with ``extra = expansion_share - base_expansion`` and ``blocked`` as in
    :func:`budget_split`::

        annual = growth + macro + expansion_growth * extra - freeze_penalty * blocked + deal_boost
        base = np.maximum(1.0 + annual, 0.05)                       # returned
        growth += reversion * (long_run - growth)
        deal_boost *= 0.95
        exposure += expansion_exposure * extra                      # then clipped to [0, 1]
    """
    n = growth.shape[0]
    out = np.empty(n)
    for i in range(n):
        extra = expansion_share[i] - base_expansion
        blocked = 1.0 if max(freeze_until[i, 1], freeze_until[i, 2]) > month else 0.0
        g = growth[i]
        annual = g + macro + expansion_growth * extra - freeze_penalty * blocked + deal_boost[i]
        out[i] = maximum(1.0 + annual, 0.05)
        growth[i] = g + reversion * (long_run - g)
        deal_boost[i] *= 0.95
    for i in range(n):
        extra = expansion_share[i] - base_expansion
        exposure[i] = clip01(exposure[i] + expansion_exposure * extra)
    return out


@kernel
def spend_step(
    revenue: FloatArray, rd_intensity: FloatArray, rd_share: FloatArray, margin: FloatArray,
    cash: FloatArray, budget_share: float,
) -> FloatArray:  # fmt: skip
    """Book operating cash flow into ``cash``; return R&D spend, as ``FirmPopulation.spend``.

    Reproduces ``monthly = revenue / 12.0``,
    ``rd_spend = monthly * (rd_intensity + budget_share * rd_share)`` (returned) and
    ``cash += monthly * margin``.
    """
    n = revenue.shape[0]
    rd_spend = np.empty(n)
    for i in range(n):
        monthly = revenue[i] / 12.0
        rd_spend[i] = monthly * (rd_intensity[i] + budget_share * rd_share[i])
        cash[i] += monthly * margin[i]
    return rd_spend


@kernel
def chip_logit(
    intensity: FloatArray, rd_spend: FloatArray, alignment: FloatArray, taste: FloatArray,
    value_term: float, pull: float, self_reliance: float,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Return units wanted and the negated logit, the first half of ``ChipMarket.demand``.

    Reproduces ``units = intensity * rd_spend`` and ``-z`` with
    ``z = value_term + pull * (self_reliance * alignment - 0.25) + taste``; the caller takes
    ``np.exp(-z)`` in NumPy.
    """
    n = intensity.shape[0]
    units, neg_z = np.empty(n), np.empty(n)
    for i in range(n):
        units[i] = intensity[i] * rd_spend[i]
        z = value_term + pull * (self_reliance * alignment[i] - 0.25)
        neg_z[i] = -(z + taste[i])
    return units, neg_z


@kernel
def chip_orders(
    units: FloatArray, exp_neg_z: FloatArray, required: float, blocked: float
) -> tuple[FloatArray, FloatArray]:
    """Return foreign units available and domestic units ordered, the rest of ``demand``.

    Reproduces ``q = np.maximum(1.0 / (1.0 + exp_neg_z), required)``,
    ``want_foreign = units * (1.0 - q)``, ``foreign = want_foreign * (1.0 - blocked)`` and
    ``domestic = units * q + want_foreign * blocked``.
    """
    n = units.shape[0]
    foreign, domestic = np.empty(n), np.empty(n)
    open_share = 1.0 - blocked
    for i in range(n):
        q = maximum(1.0 / (1.0 + exp_neg_z[i]), required)
        want_foreign = units[i] * (1.0 - q)
        foreign[i] = want_foreign * open_share
        domestic[i] = units[i] * q + want_foreign * blocked
    return foreign, domestic


@kernel
def chip_purchase(
    demand: FloatArray, available: FloatArray, fill: float, required: float,
    compute_foreign: FloatArray, compute_domestic: FloatArray, cash: FloatArray, keep: float,
    price: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """Buy the served orders, the element-wise part of ``FirmPopulation.buy_compute``.

    Reproduces ``domestic = demand * fill``, ``foreign = np.minimum(available, domestic * (1.0 -
    required) / required)`` (``available`` when ``required`` is 0), and, in place,
    ``compute_foreign = compute_foreign * keep + foreign``, ``compute_domestic =
    compute_domestic * keep + domestic`` and ``cash -= (foreign + domestic) * price``.

    Returns:
        ``foreign``, ``domestic``, ``demand - domestic`` and ``available - foreign``.
    """
    n = demand.shape[0]
    foreign, domestic, short_domestic, short_foreign = np.empty((4, n))
    ratio = 1.0 - required
    for i in range(n):
        d = demand[i] * fill
        f = available[i]
        if required > 0.0:
            f = minimum(f, d * ratio / required)
        foreign[i] = f
        domestic[i] = d
        short_domestic[i] = demand[i] - d
        short_foreign[i] = available[i] - f
        compute_foreign[i] = compute_foreign[i] * keep + f
        compute_domestic[i] = compute_domestic[i] * keep + d
        cash[i] -= (f + d) * price
    return foreign, domestic, short_domestic, short_foreign


@kernel
def capability_step(
    ai_capability: FloatArray, compute_foreign: FloatArray, compute_domestic: FloatArray,
    domestic_weight: float, rate: float, decay: float,
) -> None:  # fmt: skip
    """Update ``ai_capability`` (``a``) in place, as ``FirmPopulation.update_capability``.

    Reproduces ``effective = compute_foreign + compute_domestic * domestic_weight`` and
    ``a += rate * np.sqrt(effective) - decay * a``.
    """
    for i in range(ai_capability.shape[0]):
        effective = compute_foreign[i] + compute_domestic[i] * domestic_weight
        a = ai_capability[i]
        ai_capability[i] = a + (rate * np.sqrt(effective) - decay * a)


@kernel
def sector_sums(
    sector: IntArray, revenue: FloatArray, n_sectors: int
) -> tuple[FloatArray, FloatArray]:
    """Return each sector's revenue and sum of squared revenue shares, as ``FirmPopulation.hhi``.

    Reproduces ``rev = np.bincount(sector, weights=revenue, minlength=n_sectors)`` and
    ``np.bincount(sector, weights=(revenue / rev[sector]) ** 2, minlength=n_sectors)``:
    ``np.bincount`` adds the weights into their bins in order, from zeros.
    """
    rev, squares = np.zeros(n_sectors), np.zeros(n_sectors)
    n = sector.shape[0]
    if n == 0:
        return rev, squares
    # The running sum of a bin stays in a register while the bin repeats: the same additions
    # in the same order, without waiting for each one's store to load the next.
    current, acc = sector[0], 0.0
    for i in range(n):
        if sector[i] != current:
            rev[current], current = acc, sector[i]
            acc = rev[current]
        acc += revenue[i]
    rev[current] = acc
    current, acc = sector[0], 0.0
    for i in range(n):
        if sector[i] != current:
            squares[current], current = acc, sector[i]
            acc = squares[current]
        share = revenue[i] / rev[sector[i]]
        acc += share * share
    squares[current] = acc
    return rev, squares


@kernel
def targeting_weights(
    columns: FloatArray, weight: FloatArray, compliance: FloatArray
) -> FloatArray:
    """Return each regulator's targeting weight on each firm, shape (R, n).

    Reproduces ``columns * (weight * (1.0 - compliance))`` (``columns`` of shape (R, n)).
    """
    n_reg, n = columns.shape
    out = np.empty((n_reg, n))
    w = np.empty(min(n, BLOCK))
    for lo in range(0, n, BLOCK):
        m = min(BLOCK, n - lo)
        # Views of the block, indexed from 0 (so that the loops vectorize).
        weight_b, compliance_b = weight[lo : lo + m], compliance[lo : lo + m]
        for j in range(m):
            w[j] = weight_b[j] * (1.0 - compliance_b[j])
        for r in range(n_reg):
            column, row = columns[r, lo : lo + m], out[r, lo : lo + m]
            for j in range(m):
                row[j] = column[j] * w[j]
    return out


@kernel
def enforcement_cost(
    share: FloatArray, divisor: FloatArray, compliance: FloatArray, strikes: FloatArray,
    domestic_share: FloatArray, stringency: FloatArray, fine: FloatArray, freeze: FloatArray,
    full_pressure: float, strike_weight: float,
) -> FloatArray:  # fmt: skip
    """Normalize ``share`` in place; return the expected cost per probe of each regulator.

    The element-wise part of :func:`sim.model.enforcement_risk.enforcement_exposure`, a block of
    firms at a time. Reproduces, per regulator ``r`` (row) and firm::

        share /= divisor[r]
        a = (1.0 - compliance) / full_pressure
        zc = np.minimum(stringency[r] * a + strike_weight * strikes * a, 1.0)
        cost = zc * (fine[r] * domestic_share + freeze[r]) * share
    """
    n_reg, n = share.shape
    cost = np.empty((n_reg, n))
    a, b = np.empty(min(n, BLOCK)), np.empty(min(n, BLOCK))
    for lo in range(0, n, BLOCK):
        m = min(BLOCK, n - lo)
        # Views of the block, indexed from 0 (so that the loops vectorize).
        compliance_b, strikes_b = compliance[lo : lo + m], strikes[lo : lo + m]
        domestic_b = domestic_share[lo : lo + m]
        for j in range(m):
            a[j] = (1.0 - compliance_b[j]) / full_pressure
            b[j] = strike_weight * strikes_b[j] * a[j]
        for r in range(n_reg):
            d, s_r, fine_r, freeze_r = divisor[r], stringency[r], fine[r], freeze[r]
            share_r, cost_r = share[r, lo : lo + m], cost[r, lo : lo + m]
            for j in range(m):
                s = share_r[j] / d
                share_r[j] = s
                zc = minimum(s_r * a[j] + b[j], 1.0)
                cost_r[j] = zc * (fine_r * domestic_b[j] + freeze_r) * s
    return cost
