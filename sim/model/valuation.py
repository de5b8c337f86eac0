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

FloatArray = NDArray[np.float64]

__all__ = ["annuity_factor", "firm_value_usd", "implied_margin"]


def annuity_factor(spread: FloatArray, horizon_years: float) -> FloatArray:
    """Return the present value of a unit cash flow a year over ``horizon_years``.

    Args:
        spread: Discount rate minus expected growth, per year (may be zero or negative).
        horizon_years: The valuation horizon, years.
    """
    x = np.asarray(spread, dtype=float) * horizon_years
    out = np.abs(x)
    small = out < 1e-9
    any_small = bool(small.any())
    if any_small:
        x = np.where(small, 1.0, x)
    np.negative(x, out=out)
    np.expm1(out, out=out)  # in place: one array for the whole factor
    out /= x
    out *= -horizon_years
    if any_small:
        out[small] = horizon_years * (1.0 - 0.5 * np.asarray(spread)[small] * horizon_years)
    return out


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
    # usd * (cash + revenue * (margin - cost) * annuity), in place in one array (IEEE addition
    # and multiplication commute, so the order of the operands leaves every bit as it was).
    value = np.subtract(margin, expected_cost)
    value *= revenue
    value *= annuity
    value += cash
    value *= usd_per_cny
    return value


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
