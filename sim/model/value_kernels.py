"""Compiled loops of the expected-cost pass and of the investors' valuation.

The pass is :mod:`sim.model.enforcement_risk`; the valuation, :mod:`sim.model.valuation`.

Each does, element by element, the IEEE operations of the NumPy expression in its docstring, in
the same order (:mod:`sim.model.kernels`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import kernels, sum_kernels
from sim.model.kernels import BLOCK, kernel

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@kernel
def targeting_weights(
    columns: FloatArray, weight: FloatArray, compliance: FloatArray, out: FloatArray
) -> FloatArray:
    """Write each regulator's targeting weight on each firm into ``out``; return their sums.

    Reproduces ``out[...] = columns * (weight * (1.0 - compliance))`` (``columns`` and ``out`` of
    shape (R, n)) and ``out.sum(axis=1)``, a leaf of the pairwise sums at a time
    (:mod:`sim.model.sum_kernels`: the leaf's weights are still in the CPU's first cache when they
    are added).
    """
    n_reg, n = columns.shape
    bounds, ops = sum_kernels.pairwise_leaves(n)
    parts = np.empty((bounds.shape[0] - 1, n_reg))
    w = np.empty(sum_kernels.LEAF)
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        # Views of the leaf, indexed from 0 (so that the loops vectorize).
        weight_b, compliance_b = weight[lo : lo + m], compliance[lo : lo + m]
        for j in range(m):
            w[j] = weight_b[j] * (1.0 - compliance_b[j])
        for r in range(n_reg):
            column, row = columns[r, lo : lo + m], out[r, lo : lo + m]
            for j in range(m):
                row[j] = column[j] * w[j]
            parts[k, r] = sum_kernels.leaf_sum(row, 0, m)
    return sum_kernels.combine(ops, parts)


@kernel
def enforcement_cost(
    share: FloatArray, total: FloatArray, compliance: FloatArray, strikes: FloatArray,
    domestic_share: FloatArray, stringency: FloatArray, p_fine: FloatArray,
    fine_share: FloatArray, p_freeze: FloatArray, freeze_years: FloatArray, penalty: float,
    full_pressure: float, strike_weight: float, cost: FloatArray,
) -> tuple[FloatArray, bool]:  # fmt: skip
    """Normalize ``share`` in place; write each regulator's expected cost per probe in ``cost``.

    The element-wise part of :func:`sim.model.enforcement_risk.enforcement_exposure`, a block of
    firms at a time. Reproduces, with ``divisor = np.where(total > 0.0, total, 1.0)``,
    ``fine = p_fine * fine_share`` and ``freeze = p_freeze * stringency * freeze_years`` then
    ``freeze *= penalty``, per regulator ``r`` (row) and firm::

        share /= divisor[r]
        a = (1.0 - compliance) / full_pressure
        zc = np.minimum(stringency[r] * a + strike_weight * strikes * a, 1.0)
        cost[r] = zc * (fine[r] * domestic_share + freeze[r]) * share[r]

    Returns each row's largest share, ``share.max(axis=1)``, and whether every row has it. A row
    with no share above 0, or whose ``total`` is not finite (it may hold NaN, and NumPy's maximum
    then decides which NaN, or which zero), has NaN instead: the caller takes NumPy's there.
    """
    n_reg, n = share.shape
    top = np.full(n_reg, -1, dtype=np.int64)
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
            d = total[r] if total[r] > 0.0 else 1.0
            s_r, fine_r = stringency[r], p_fine[r] * fine_share[r]
            freeze_r = p_freeze[r] * stringency[r] * freeze_years[r] * penalty
            share_r, cost_r = share[r, lo : lo + m], cost[r, lo : lo + m]
            for j in range(m):
                s = share_r[j] / d
                share_r[j] = s
                zc = kernels.minimum(s_r * a[j] + b[j], 1.0)
                cost_r[j] = zc * (fine_r * domestic_b[j] + freeze_r) * s
            top[r] = largest_bits(share_r, top[r])
    largest = top.view(np.float64)
    exact = True
    for r in range(n_reg):
        if not (largest[r] > 0.0 and abs(total[r]) < np.inf):
            largest[r] = np.nan
            exact = False
    return largest, exact


@kernel
def largest_bits(values: FloatArray, start: int) -> int:
    """Return the largest of ``start`` and the bits (as int64) of ``values``.

    A float64 at or above +0.0 orders as its bits do as an int64, and every value with the sign
    bit set (below 0, -0.0, a NaN so signed) has negative bits: so the result, unless ``start``,
    is the bits of the largest value with the sign bit clear, a NaN so signed being above +inf.
    An integer maximum, which the loop vectorizes; ``start = -1`` stands for none.
    """
    bits = values.view(np.int64)
    top = start
    for j in range(bits.shape[0]):
        top = max(top, bits[j])
    return top


@kernel
def target_rates(
    discount_rate: FloatArray, move: bool, adjust: float, common: float,
    golden_share: BoolArray, b_golden: float, foreign: FloatArray, domestic: FloatArray,
    rd_intensity: FloatArray, blocked: bool, export_weight: float, listed_abroad: BoolArray,
    listing_risk: float, growth: float,
) -> FloatArray:  # fmt: skip
    """Return each firm's target discount rate, or move ``discount_rate`` toward it.

    The target, as ``Investors.target_discount_rate``, is (``export_weight`` the export-control
    weight times the blocked share; its term only when ``blocked``, the listing risk's only when
    it is positive)::

        rate = np.full(n, common)
        rate -= b_golden * golden_share
        total = foreign + domestic
        share = np.divide(foreign, total, out=np.zeros(n), where=total > 0)
        rate += export_weight * (share * np.minimum(1.0, 5.0 * rd_intensity))
        rate += listing_risk * listed_abroad

    Unless ``move`` it is returned; else ``discount_rate += adjust * (rate - discount_rate)``
    in place, and ``discount_rate - growth`` is returned (the spread of the annuity factor).
    """
    n = discount_rate.shape[0]
    out = np.empty(n)
    for i in range(n):
        rate = common - b_golden * (1.0 if golden_share[i] else 0.0)
        if blocked:
            total = foreign[i] + domestic[i]
            share = foreign[i] / total if total > 0.0 else 0.0
            rate = rate + export_weight * (share * kernels.minimum(1.0, 5.0 * rd_intensity[i]))
        if listing_risk > 0.0:
            rate = rate + listing_risk * (1.0 if listed_abroad[i] else 0.0)
        if not move:
            out[i] = rate
        else:
            d = discount_rate[i] + adjust * (rate - discount_rate[i])
            discount_rate[i] = d
            out[i] = d - growth
    return out


@kernel
def annuity_exponent(spread: FloatArray, horizon: float) -> FloatArray:
    """Return ``-x`` for the annuity factor's ``np.expm1(-x)``, as ``annuity_factor``.

    Reproduces ``x = spread * horizon``, with ``x = 1.0`` where ``np.abs(x) < 1e-9``.
    """
    n = spread.shape[0]
    out = np.empty(n)
    for i in range(n):
        x = spread[i] * horizon
        out[i] = -(1.0 if abs(x) < 1e-9 else x)
    return out


@kernel
def annuity(expm1: FloatArray, spread: FloatArray, horizon: float) -> FloatArray:
    """Return the annuity factor from ``expm1 = np.expm1(annuity_exponent(spread, horizon))``.

    Reproduces ``expm1 / x * -horizon`` and, where ``np.abs(x) < 1e-9`` (``x = spread *
    horizon``), ``horizon * (1.0 - 0.5 * spread * horizon)``.
    """
    n = spread.shape[0]
    out = np.empty(n)
    for i in range(n):
        x = spread[i] * horizon
        if abs(x) < 1e-9:
            out[i] = horizon * (1.0 - 0.5 * spread[i] * horizon)
        else:
            out[i] = expm1[i] / x * -horizon
    return out


@kernel
def firm_values(
    cash: FloatArray, revenue: FloatArray, margin: FloatArray, expected_cost: FloatArray,
    annuity: FloatArray, usd_per_cny: float, valued: BoolArray, limited: bool,
) -> FloatArray:  # fmt: skip
    """Return each firm's value, as ``firm_value_usd`` and then ``Investors.step``.

    Reproduces ``value = (margin - expected_cost) * revenue * annuity``, ``value += cash``,
    ``value *= usd_per_cny`` and, when ``limited``, ``np.maximum(value, 0.0)`` and 0 where not
    ``valued``.
    """
    n = cash.shape[0]
    out = np.empty(n)
    for i in range(n):
        v = (margin[i] - expected_cost[i]) * revenue[i] * annuity[i]
        v = (v + cash[i]) * usd_per_cny
        if limited:
            v = kernels.maximum(v, 0.0) if valued[i] else 0.0
        out[i] = v
    return out


@kernel
def hazard_cap(
    total: FloatArray, rate: FloatArray, share: FloatArray, weighted: FloatArray,
    top_share: FloatArray,
) -> FloatArray:  # fmt: skip
    """Make ``total`` 12 x itself with each monthly probe hazard capped at 1; return it.

    ``total`` is ``rate @ weighted`` (changed in place). Reproduces, for each regulator ``r`` in
    order with ``top_share[r] * rate[r] > 1.0`` and its firms ``rows`` with ``share[r] * rate[r]
    > 1.0``, ``total[rows] -= (share[r, rows] * rate[r] - 1.0) * weighted[r, rows] / share[r,
    rows]``; then ``12.0 * total``, as ``expected_cost``.
    """
    n = total.shape[0]
    for r in range(rate.shape[0]):
        if top_share[r] * rate[r] > 1.0:
            for i in range(n):
                s = share[r, i]
                if s * rate[r] > 1.0:
                    total[i] = total[i] - (s * rate[r] - 1.0) * weighted[r, i] / s
    for i in range(n):
        total[i] = 12.0 * total[i]
    return total
