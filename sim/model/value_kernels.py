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
IntArray = NDArray[np.int64]


@kernel
def targeting_weights(
    columns: FloatArray, weight: FloatArray, compliance: FloatArray, out: FloatArray,
    bounds: IntArray, ops: NDArray[np.int8],
) -> FloatArray:  # fmt: skip
    """Write each regulator's targeting weight on each firm into ``out``; return their sums.

    Reproduces ``out[...] = columns * (weight * (1.0 - compliance))`` (``columns`` and ``out`` of
    shape (R, n), ``out`` C-contiguous) and ``out.sum(axis=1)``, a leaf of the pairwise sums at a
    time (:mod:`sim.model.sum_kernels`: the leaf's weights are still in the CPU's first cache when
    they are added); ``bounds`` and ``ops`` are ``sum_kernels.pairwise_leaves(n)``, found once per
    number of firms by the caller.
    """
    n_reg, n = out.shape
    parts = np.empty((bounds.shape[0] - 1, n_reg))
    w = np.empty(sum_kernels.LEAF)
    flat = out.reshape(out.size)  # the rows one after the other (out is C-contiguous)
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        first, size = np.uint64(lo), np.uint64(m)  # by unsigned index (sim.model.kernels)
        for j in range(size):
            w[j] = weight[first + j] * (1.0 - compliance[first + j])
        for r in range(n_reg):
            for j in range(size):
                out[r, first + j] = columns[r, first + j] * w[j]
            parts[k, r] = sum_kernels.leaf_sum(flat, r * n + lo, m)
    return sum_kernels.combine(ops, parts)


@kernel
def enforcement_cost(
    weights: FloatArray, total: FloatArray, compliance: FloatArray, strikes: FloatArray,
    domestic_share: FloatArray, stringency: FloatArray, p_fine: FloatArray,
    fine_share: FloatArray, p_freeze: FloatArray, freeze_years: FloatArray, penalty: float,
    full_pressure: float, strike_weight: float, cost: FloatArray, largest: FloatArray,
    divisor: FloatArray,
) -> bool:  # fmt: skip
    """Write each regulator's expected cost per probe in ``cost``, from the targeting ``weights``.

    The element-wise part of :func:`sim.model.enforcement_risk.enforcement_exposure`, a block of
    firms at a time; ``total`` is ``weights.sum(axis=1)``. Reproduces, with
    ``divisor = np.where(total > 0.0, total, 1.0)``, ``fine = p_fine * fine_share`` and
    ``freeze = p_freeze * stringency * freeze_years`` then ``freeze *= penalty``, per regulator
    ``r`` (row) and firm::

        share = weights[r] / divisor[r]
        a = (1.0 - compliance) / full_pressure
        zc = np.minimum(stringency[r] * a + strike_weight * strikes * a, 1.0)
        cost[r] = zc * (fine[r] * domestic_share + freeze[r]) * share

    The shares are not written out (the caller divides them again when it needs them).

    Writes each row's largest share, ``(weights / divisor[:, None]).max(axis=1)``, in
    ``largest`` and the divisor in ``divisor`` (one entry per regulator each; given by the
    caller, so that no array is handed back), and returns whether every row has its largest
    share. The largest share is the row's largest weight divided (a division by a positive
    number keeps the order). A row with no share above 0, or whose ``total`` is not finite (it
    may hold NaN, and NumPy's maximum then decides which NaN, or which zero), has NaN instead:
    the caller takes NumPy's there.

    The largest weight is found by its bits, as an integer maximum: a float64 at or above +0.0
    orders as its bits do as an int64, and every value with the sign bit set (below 0, -0.0, a
    NaN so signed) has negative bits; so the largest bits (from -1, standing for none) are those
    of the largest value with the sign bit clear, a NaN so signed being above +inf.
    """
    n_reg, n = weights.shape
    for r in range(n_reg):
        divisor[r] = total[r] if total[r] > 0.0 else 1.0
    top = largest.view(np.int64)
    top[:] = -1
    bits = weights.view(np.int64)
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
            d, s_r, fine_r = divisor[r], stringency[r], p_fine[r] * fine_share[r]
            freeze_r = p_freeze[r] * stringency[r] * freeze_years[r] * penalty
            weights_r, cost_r = weights[r, lo : lo + m], cost[r, lo : lo + m]
            # The row's largest bits in the same loop: it waits on its divisions, and the
            # comparisons fill that wait (at 10,000 firms the pass took 30 us with a loop of
            # their own, 25 to 26 us so).
            bits_r, top_r = bits[r, lo : lo + m], top[r]
            for j in range(m):
                s = weights_r[j] / d
                zc = kernels.minimum(s_r * a[j] + b[j], 1.0)
                cost_r[j] = zc * (fine_r * domestic_b[j] + freeze_r) * s
                top_r = max(top_r, bits_r[j])
            top[r] = top_r
    exact = True
    for r in range(n_reg):
        largest[r] = largest[r] / divisor[r]
        if not (largest[r] > 0.0 and abs(total[r]) < np.inf):
            largest[r] = np.nan
            exact = False
    return exact


@kernel
def enforcement_pass(
    columns: FloatArray, weight: FloatArray, compliance: FloatArray, strikes: FloatArray,
    domestic_share: FloatArray, stringency: FloatArray, p_fine: FloatArray,
    fine_share: FloatArray, p_freeze: FloatArray, freeze_years: FloatArray, penalty: float,
    full_pressure: float, strike_weight: float, weights: FloatArray, cost: FloatArray,
    largest: FloatArray, divisor: FloatArray, bounds: IntArray, ops: NDArray[np.int8],
) -> bool:  # fmt: skip
    """Write the month's targeting weights in ``weights`` and costs per probe in ``cost``.

    :func:`targeting_weights` into ``weights`` (``bounds`` and ``ops`` as there), then
    :func:`enforcement_cost` on its sums (``largest`` and ``divisor`` as there), in one call:
    the same operations in the same order, and the same result.
    """
    total = targeting_weights(columns, weight, compliance, weights, bounds, ops)
    return enforcement_cost(
        weights, total, compliance, strikes, domestic_share, stringency, p_fine, fine_share,
        p_freeze, freeze_years, penalty, full_pressure, strike_weight, cost, largest, divisor,
    )  # fmt: skip


@kernel
def fade_memories(
    memory: FloatArray, memory_keep: float, strikes: FloatArray, strike_keep: float
) -> None:
    """Let the firms' sanction memory and strikes fade for a month, in place.

    Reproduces ``memory *= memory_keep`` and then ``strikes *= strike_keep``.
    """
    for i in range(memory.shape[0]):
        memory[i] = memory[i] * memory_keep
    for i in range(strikes.shape[0]):
        strikes[i] = strikes[i] * strike_keep


@kernel
def observe_rates(
    perceived: FloatArray, opened: FloatArray, before: FloatArray, learning: float
) -> None:
    """Move ``perceived`` toward the probes opened this month, as ``Investors.observe``.

    Reproduces ``perceived += learning * (opened - before - perceived)`` and then
    ``before[...] = opened`` (the counts to compare next month's with).
    """
    for r in range(perceived.shape[0]):
        perceived[r] += learning * (opened[r] - before[r] - perceived[r])
        before[r] = opened[r]


@kernel
def target_rate(
    common: float, b_golden: float, golden: bool, blocked: bool, export_weight: float,
    foreign: float, domestic: float, rd_intensity: float, listing_risk: float, listed: bool,
) -> float:  # fmt: skip
    """Return one firm's target discount rate (an element of :func:`target_rates`)."""
    rate = common - b_golden * (1.0 if golden else 0.0)
    if blocked:
        total = foreign + domestic
        share = foreign / total if total > 0.0 else 0.0
        rate = rate + export_weight * (share * kernels.minimum(1.0, 5.0 * rd_intensity))
    if listing_risk > 0.0:
        rate = rate + listing_risk * (1.0 if listed else 0.0)
    return rate


@kernel
def target_rates(
    common: float, golden_share: BoolArray, b_golden: float, foreign: FloatArray,
    domestic: FloatArray, rd_intensity: FloatArray, blocked: bool, export_weight: float,
    listed_abroad: BoolArray, listing_risk: float,
) -> FloatArray:  # fmt: skip
    """Return each firm's target discount rate, as ``Investors.target_discount_rate``.

    Reproduces (``export_weight`` the export-control weight times the blocked share; its term
    only when ``blocked``, the listing risk's only when it is positive)::

        rate = np.full(n, common)
        rate -= b_golden * golden_share
        total = foreign + domestic
        share = np.divide(foreign, total, out=np.zeros(n), where=total > 0)
        rate += export_weight * (share * np.minimum(1.0, 5.0 * rd_intensity))
        rate += listing_risk * listed_abroad
    """
    n = golden_share.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = target_rate(
            common, b_golden, golden_share[i], blocked, export_weight, foreign[i], domestic[i],
            rd_intensity[i], listing_risk, listed_abroad[i],
        )  # fmt: skip
    return out


@kernel
def move_rates(
    discount_rate: FloatArray, adjust: float, growth: float, horizon: float, out: FloatArray,
    common: float, golden_share: BoolArray, b_golden: float, foreign: FloatArray,
    domestic: FloatArray, rd_intensity: FloatArray, blocked: bool, export_weight: float,
    listed_abroad: BoolArray, listing_risk: float,
) -> None:  # fmt: skip
    """Move ``discount_rate`` toward its target in place; write the annuity exponent in ``out``.

    Reproduces, with ``rate = target_rates(...)`` (the same arguments),
    ``discount_rate += adjust * (rate - discount_rate)`` and then
    ``out[...] = annuity_exponent(discount_rate - growth, horizon)``. Returns nothing: an array
    handed back from a compiled function costs its caller more than one it already holds.
    """
    for i in range(discount_rate.shape[0]):
        rate = target_rate(
            common, b_golden, golden_share[i], blocked, export_weight, foreign[i], domestic[i],
            rd_intensity[i], listing_risk, listed_abroad[i],
        )  # fmt: skip
        d = discount_rate[i] + adjust * (rate - discount_rate[i])
        discount_rate[i] = d
        out[i] = exponent(d - growth, horizon)


@kernel
def exponent(spread: float, horizon: float) -> float:
    """Return one element of :func:`annuity_exponent`."""
    x = spread * horizon
    return -(1.0 if abs(x) < 1e-9 else x)


@kernel
def annuity_exponent(spread: FloatArray, horizon: float) -> FloatArray:
    """Return ``-x`` for the annuity factor's ``np.expm1(-x)``, as ``annuity_factor``.

    Reproduces ``x = spread * horizon``, with ``x = 1.0`` where ``np.abs(x) < 1e-9``.
    """
    n = spread.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = exponent(spread[i], horizon)
    return out


@kernel
def annuity_at(expm1: float, spread: float, horizon: float) -> float:
    """Return one element of :func:`annuity`."""
    x = spread * horizon
    if abs(x) < 1e-9:
        return horizon * (1.0 - 0.5 * spread * horizon)
    return expm1 / x * -horizon


@kernel
def annuity(expm1: FloatArray, spread: FloatArray, horizon: float) -> FloatArray:
    """Return the annuity factor from ``expm1 = np.expm1(annuity_exponent(spread, horizon))``.

    Reproduces ``expm1 / x * -horizon`` and, where ``np.abs(x) < 1e-9`` (``x = spread *
    horizon``), ``horizon * (1.0 - 0.5 * spread * horizon)``.
    """
    n = spread.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = annuity_at(expm1[i], spread[i], horizon)
    return out


@kernel
def firm_value(
    cash: float, revenue: float, margin: float, expected_cost: float, annuity: float,
    usd_per_cny: float, valued: bool, limited: bool,
) -> float:  # fmt: skip
    """Return one element of :func:`firm_values`."""
    v = (margin - expected_cost) * revenue * annuity
    v = (v + cash) * usd_per_cny
    if limited:
        v = kernels.maximum(v, 0.0) if valued else 0.0
    return v


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
        out[i] = firm_value(
            cash[i], revenue[i], margin[i], expected_cost[i], annuity[i], usd_per_cny,
            valued[i], limited,
        )  # fmt: skip
    return out


@kernel
def annuity_values(
    expm1: FloatArray, discount_rate: FloatArray, growth: float, horizon: float,
    cash: FloatArray, revenue: FloatArray, margin: FloatArray, expected_cost: FloatArray,
    usd_per_cny: float, valued: BoolArray, annuity_out: FloatArray, value_out: FloatArray,
) -> None:  # fmt: skip
    """Write each firm's annuity factor and its value (limited), as ``Investors.step``.

    Reproduces, with ``spread = discount_rate - growth`` and ``expm1`` from
    :func:`move_rates`, ``annuity_out[...] = annuity(expm1, spread, horizon)`` and then
    ``value_out[...] = firm_values(cash, revenue, margin, expected_cost, annuity_out,
    usd_per_cny, valued, True)``. ``annuity_out`` may be ``expm1`` itself (each element is read
    before it is written).
    """
    for i in range(discount_rate.shape[0]):
        a = annuity_at(expm1[i], discount_rate[i] - growth, horizon)
        annuity_out[i] = a
        value_out[i] = firm_value(
            cash[i], revenue[i], margin[i], expected_cost[i], a, usd_per_cny, valued[i], True
        )


@kernel
def hazard_cap(
    total: FloatArray, rate: FloatArray, weights: FloatArray, divisor: FloatArray,
    weighted: FloatArray, top_share: FloatArray,
) -> None:  # fmt: skip
    """Make ``total`` 12 x itself with each monthly probe hazard capped at 1, in place.

    ``total`` is ``rate @ weighted`` (changed in place); the shares are ``share = weights /
    divisor[:, None]``, divided here where they are read. Reproduces, for each regulator ``r``
    in order with ``top_share[r] * rate[r] > 1.0`` and its firms ``rows`` with ``share[r] *
    rate[r] > 1.0``, ``total[rows] -= (share[r, rows] * rate[r] - 1.0) * weighted[r, rows] /
    share[r, rows]``; then ``12.0 * total``, as ``expected_cost``.
    """
    n = total.shape[0]
    for r in range(rate.shape[0]):
        if top_share[r] * rate[r] > 1.0:
            for i in range(n):
                s = weights[r, i] / divisor[r]
                if s * rate[r] > 1.0:
                    total[i] = total[i] - (s * rate[r] - 1.0) * weighted[r, i] / s
    for i in range(n):
        total[i] = 12.0 * total[i]
