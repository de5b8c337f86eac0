"""Compiled loops of the start's fixed point: the expected sanctions and the rest compliance.

:func:`sim.model.initial_state.solve_rest` iterates these 24 times for every scenario it solves;
as NumPy expressions over a handful of firms they were mostly the cost of calling NumPy. Each
kernel does, element by element, the IEEE operations of the NumPy expression in its docstring,
in the same order (:mod:`sim.model.kernels`); ``tests/model/test_rest_kernels.py`` checks them
against those expressions bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.model import kernels, sum_kernels
from sim.model.agents.regulators import ORDER_PRESSURE, SIGNAL, STRIKES
from sim.model.kernels import kernel

if TYPE_CHECKING:
    from sim.scenario.params import EnforcementParams

FloatArray = NDArray[np.float64]

#: Firms per block of :func:`sanction_sums` (the block of the NumPy expression it reproduces).
BLOCK = 32_768


@kernel
def sanction_sums(
    weights: FloatArray, divisor: FloatArray, rate: FloatArray, stringency: FloatArray,
    strikes: FloatArray, compliance: FloatArray, domestic_share: FloatArray,
    p_freeze: FloatArray, p_fine: FloatArray, fine_share: FloatArray, constants: FloatArray,
    out: FloatArray,
) -> None:  # fmt: skip
    """Write each firm's expected strikes, compliance jump and signal a month into ``out``.

    Reproduces, for each block of :data:`BLOCK` firms, with ``s = stringency[:, None]`` and
    ``constants`` = (strike weight, full pressure, order pressure, the strikes of a freeze, a
    fine and an order, their compliance jumps, their signal weights)::

        hazard = np.minimum(weights / divisor[:, None] * rate[:, None], 1.0)
        z = (s + strike_weight * strikes) * (1.0 - compliance)
        zc = np.minimum(z / full_pressure, 1.0)
        freeze = np.minimum(p_freeze[:, None] * zc * s, 1.0)
        fine = np.minimum(p_fine[:, None] * zc, 1.0 - freeze)
        fine *= np.multiply.outer(fine_share > 0.0, domestic_share > 0.0)
        order = np.where(z > order_pressure, 1.0 - freeze - fine, 0.0)
        strikes = k_freeze * freeze + k_fine * fine + k_order * order
        jump = j_freeze * freeze + j_fine * fine + j_order * order
        signal = s * (g_freeze * freeze + g_fine * fine + g_order * order)
        out[:, block] = [(hazard * x).sum(axis=0) for x in (strikes, jump, signal)]
        out[1] = np.minimum(out[1], 1.0)

    NumPy's sum over the regulators adds them one after the other from 0.0, except for a block
    of one firm, which it sums pairwise (``sum_kernels.pairwise_sum``).
    """
    n_reg, n = weights.shape
    sw, full, order_at = constants[0], constants[1], constants[2]
    k_fz, k_fn, k_or = constants[3], constants[4], constants[5]
    j_fz, j_fn, j_or = constants[6], constants[7], constants[8]
    g_fz, g_fn, g_or = constants[9], constants[10], constants[11]
    terms = np.empty((3, n_reg))  # a block of one firm: its terms, summed pairwise
    for lo in range(0, n, BLOCK):
        m = min(BLOCK, n - lo)
        if m > 1:
            for i in range(lo, lo + m):
                out[0, i], out[1, i], out[2, i] = 0.0, 0.0, 0.0
        for r in range(n_reg):
            s, d, rt = stringency[r], divisor[r], rate[r]
            pf, pn, fined = p_freeze[r], p_fine[r], fine_share[r] > 0.0
            for i in range(lo, lo + m):
                hazard = kernels.minimum(weights[r, i] / d * rt, 1.0)
                z = (s + sw * strikes[i]) * (1.0 - compliance[i])
                zc = kernels.minimum(z / full, 1.0)
                freeze = kernels.minimum(pf * zc * s, 1.0)
                fine = kernels.minimum(pn * zc, 1.0 - freeze)
                fine *= 1.0 if (fined and domestic_share[i] > 0.0) else 0.0
                order = 1.0 - freeze - fine if z > order_at else 0.0
                a = hazard * (k_fz * freeze + k_fn * fine + k_or * order)
                b = hazard * (j_fz * freeze + j_fn * fine + j_or * order)
                c = hazard * (s * (g_fz * freeze + g_fn * fine + g_or * order))
                if m > 1:
                    out[0, i] += a
                    out[1, i] += b
                    out[2, i] += c
                else:
                    terms[0, r], terms[1, r], terms[2, r] = a, b, c
        if m == 1:
            for k in range(3):
                out[k, lo] = sum_kernels.pairwise_sum(terms[k])
    for i in range(n):
        out[1, i] = kernels.minimum(out[1, i], 1.0)


@kernel
def rest_compliance(
    effort: FloatArray, jump: FloatArray, efficiency: float, decay: float, out: FloatArray
) -> None:
    """Write the compliance at rest into ``out``.

    Reproduces::

        gain = efficiency * effort
        k = 1.0 - gain - decay
        numerator = gain + k * jump
        denominator = 1.0 - k * (1.0 - jump)
        rest = np.divide(numerator, denominator, out=np.zeros_like(gain),
                         where=denominator > 0.0)
        out[:] = np.clip(rest, 0.0, 1.0)

    ``np.clip`` takes a bound only for a value strictly beyond it (-0.0 stays -0.0) and keeps NaN.
    """
    for i in range(effort.shape[0]):
        gain = efficiency * effort[i]
        k = 1.0 - gain - decay
        numerator = gain + k * jump[i]
        denominator = 1.0 - k * (1.0 - jump[i])
        rest = numerator / denominator if denominator > 0.0 else 0.0
        rest = 0.0 if rest < 0.0 else rest
        out[i] = 1.0 if rest > 1.0 else rest


def sanction_constants(ep: EnforcementParams) -> FloatArray:
    """Return :func:`sanction_sums`' ``constants`` for the enforcement parameters ``ep``."""
    return np.array([
        ep.strike_weight, ep.full_pressure, ORDER_PRESSURE,
        STRIKES["freeze"], STRIKES["fine"], STRIKES["order"],
        ep.freeze_compliance_jump, ep.fine_compliance_jump, ep.order_compliance_jump,
        SIGNAL["freeze"], SIGNAL["fine"], SIGNAL["order"],
    ], dtype=float)  # fmt: skip
