"""The state at the start, solved so that the month's rules hold it at rest.

With no events, the rules leave the solved quantities where they start, in expectation (docs/ODD.md,
"Initialisation"). Solved together, as one fixed point:

* **compliance** is the level each firm's compliance effort and its expected sanctions sustain:
  the month's gain ``compliance_efficiency * effort * (1 - c)`` plus the compliance jumps of the
  sanctions it can expect at the base rate equal its erosion ``compliance_decay * c``. Effort
  answers to the expected cost of enforcement, which falls as compliance rises;
* **strikes** and each firm's **sanction memory** are the levels their expected monthly inflow
  (the regulators' base-rate probes x the pyramid's outcome probabilities, :func:`sanction_rates`)
  holds against their decay;
* **engagement ties** (the centre and the regulators listening to a named firm) are the level the
  firm's engagement effort holds against ``tie_decay``, and every stakeholder's **position** is the
  Friedkin-Johnsen fixed point of the month's update with those ties: the recorded positions are
  the anchors. The effective policy is read from these positions;
* each **regulator's** stringency is where its rule holds it, the effective policy of its
  dimension plus its mandate (:func:`_solve_regulators`).

Then:

* the **market's sanction memory** is the level the expected monthly sanction weight holds
  (:meth:`sim.model.uncertainty.Uncertainty.settle`), and the uncertainty starts there;
* **compute purchases** hold each firm's recorded compute stock and its foreign share: its compute
  intensity (units bought per billion CNY of R&D) is solved so that purchases replace depreciation
  and keep pace with its revenue growth, and its taste for domestic chips so that the domestic
  share of its purchases is the domestic share of its stock.

No investigation is open at the start: cases close from the shortest investigation's length on,
so the first months close fewer cases than the steady rate (docs/ODD.md, section 5).

Investors' expected margins are solved afterwards, from this state
(:meth:`sim.model.agents.funds.Investors.calibrate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.model import rest_kernels, start_cache
from sim.model.enforcement_risk import (
    EnforcementExposure,
    enforcement_exposure,
    regulatory_pressure,
)

if TYPE_CHECKING:
    from sim.model.agents.firms import FirmPopulation
    from sim.model.influence import InfluenceNetwork
    from sim.model.policy_model import PolicyModel
    from sim.scenario.params import Params

__all__ = ["SanctionRates", "rest_positions", "sanction_rates", "solve_rest"]

FloatArray = NDArray[np.float64]
FIXED_POINT_ROUNDS = 24
#: Rounds that take the map's value whole before the steps shrink.
DIRECT_ROUNDS = 8
TOLERANCE = 1e-12
SHARE_BOUND = 1e-6


@dataclass(frozen=True)
class SanctionRates:
    """Expected sanctions a month on each firm at the current state (the regulators' base rate).

    Attributes:
        strikes: Strikes added a month.
        compliance_jump: Share of the compliance gap the month's sanctions close.
        signal: Sanction signal weight added a month (the firm's and the market's memory).
    """

    strikes: FloatArray
    compliance_jump: FloatArray
    signal: FloatArray


def sanction_rates(
    exposure: EnforcementExposure, firms: FirmPopulation, params: Params
) -> SanctionRates:
    """Return each firm's expected sanctions a month, as the regulators' rules make them.

    A regulator opens ``rate`` probes a month; firm i draws one with probability ``share_i *
    rate`` (at most 1). A probe ends by the pyramid (``Regulator.sanction``): a freeze with
    probability ``p_freeze * zc * s``, else a fine with ``p_fine * zc`` (when the fine would be more
    than nothing), else an order when ``z > 0.15``, else a warning. In steady state cases close
    at the rate they open.

    Args:
        exposure: This state's enforcement exposure (:func:`enforcement_exposure`).
        firms: The firms.
        params: Behavioural parameters.
    """
    rules = exposure.rules
    out = np.empty((3, firms.n))
    rest_kernels.sanction_sums(
        exposure.weights, exposure.divisor, rules.rate, rules.stringency, firms.strikes,
        firms.compliance, firms.domestic_share, rules.p_freeze, rules.p_fine, rules.fine_share,
        rest_kernels.sanction_constants(params.enforcement), out,
    )  # fmt: skip
    return SanctionRates(out[0], out[1], out[2])


def rest_positions(net: InfluenceNetwork) -> FloatArray:
    """Return the positions the month's Friedkin-Johnsen update leaves where they are.

    The centre (row 0) keeps its position; every other row solves ``x = λ W x + (1 - λ) x̄`` with
    the current weights ``W`` and anchors ``x̄``.

    Args:
        net: The influence network.
    """
    w = net.weights()
    lam = net.susceptibility[1:, None]
    centre = net.position[0]
    lhs = np.eye(len(w) - 1) - lam * w[1:, 1:]
    rhs = lam * np.outer(w[1:, 0], centre) + (1.0 - lam) * net.anchor[1:]
    position = np.empty_like(net.position)
    position[0] = centre
    position[1:] = np.linalg.solve(lhs, rhs)
    return np.asarray(np.clip(position, 0.0, 1.0), dtype=float)


def solve_rest(model: PolicyModel) -> None:
    """Set the start so that, with no events, the rules hold it at rest in expectation.

    A scenario's start is solved once in a process when it draws nothing from the seed (see
    :mod:`sim.model.start_cache`): later runs of it write the same solution.

    Compliance and strikes are iterated to their fixed point; after ``DIRECT_ROUNDS`` rounds each
    round moves them by a falling share of the way (``1/2, 1/3, ...``), because the pyramid's order
    threshold makes the map jump: a firm whose pressure sits on the threshold is solved to it.

    Args:
        model: A model whose pre-start events have been applied and whose policy and pressure
            are read.
    """
    start_cache.solve_once(model, _solve_rest)


def _solve_rest(model: PolicyModel) -> None:
    """Solve the start (:func:`solve_rest`), always."""
    f = model.firms
    fp = model.params.firms
    ep = model.params.enforcement
    keep = 0.5 ** (1.0 / model.params.valuation.sanction_halflife)
    _solve_regulators(model)
    for k in range(FIXED_POINT_ROUNDS):
        exposure = enforcement_exposure(f, model.regulators, model.params)
        cost = exposure.expected_cost()
        support, self_reliance = 1.0 - float(model.policy[0]), float(model.policy[1])
        effort = f.allocate_budget(model.pressure, cost, support, self_reliance, 0, fp)[:, 0]
        rates = sanction_rates(exposure, f, model.params)
        # Strikes are added, then decay, each month: K = (1 - d) (K + J).
        decay = ep.strike_decay
        strikes = (1.0 - decay) * rates.strikes / decay if decay > 0.0 else f.strikes
        compliance = _rest_compliance(effort, rates.compliance_jump, model.params)
        change = max(np.abs(strikes - f.strikes).max(), np.abs(compliance - f.compliance).max())
        step = 1.0 if k < DIRECT_ROUNDS else 1.0 / (k - DIRECT_ROUNDS + 2)
        f.strikes += step * (strikes - f.strikes)
        f.compliance += step * (compliance - f.compliance)
        if k < DIRECT_ROUNDS:
            _solve_influence(model)
            _solve_regulators(model)
        if change < TOLERANCE:
            break
    _solve_influence(model)
    _solve_regulators(model)
    # The budget split of the solved state (compute purchases follow its R&D share).
    cost = enforcement_exposure(f, model.regulators, model.params).expected_cost()
    support, self_reliance = 1.0 - float(model.policy[0]), float(model.policy[1])
    f.allocate_budget(model.pressure, cost, support, self_reliance, 0, fp)
    f.sanction_memory[:] = keep * rates.signal / (1.0 - keep)
    size = np.sqrt(np.maximum(f.revenue, 0.0) / model._max_named_revenue)
    model.uncertainty = model._uncertainty.settle(
        float(rates.signal @ size), model.params.valuation
    )
    _solve_compute(model)


def _rest_compliance(effort: FloatArray, jump: FloatArray, params: Params) -> FloatArray:
    """Return the compliance where a month's sanction jumps, gain and erosion balance.

    A month moves compliance by the sanctions' jumps, ``c1 = c + a (1 - c)``, then by effort and
    erosion, ``c2 = c1 + g (1 - c1) - δ c1`` with ``g = compliance_efficiency * effort``. The rest
    level solves ``c2 = c``: ``c = (g + k a) / (1 - k (1 - a))``, ``k = 1 - g - δ``.
    """
    fp = params.firms
    rest = np.empty(effort.shape[0])
    rest_kernels.rest_compliance(
        effort, jump, float(fp.compliance_efficiency), float(fp.compliance_decay), rest
    )
    return rest


def _solve_influence(model: PolicyModel) -> None:
    """Set the engagement ties their effort sustains, the positions at rest, and the policy.

    Each month a named firm's engagement adds ``e = engagement_tie * engagement share`` to the
    centre's and the regulators' ties to it, and ties then decay by ``tie_decay``: they rest at
    ``e / tie_decay`` (with no decay they grow without end and start at none). Cities' anchors
    are the ones their lobbying sets at the start's growth gap.
    """
    ip = model.params.influence
    net = model.influence
    f = model.firms
    for city in model.cities:
        city.lobby()
    if ip.tie_decay > 0.0:
        effort = ip.engagement_tie * f.split[: f.n_named, 3]
        net.ties[np.ix_(model._state_rows, model._firm_cols)] = effort[None, :] / ip.tie_decay
    net.position = rest_positions(net)
    model.policy = net.effective_policy()
    model._last_policy = model.policy.copy()
    model.chips.self_reliance = float(model.policy[1])


def _solve_regulators(model: PolicyModel) -> None:
    """Start each regulator at the stringency its rule holds: ``policy[dimension] + mandate``.

    The regulatory pressure on each firm is read again at these stringencies.
    """
    for r in model.regulators:
        target = float(model.policy[r.dimension]) + r.spec.mandate
        r.stringency = min(max(target, 0.0), 1.0)
    model.pressure = regulatory_pressure(model.firms, model.regulators)


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
    units, _, domestic, _, _ = market.demand(rd, f.alignment, cp, f.compute_intensity, f.chip_taste)
    share_now = np.divide(domestic, units, out=np.full(f.n, 0.5), where=units > 0.0)
    wanted = np.clip(1.0 - f.foreign_share(), SHARE_BOUND, 1.0 - SHARE_BOUND)
    share_now = np.clip(share_now, SHARE_BOUND, 1.0 - SHARE_BOUND)
    f.chip_taste[:] = _logit(wanted) - _logit(share_now)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p / (1.0 - p)))
