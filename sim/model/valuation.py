"""A firm's value from expected cash flows, as investors compute it.

Investors value firm i at

    V_i = usd_per_cny * (cash_i + revenue_i * (m_i - k_i) * A(r_i - g))

* ``m_i`` is the expected margin investors price in: the share of revenue they expect the firm to
  turn into free cash flow over the horizon. It is not observed; it is solved at the start (and at
  a listing) so that the firm's value equals its recorded value (:func:`implied_margin`);
* ``k_i`` is the firm's expected enforcement cost, a share of revenue a year: the hazard of a probe
  (investors' belief), the chance it ends in a fine or a freeze, the fine (rate x domestic
  revenue) and the revenue lost while frozen (:mod:`sim.model.enforcement_risk`);
* ``A(s) = (1 - exp(-s H)) / s`` is the value of one unit of revenue a year growing at ``g`` and
  discounted at ``r`` over ``H`` years (``s = r - g``; ``A = H`` when ``s = 0``);
* ``cash_i`` is what the firm holds: a fine paid out of it lowers the value by its amount.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import value_kernels
from sim.model.kernels import contiguous

FloatArray = NDArray[np.float64]
_NONE = np.zeros(0, dtype=bool)

__all__ = ["annuity_factor", "firm_value_usd", "implied_margin"]


def annuity_factor(spread: FloatArray, horizon_years: float) -> FloatArray:
    """Return the present value of a unit cash flow a year over ``horizon_years``.

    Args:
        spread: Discount rate minus expected growth, per year (may be zero or negative).
        horizon_years: The valuation horizon, years.
    """
    # (1 - exp(-x)) / x * horizon with x = spread * horizon, horizon * (1 - x / 2) near 0;
    # NumPy's expm1 between two kernels (kernels: not compiled).
    spread = contiguous(spread)
    expm1 = value_kernels.annuity_exponent(spread, float(horizon_years))
    np.expm1(expm1, out=expm1)
    return value_kernels.annuity(expm1, spread, float(horizon_years))


def firm_value_usd(
    cash: FloatArray,
    revenue: FloatArray,
    margin: FloatArray,
    expected_cost: FloatArray,
    annuity: FloatArray,
    usd_per_cny: float,
) -> FloatArray:
    """Return each firm's value, billion US$ (cash plus discounted expected net cash flow).

    Args:
        cash: Cash, billion CNY.
        revenue: Annual revenue, billion CNY.
        margin: Expected margin investors price in.
        expected_cost: Expected enforcement cost, share of revenue a year.
        annuity: :func:`annuity_factor` at each firm's discount rate.
        usd_per_cny: Exchange rate.
    """
    # usd * (cash + revenue * (margin - cost) * annuity)
    return value_kernels.firm_values(
        contiguous(cash), contiguous(revenue), contiguous(margin), contiguous(expected_cost),
        contiguous(annuity), float(usd_per_cny), _NONE, False,
    )  # fmt: skip


def implied_margin(
    value_usd: FloatArray,
    cash: FloatArray,
    revenue: FloatArray,
    expected_cost: FloatArray,
    annuity: FloatArray,
    usd_per_cny: float,
) -> FloatArray:
    """Return the expected margin at which :func:`firm_value_usd` gives ``value_usd``.

    Args:
        value_usd: The value to reproduce, billion US$.
        cash: Cash, billion CNY.
        revenue: Annual revenue, billion CNY.
        expected_cost: Expected enforcement cost, share of revenue a year.
        annuity: :func:`annuity_factor` at each firm's discount rate.
        usd_per_cny: Exchange rate.
    """
    scale = np.asarray(revenue * annuity, dtype=float)
    excess = np.asarray(value_usd / usd_per_cny - cash, dtype=float)
    base = np.divide(excess, scale, out=np.zeros_like(excess), where=scale > 0.0)
    return np.asarray(base + expected_cost)
