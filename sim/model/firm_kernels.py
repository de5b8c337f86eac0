"""Compiled loops of the firm rules (:mod:`sim.model.agents.firms`, :mod:`sim.model.agents.chips`).

Each does, element by element, the IEEE operations of the NumPy expression in its docstring, in
the same order (:mod:`sim.model.kernels`). A kernel writes its arrays into arrays the caller
gives it and returns numbers only: an array made in a kernel costs about a microsecond more to
hand back to Python than ``np.empty`` costs the caller (a month made eight).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import kernels, sum_kernels
from sim.model.kernels import kernel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@kernel
def budget_split(
    w: FloatArray, expected_cost: FloatArray, strikes: FloatArray, alignment: FloatArray,
    pressure: FloatArray, cash: FloatArray, freeze_until: IntArray, month: int, b0: float,
    b1: float, b3: float, cost_response: float, own_cost: float, self_reliance: float,
    expansion: float, cash_constraint: float,
) -> None:  # fmt: skip
    """Write the budget shares into ``w`` (shape (4, n)), as ``FirmPopulation.allocate_budget``.

    ``b0``, ``b1`` and ``b3`` are ``base[0]``, ``base[1]`` and ``base[3]`` of the base split
    (numbers, not a tuple: a tuple argument costs each call microseconds to type). Reproduces,
    with ``blocked = np.maximum(freeze_until[:, 1], freeze_until[:, 2]) > month``::

        w[0] = base[0] * (1.0 + cost_response * expected_cost / own_cost + strikes)
        w[1] = base[1] * (1.0 + self_reliance * alignment)
        w[2] = expansion * np.where(blocked, 0.1, 1.0)
        w[2] *= np.where(cash > 0.0, 1.0, cash_constraint)
        w[3] = base[3] * (1.0 + pressure)
        total = w[0] + w[1] + w[2] + w[3]
        w = np.where(total > 0, w / total, 0.25)
    """
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
        compliance[i] = kernels.clip01(c + (efficiency * effort[i] * (1.0 - c) - decay * c))


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
        alignment[i] = kernels.clip01(a + rate * (self_reliance - a))


@kernel
def growth_step(
    growth: FloatArray, deal_boost: FloatArray, expansion_share: FloatArray,
    freeze_until: IntArray, exposure: FloatArray, month: int, macro: float, base_expansion: float,
    expansion_growth: float, freeze_penalty: float, reversion: float, long_run: float,
    expansion_exposure: float, out: FloatArray,
) -> None:  # fmt: skip
    """Advance growth, deal boosts and antitrust exposure; write the revenue growth factor's base.

    The first half of ``FirmPopulation.grow``; the caller raises ``out`` to the power 1/12 in
    NumPy. Reproduces, with ``extra = expansion_share - base_expansion`` and ``blocked`` as in
    :func:`budget_split`::

        annual = growth + macro + expansion_growth * extra - freeze_penalty * blocked + deal_boost
        base = np.maximum(1.0 + annual, 0.05)                       # written into out
        growth += reversion * (long_run - growth)
        deal_boost *= 0.95
        exposure += expansion_exposure * extra                      # then clipped to [0, 1]
    """
    n = growth.shape[0]
    for i in range(n):
        extra = expansion_share[i] - base_expansion
        blocked = 1.0 if max(freeze_until[i, 1], freeze_until[i, 2]) > month else 0.0
        g = growth[i]
        annual = g + macro + expansion_growth * extra - freeze_penalty * blocked + deal_boost[i]
        out[i] = kernels.maximum(1.0 + annual, 0.05)
        growth[i] = g + reversion * (long_run - g)
        deal_boost[i] *= 0.95
    for i in range(n):
        extra = expansion_share[i] - base_expansion
        exposure[i] = kernels.clip01(exposure[i] + expansion_exposure * extra)


@kernel
def spend_step(
    revenue: FloatArray, rd_intensity: FloatArray, rd_share: FloatArray, margin: FloatArray,
    cash: FloatArray, budget_share: float, rd_spend: FloatArray,
) -> float:  # fmt: skip
    """Book operating cash flow into ``cash``; write R&D spend, as ``FirmPopulation.spend``.

    Reproduces ``monthly = revenue / 12.0``,
    ``rd_spend = monthly * (rd_intensity + budget_share * rd_share)`` (into ``rd_spend``) and
    ``cash += monthly * margin``; returns the change of ``np.add.reduce(cash)``, both
    sums taken a leaf of the pairwise sum at a time (:mod:`sim.model.sum_kernels`), the leaf's
    cash summed before and after it changes.
    """
    n = revenue.shape[0]
    args = (revenue, rd_intensity, rd_share, margin, cash, budget_share, rd_spend)
    bounds, ops = sum_kernels.pairwise_leaves(n)
    before, after = sum_kernels.combine(ops, spend_leaves(*args, bounds))
    return after - before


@kernel
def spend_leaves(
    revenue: FloatArray, rd_intensity: FloatArray, rd_share: FloatArray, margin: FloatArray,
    cash: FloatArray, budget_share: float, rd_spend: FloatArray, bounds: IntArray,
) -> FloatArray:  # fmt: skip
    """Do :func:`spend_step` on the leaves ``bounds``; return each one's cash sums before, after."""
    parts = np.empty((bounds.shape[0] - 1, 2))
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        parts[k, 0] = sum_kernels.leaf_sum(cash, lo, m)
        first = np.uint64(lo)  # the leaf's firms, by unsigned index (sim.model.kernels)
        for j in range(np.uint64(m)):
            i = first + j
            monthly = revenue[i] / 12.0
            rd_spend[i] = monthly * (rd_intensity[i] + budget_share * rd_share[i])
            cash[i] += monthly * margin[i]
        parts[k, 1] = sum_kernels.leaf_sum(cash, lo, m)
    return parts


@kernel
def chip_logit(
    intensity: FloatArray, rd_spend: FloatArray, alignment: FloatArray, taste: FloatArray,
    value_term: float, pull: float, self_reliance: float, units: FloatArray, neg_z: FloatArray,
) -> None:  # fmt: skip
    """Write units wanted and the negated logit, the first half of ``ChipMarket.demand``.

    Reproduces ``units = intensity * rd_spend`` and ``neg_z = -z`` with
    ``z = value_term + pull * (self_reliance * alignment - 0.25) + taste``; the caller takes
    ``np.exp(-z)`` in NumPy.
    """
    n = intensity.shape[0]
    # Two loops: each vectorizes (one loop over the six arrays does not).
    for i in range(n):
        units[i] = intensity[i] * rd_spend[i]
    for i in range(n):
        z = value_term + pull * (self_reliance * alignment[i] - 0.25)
        neg_z[i] = -(z + taste[i])


@kernel
def chip_orders(
    units: FloatArray, exp_neg_z: FloatArray, required: float, blocked: float,
    foreign: FloatArray, domestic: FloatArray,
) -> tuple[float, float]:  # fmt: skip
    """Write foreign units available and domestic units ordered, the rest of ``demand``.

    Reproduces ``q = np.maximum(1.0 / (1.0 + exp_neg_z), required)``,
    ``want_foreign = units * (1.0 - q)``, ``foreign = want_foreign * (1.0 - blocked)`` and
    ``domestic = units * q + want_foreign * blocked``; returns the sums (``np.add.reduce``) of
    ``units`` and of ``domestic``, as ``FirmPopulation.buy_compute`` reads them, a leaf of the
    pairwise sums at a time (:mod:`sim.model.sum_kernels`: the leaf is summed while it is in the
    CPU's first cache). ``foreign`` may be ``exp_neg_z`` itself (each element is read before it
    is written).
    """
    n = units.shape[0]
    args = (units, exp_neg_z, required, blocked, foreign, domestic)
    bounds, ops = sum_kernels.pairwise_leaves(n)
    total = sum_kernels.combine(ops, order_leaves(*args, bounds))
    return total[0], total[1]


@kernel
def order_leaves(
    units: FloatArray, exp_neg_z: FloatArray, required: float, blocked: float,
    foreign: FloatArray, domestic: FloatArray, bounds: IntArray,
) -> FloatArray:  # fmt: skip
    """Do :func:`chip_orders` on the leaves ``bounds``; return each one's two sums."""
    parts = np.empty((bounds.shape[0] - 1, 2))
    open_share = 1.0 - blocked
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        first = np.uint64(lo)  # the leaf's firms, by unsigned index (sim.model.kernels)
        for j in range(np.uint64(m)):
            i = first + j
            q = kernels.maximum(1.0 / (1.0 + exp_neg_z[i]), required)
            want_foreign = units[i] * (1.0 - q)
            foreign[i] = want_foreign * open_share
            domestic[i] = units[i] * q + want_foreign * blocked
        parts[k, 0] = sum_kernels.leaf_sum(units, lo, m)
        parts[k, 1] = sum_kernels.leaf_sum(domestic, lo, m)
    return parts


@kernel
def chip_purchase(
    demand: FloatArray, available: FloatArray, fill: float, required: float,
    compute_foreign: FloatArray, compute_domestic: FloatArray, cash: FloatArray, keep: float,
    price: float,
) -> tuple[float, float, float, float]:  # fmt: skip
    """Buy the served orders, the element-wise part of ``FirmPopulation.buy_compute``.

    Reproduces ``domestic = demand * fill``, ``foreign = np.minimum(available, domestic * (1.0 -
    required) / required)`` (``available`` when ``required`` is 0), and, in place,
    ``compute_foreign = compute_foreign * keep + foreign``, ``compute_domestic =
    compute_domestic * keep + domestic`` and ``cash -= (foreign + domestic) * price``.

    Returns:
        The sums (``np.add.reduce``) of ``foreign``, ``domestic``, ``demand - domestic`` and
        ``available - foreign``, computed a leaf of the pairwise sum at a time
        (:mod:`sim.model.sum_kernels`) without writing the arrays out. A leaf of the last two
        whose every element is zero (every buyer served) is not summed: its sum is a zero, and
        the sign of a zero added in the tree never changes a sum that starts from 0.0.
    """
    n = demand.shape[0]
    args = (demand, available, fill, required, compute_foreign, compute_domestic, cash, keep,
            price)  # fmt: skip
    bounds, ops = sum_kernels.pairwise_leaves(n)
    total = sum_kernels.combine(ops, purchase_leaves(*args, bounds))
    return total[0], total[1], total[2], total[3]


@kernel
def purchase_leaves(
    demand: FloatArray, available: FloatArray, fill: float, required: float,
    compute_foreign: FloatArray, compute_domestic: FloatArray, cash: FloatArray, keep: float,
    price: float, bounds: IntArray,
) -> FloatArray:  # fmt: skip
    """Do :func:`chip_purchase` on the leaves ``bounds``; return each one's four sums."""
    parts = np.empty((bounds.shape[0] - 1, 4))
    buf = np.empty((4, sum_kernels.LEAF))
    foreign, domestic, short_domestic, short_foreign = buf[0], buf[1], buf[2], buf[3]
    ratio = 1.0 - required
    limited = required > 0.0
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        first = np.uint64(lo)  # the leaf's firms, by unsigned index (sim.model.kernels)
        short_d, short_f = 0, 0  # elements not zero
        for j in range(np.uint64(m)):
            i = first + j
            d = demand[i] * fill
            a = available[i]
            f = kernels.minimum(a, d * ratio / required) if limited else a
            foreign[j] = f
            domestic[j] = d
            short_domestic[j] = sd = demand[i] - d
            short_foreign[j] = sf = a - f
            short_d += sd != 0.0
            short_f += sf != 0.0
            compute_foreign[i] = compute_foreign[i] * keep + f
            compute_domestic[i] = compute_domestic[i] * keep + d
            cash[i] -= (f + d) * price
        parts[k, 0] = sum_kernels.leaf_sum(foreign, 0, m)
        parts[k, 1] = sum_kernels.leaf_sum(domestic, 0, m)
        parts[k, 2] = sum_kernels.leaf_sum(short_domestic, 0, m) if short_d else 0.0
        parts[k, 3] = sum_kernels.leaf_sum(short_foreign, 0, m) if short_f else 0.0
    return parts


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
def pay_shares(
    cash: FloatArray, rows: IntArray, share: FloatArray, total: float, amount: float
) -> float:
    """Pay ``amount`` into the ``cash`` of firms ``rows`` by ``share``; return what was paid.

    Reproduces ``paid = amount * share / total``, ``cash[rows] += paid`` (``rows`` distinct)
    and ``np.add.reduce(paid)``.
    """
    paid = np.empty(rows.shape[0])
    for i in range(rows.shape[0]):
        paid[i] = amount * share[i] / total
        cash[rows[i]] += paid[i]
    return sum_kernels.pairwise_sum(paid)


@kernel
def stake_rows(
    draws: FloatArray, base: float, exposure: FloatArray, weight: float, memory: FloatArray,
    held: BoolArray, rows: IntArray,
) -> int:  # fmt: skip
    """Write the rows (of the first ``draws.shape[0]`` firms) where a golden share is taken.

    Reproduces ``np.flatnonzero((draws < base * exposure * (1.0 + weight * memory)) & ~held)``
    on the first ``draws.shape[0]`` elements of ``exposure``, ``memory`` and ``held``: written
    into the first elements of ``rows`` (as long as ``draws``); returns how many.
    """
    n = draws.shape[0]
    k = 0
    for i in range(n):
        if draws[i] < base * exposure[i] * (1.0 + weight * memory[i]) and not held[i]:
            rows[k] = i
            k += 1
    return k
