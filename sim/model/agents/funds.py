"""Investment funds: the golden-share fund, the chip fund, guidance funds and private investors.

* :class:`GoldenShareFund` (CIIF) takes ~1% stakes with board rights. The monthly chance of a stake
  in a named firm is ``stake_propensity * stringency * data_exposure * (1 + w * sanction_memory)``:
  control follows sanctions, so stakes spread as fines wind down. A stake raises alignment and
  compliance, ties the firm to the state and lowers investors' premium on it.
* :class:`ChipFund` (Big Fund) deploys a share of its undeployed capital each month; the cumulative
  investment I narrows the domestic chips' performance gap as ``gap0 * 0.5 ** (I / halving)``; half
  of each deployment is equity in the domestic chip makers.
* :class:`GuidanceFund` co-invests in city deals with aligned firms.
* :class:`Investors` (private and foreign) price every firm: their required premium rises with
  stringency x exposure, regulatory uncertainty, the firm's own sanctions, export controls x
  foreign-chip dependence and the firm's expected enforcement cost (from their belief about
  regulators' probe rates, which outside signals shake), and falls with global risk appetite and
  golden shares. Market value follows the premium through the valuation duration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.enforcement_risk import RegulatorRules, expected_cost
from sim.scenario.base import DOMAINS
from sim.scenario.schema import FundSpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

DATA = DOMAINS.index("data")


class Fund(mesa.Agent):
    """Common state of a fund.

    Args:
        model: The model.
        name: Fund name.
        spec: Its scenario specification.
    """

    model: PolicyModel

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model)
        self.name = name
        self.spec = spec
        self.capital_cny_bn = spec.capital_cny_bn
        self.deployed_cny_bn = 0.0
        #: New capital added and deployed money paid into firms' cash, since the start.
        self.added_cny_bn = 0.0
        self.paid_to_firms_cny_bn = 0.0

    def add_capital(self, amount_cny_bn: float) -> None:
        """Add new capital (e.g. a new fund phase)."""
        self.capital_cny_bn += amount_cny_bn
        self.added_cny_bn += amount_cny_bn

    def pay_firms(self, rows: int | np.ndarray, amounts: float | np.ndarray) -> None:
        """Pay deployed money into firms' cash (booked for the money-conservation check)."""
        self.model.firms.cash[rows] += amounts
        self.paid_to_firms_cny_bn += float(np.sum(amounts))

    def deploy(self, amount_cny_bn: float) -> float:
        """Take up to ``amount_cny_bn`` from undeployed capital; return what was deployed."""
        amount = min(max(amount_cny_bn, 0.0), self.capital_cny_bn)
        self.capital_cny_bn -= amount
        self.deployed_cny_bn += amount
        self.model.flows["fund_capital_deployed_cny_bn"] += amount
        return amount

    def take_stake(self, row: int) -> bool:
        """Take a golden share (a ~1% stake with board rights) in firm ``row``.

        Args:
            row: The firm's row.

        Returns:
            Whether a stake was taken (not when one is held already or capital is short).
        """
        m = self.model
        firms = m.firms
        cost = m.params.funds.stake_cost_cny_bn
        if firms.golden_share[row] or self.capital_cny_bn < cost:
            return False
        self.pay_firms(row, self.deploy(cost))
        firms.golden_share[row] = True
        fp = m.params.firms
        firms.alignment[row] += fp.golden_share_alignment * (1.0 - firms.alignment[row])
        firms.compliance[row] += fp.golden_share_compliance * (1.0 - firms.compliance[row])
        if row < firms.n_named:
            name = firms.names[row]
            m.influence.add_tie(name, self.name, 1.0)
            m.influence.add_tie(name, "center", 1.0)
        return True

    def step(self) -> None:
        """Do nothing by default."""


class GoldenShareFund(Fund):
    """The golden-share fund (CIIF)."""

    def step(self) -> None:
        """Consider a stake in each named firm that has none."""
        m = self.model
        firms = m.firms
        p = m.params.funds
        n = firms.n_named
        chance = (
            self.spec.stake_propensity
            * float(m.policy[0])
            * firms.exposure[:n, DATA]
            * (1.0 + p.stake_sanction_weight * firms.sanction_memory[:n])
        )
        draws = m.rng.random(n)
        for row in np.flatnonzero((draws < chance) & ~firms.golden_share[:n]):
            self.take_stake(int(row))


class ChipFund(Fund):
    """The national chip fund (Big Fund)."""

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        self.invested_cny_bn = 0.0

    def step(self) -> None:
        """Deploy capital into domestic chips: narrow the gap, build capacity, fund chip makers."""
        m = self.model
        amount = self.deploy(self.spec.deploy_rate * self.capital_cny_bn)
        self.invested_cny_bn += amount
        firms = m.firms
        makers = np.flatnonzero(firms.chip_maker)
        if makers.size and amount > 0:
            share = np.sqrt(firms.revenue0[makers])
            self.pay_firms(makers, 0.5 * amount * share / share.sum())
        cp = m.params.chips
        m.chips.performance_gap = cp.performance_gap * 0.5 ** (
            self.invested_cny_bn / cp.gap_halving_cny_bn
        )
        m.chips.fund_invested_cny_bn = self.invested_cny_bn


class GuidanceFund(Fund):
    """State and city guidance funds: co-investment in deals with aligned firms."""

    def co_invest(self, row: int, deal_cny_bn: float) -> float:
        """Co-invest in a deal with firm ``row`` when it is aligned enough.

        Args:
            row: The firm's row.
            deal_cny_bn: The deal's investment.

        Returns:
            The amount co-invested, billion CNY.
        """
        firms = self.model.firms
        if firms.alignment[row] < self.model.params.funds.guidance_alignment_min:
            return 0.0
        amount = self.deploy(self.spec.deploy_rate * deal_cny_bn)
        self.pay_firms(row, amount)
        return amount


class Investors(Fund):
    """Private and foreign investors, who set the premium and hence market values.

    Investors hold one named belief about enforcement: the number of probes each regulator opens
    a month (``perceived_rate``). It starts at the regulators' rates, moves toward the probes
    investors observe (``hazard_learning``) and jumps with outside shocks: a signal of strength
    ``s`` multiplies it by ``exp(-signal_weight * s)``, after which it follows what is observed
    again. With the regulators' rules (:mod:`sim.model.enforcement_risk`) the belief gives each
    firm's expected enforcement cost, which raises its required premium.
    """

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        rules = RegulatorRules.read(model.regulators, model.params)
        self.perceived_rate: np.ndarray = rules.rate.copy()
        self._opened = np.array([r.opened for r in model.regulators], dtype=float)

    def hear(self, strength: float) -> None:
        """Update the belief on an outside signal (negative: alarming, positive: supportive)."""
        self.perceived_rate *= np.exp(-self.model.params.valuation.signal_weight * strength)

    def observe(self) -> None:
        """Move the belief toward the probes opened this month."""
        opened = np.array([r.opened for r in self.model.regulators], dtype=float)
        learn = self.model.params.valuation.hazard_learning
        self.perceived_rate += learn * (opened - self._opened - self.perceived_rate)
        self._opened = opened

    def expected_cost(self) -> np.ndarray:
        """Return each firm's expected enforcement cost (share of revenue a year) as believed."""
        m = self.model
        return expected_cost(m.firms, m.regulators, m.params, self.perceived_rate)

    def step(self) -> None:
        """Update the belief, each firm's premium, and market values."""
        m = self.model
        firms = m.firms
        self.observe()
        firms.premium += m.params.valuation.adjust_speed * (self.target_premium() - firms.premium)
        firms.revalue(m.params.valuation.duration_years)

    def target_premium(self) -> np.ndarray:
        """Return the premium each firm would carry at this month's conditions."""
        m = self.model
        v = m.params.valuation
        firms = m.firms
        dependence = firms.foreign_share() * np.minimum(1.0, 5.0 * firms.rd_intensity)
        return np.asarray(
            v.premium_base
            + v.b_stringency * m.pressure
            + v.b_uncertainty * m.uncertainty
            + v.b_sanction * np.tanh(firms.sanction_memory)
            + v.b_export_control * m.chips.blocked_share * dependence
            + v.b_expected_cost * self.expected_cost()
            - v.b_risk_appetite * m.risk_appetite
            - v.b_golden_share * firms.golden_share,
            dtype=float,
        )
