"""Compiled loops of the expected-cost pass and of the investors' valuation.

The pass is :mod:`sim.model.enforcement_risk`; the valuation, :mod:`sim.model.valuation`.

Each does, element by element, the IEEE operations of the NumPy expression in its docstring, in
the same order (:mod:`sim.model.kernels`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import kernels
from sim.model.kernels import BLOCK, kernel

FloatArray = NDArray[np.float64]


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
                zc = kernels.minimum(s_r * a[j] + b[j], 1.0)
                cost_r[j] = zc * (fine_r * domestic_b[j] + freeze_r) * s
    return cost
