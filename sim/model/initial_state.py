"""The state at the start, solved so that the month's rules hold it at rest.

With no events, the firms' rules leave the solved quantities where they start (docs/ODD.md,
"Initialisation"):

* **compliance** is the level each firm's compliance effort sustains, where the month's gain
  ``compliance_efficiency * effort * (1 - c)`` equals its erosion ``compliance_decay * c``. Effort
  answers to the expected cost of enforcement, which falls as compliance rises, so the level is
  found as a fixed point;
* **compute purchases** hold each firm's recorded compute stock and its foreign share: its compute
  intensity (units bought per billion CNY of R&D) is solved so that purchases replace depreciation
  and keep pace with its revenue growth, and its taste for domestic chips so that the domestic
  share of its purchases is the domestic share of its stock.

Investors' expected margins are solved afterwards, from this state
(:meth:`sim.model.agents.funds.Investors.calibrate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.enforcement_risk import enforcement_exposure

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

__all__ = ["solve_rest"]

FIXED_POINT_ROUNDS = 30
SHARE_BOUND = 1e-6


def solve_rest(model: PolicyModel) -> None:
    """Set compliance, compute intensity and chip taste so that the start is at rest.

    Args:
        model: A model whose pre-start events have been applied and whose policy and pressure
            are read.
    """
    f = model.firms
    fp = model.params.firms
    support, self_reliance = 1.0 - float(model.policy[0]), float(model.policy[1])
    for _ in range(FIXED_POINT_ROUNDS):
        cost = enforcement_exposure(f, model.regulators, model.params).expected_cost()
        effort = f.allocate_budget(model.pressure, cost, support, self_reliance, 0, fp)[:, 0]
        gain = fp.compliance_efficiency * effort
        total = gain + fp.compliance_decay
        np.divide(gain, total, out=f.compliance, where=total > 0.0)
    _solve_compute(model)


def _solve_compute(model: PolicyModel) -> None:
    """Solve each firm's compute intensity and chip taste for its recorded stock and share."""
    f = model.firms
    cp = model.params.chips
    rd = f.revenue / 12.0 * (f.rd_intensity + model.params.firms.budget_share * f.split[:, 1])
    monthly_growth = np.power(np.maximum(1.0 + f.growth, 0.05), 1.0 / 12.0) - 1.0
    needed = f.compute_total() * np.maximum(cp.depreciation + monthly_growth, 0.0)
    np.divide(needed, rd, out=f.compute_intensity, where=rd > 0.0)
    f.chip_taste[:] = 0.0
    market = model.chips
    units, _, domestic = market.demand(rd, f.alignment, cp, f.compute_intensity, f.chip_taste)
    share_now = np.divide(domestic, units, out=np.full(f.n, 0.5), where=units > 0.0)
    wanted = np.clip(1.0 - f.foreign_share(), SHARE_BOUND, 1.0 - SHARE_BOUND)
    share_now = np.clip(share_now, SHARE_BOUND, 1.0 - SHARE_BOUND)
    f.chip_taste[:] = _logit(wanted) - _logit(share_now)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p / (1.0 - p)))
