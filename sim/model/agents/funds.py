"""Investment funds: the golden-share fund, the chip fund, guidance funds and private investors.

* :class:`GoldenShareFund` (CIIF) takes ~1% stakes with board rights. The monthly chance of a stake
  in a named firm is ``stake_propensity * stringency * data_exposure * (1 + w * sanction_memory)``:
  control follows sanctions, so stakes spread as fines wind down. A stake raises alignment and
  compliance, ties the firm to the state and lowers the discount rate investors apply to it.
* :class:`ChipFund` (Big Fund) deploys a share of its undeployed capital each month; the cumulative
  investment I narrows the domestic chips' performance gap as ``gap0 * 0.5 ** (I / halving)``; half
  of each deployment is equity in the domestic chip makers.
* :class:`GuidanceFund` co-invests in city deals with aligned firms.
* :class:`Investors` (private and foreign) value every firm from expected cash flows net of
  expected enforcement costs, discounted at a rate that rises with regulatory uncertainty
  (:mod:`sim.model.valuation`); outside shocks act on their named beliefs, the perceived probe
  hazard and the foreign-listing risk.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

import mesa
import numpy as np

from sim.model import firm_kernels, value_kernels
from sim.model.enforcement_risk import RegulatorRules
from sim.model.valuation import annuity_factor, implied_margin
from sim.scenario.base import DOMAINS
from sim.scenario.schema import FundSpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

DATA = DOMAINS.index("data")
#: A regulator's count of probes opened so far.
_OPENED = attrgetter("opened")


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

    def pay_firms(
        self,
        rows: int | np.ndarray,
        amounts: float | np.ndarray,
        weights: tuple[np.ndarray, float] | None = None,
    ) -> None:
        """Pay deployed money into firms' cash (booked for the money-conservation check).

        Args:
            rows: The firms' rows (distinct).
            amounts: What each is paid; with ``weights``, what is shared among them.
            weights: The rows' weights and their sum: firm ``rows[i]`` is then paid
                ``amounts * weights[0][i] / weights[1]``.
        """
        if weights is not None:  # cash[rows] += amounts * weight / total, and np.sum of that
            paid = firm_kernels.pay_shares(
                self.model.firms.cash, cast("np.ndarray", rows), *weights, cast(float, amounts)
            )
            self.paid_to_firms_cny_bn += paid
            return
        self.model.firms.cash[rows] += amounts
        # np.sum of one number is that number: summed only when there are many.
        if isinstance(amounts, float):
            paid = float(amounts)
        else:  # an array's own sum is np.sum's, without its dispatch
            paid = float(amounts.sum() if isinstance(amounts, np.ndarray) else np.sum(amounts))
        self.paid_to_firms_cny_bn += paid

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

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        # A run's parameters and the (frozen) specification never change: the numbers a month
        # reads are read once (a field of a schema model is a slower read than an attribute).
        self._propensity = spec.stake_propensity
        self._sanction_weight = float(model.params.funds.stake_sanction_weight)

    def step(self) -> None:
        """Consider a stake in each named firm that has none."""
        m = self.model
        firms = m.firms
        base = self._propensity * float(m.policy[0])
        draws = m.rng.random(firms.n_named)
        # draw < base * exposure[data] * (1 + weight * sanction_memory) and no stake held, for
        # the named firms: all read before any stake is taken.
        rows = np.empty(draws.shape[0], dtype=np.int64)
        k = firm_kernels.stake_rows(
            draws, base, firms.exposure[:, DATA], self._sanction_weight,
            firms.sanction_memory, firms.golden_share, rows,
        )  # fmt: skip
        if k:  # most months none
            for row in rows[:k].tolist():
                self.take_stake(row)


class ChipFund(Fund):
    """The national chip fund (Big Fund)."""

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        self.invested_cny_bn = 0.0
        # The numbers a month reads, read once (as GoldenShareFund's).
        self._deploy_rate = spec.deploy_rate
        self._gap = (model.params.chips.performance_gap, model.params.chips.gap_halving_cny_bn)

    def step(self) -> None:
        """Deploy capital into domestic chips: narrow the gap, build capacity, fund chip makers."""
        m = self.model
        amount = self.deploy(self._deploy_rate * self.capital_cny_bn)
        self.invested_cny_bn += amount
        makers, share, total = m.firms.chip_makers()
        if makers.size and amount > 0:
            self.pay_firms(makers, 0.5 * amount, (share, total))
        gap, halving = self._gap
        m.chips.performance_gap = gap * 0.5 ** (self.invested_cny_bn / halving)
        m.chips.fund_invested_cny_bn = self.invested_cny_bn


class GuidanceFund(Fund):
    """State and city guidance funds: co-investment in deals with aligned firms."""

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        # The numbers a deal reads, read once (as GoldenShareFund's).
        self._alignment_min = model.params.funds.guidance_alignment_min
        self._deploy_rate = spec.deploy_rate

    def co_invest(self, row: int, deal_cny_bn: float) -> float:
        """Co-invest in a deal with firm ``row`` when it is aligned enough.

        Args:
            row: The firm's row.
            deal_cny_bn: The deal's investment.

        Returns:
            The amount co-invested, billion CNY.
        """
        firms = self.model.firms
        if firms.alignment[row] < self._alignment_min:
            return 0.0
        amount = self.deploy(self._deploy_rate * deal_cny_bn)
        self.pay_firms(row, amount)
        return amount


class Investors(Fund):
    """Private and foreign investors, who value every firm from expected cash flows.

    Investors hold two named beliefs:

    * the perceived probe hazard: how many probes each regulator opens a month
      (``perceived_rate``). It starts at the regulators' rates, moves toward the probes investors
      observe (``hazard_learning``) and jumps with outside signals on it: a signal of strength
      ``s`` multiplies it by ``exp(-signal_weight * s)``, after which it follows what is observed
      again. With the regulators' rules (:mod:`sim.model.enforcement_risk`) it gives each firm's
      expected enforcement cost;
    * the foreign-listing risk (``foreign_listing_risk``): the yearly share of value investors
      expect a firm listed abroad to lose to a forced delisting, added to its discount rate. A
      delisting threat raises it by ``foreign_listing_jump`` per unit of (negative) strength; it
      decays with ``foreign_listing_halflife`` while nothing more happens.

    Each firm's discount rate moves toward its target (``adjust_speed``): the base rate, plus
    regulatory uncertainty, export controls x foreign-chip dependence and the foreign-listing
    risk, less global risk appetite and a golden share's assurance. Values follow
    :mod:`sim.model.valuation`; each firm's expected margin is solved at the start so that its
    value is its recorded value.
    """

    def __init__(self, model: PolicyModel, *, name: str, spec: FundSpec) -> None:
        super().__init__(model, name=name, spec=spec)
        rules = RegulatorRules.read(model.regulators, model.params)
        self.perceived_rate: np.ndarray = rules.rate.copy()
        self.foreign_listing_risk = 0.0
        #: Regulatory uncertainty at the start, which the base discount rate already prices.
        self.uncertainty0 = 0.0
        self._opened = np.fromiter(map(_OPENED, model.regulators), float, len(model.regulators))
        self._annuity = np.zeros(model.firms.n)
        self._cost = np.zeros(model.firms.n)
        #: A month's annuity exponents (read only within :meth:`step`).
        self._exponent = np.zeros(model.firms.n)
        #: Firms investors value: those with a recorded value (Huawei, employee-owned, has none).
        self.valued = model.firms.market_value > 0.0
        # The valuation's numbers a month reads (the parameters never change in a run).
        v = model.params.valuation
        self._learning = float(v.hazard_learning)
        self._listing_keep = 0.5 ** (1.0 / v.foreign_listing_halflife)
        self._step_numbers = (
            float(v.adjust_speed), float(model.params.firms.long_run_growth),
            float(v.horizon_years),
        )  # fmt: skip
        self._usd_per_cny = float(v.usd_per_cny)
        self._rate_numbers = (
            v.discount_rate, v.b_uncertainty, v.b_risk_appetite, float(v.b_golden_share),
            v.b_export_control,
        )  # fmt: skip

    def hear(self, strength: float, belief: str = "probe_hazard") -> None:
        """Update a belief on an outside signal (negative: alarming, positive: supportive).

        Args:
            strength: The signal's strength in [-1, 1].
            belief: ``probe_hazard`` or ``foreign_listing``.
        """
        v = self.model.params.valuation
        if belief == "foreign_listing":
            risk = self.foreign_listing_risk - v.foreign_listing_jump * strength
            self.foreign_listing_risk = max(risk, 0.0)
        else:
            self.perceived_rate *= np.exp(-v.signal_weight * strength)

    def observe(self) -> None:
        """Move the beliefs toward what was observed this month."""
        regulators = self.model.regulators
        # perceived_rate += hazard_learning * (opened - opened before - perceived_rate)
        opened = np.fromiter(map(_OPENED, regulators), float, len(regulators))
        value_kernels.observe_rates(self.perceived_rate, opened, self._opened, self._learning)
        # *= 0.5 ** (1.0 / foreign_listing_halflife)
        self.foreign_listing_risk *= self._listing_keep

    def expected_cost(self) -> np.ndarray:
        """Return each firm's expected enforcement cost (share of revenue a year) as believed."""
        return self.model.enforcement.expected_cost(self.perceived_rate)

    def target_discount_rate(self) -> np.ndarray:
        """Return the discount rate each firm would carry at this month's conditions."""
        return value_kernels.target_rates(*self._target_args())

    def _target_args(self) -> tuple[Any, ...]:
        """Return the arguments of the target rates' kernel (``value_kernels.target_rates``)."""
        m = self.model
        base, b_uncertainty, b_risk_appetite, b_golden_share, b_export = self._rate_numbers
        firms = m.firms
        common = base + b_uncertainty * (m.uncertainty - self.uncertainty0)
        common -= b_risk_appetite * m.risk_appetite
        # common - golden share's assurance + export controls x dependence on foreign chips
        # (when any are blocked) + the foreign-listing risk of firms listed abroad.
        blocked = m.chips.blocked_share
        return (
            float(common), firms.golden_share, b_golden_share, firms.compute_foreign,
            firms.compute_domestic, firms.rd_intensity, bool(blocked > 0.0),
            float(b_export * blocked), firms.listed_abroad,
            float(self.foreign_listing_risk),
        )  # fmt: skip

    def _price(self) -> None:
        """Compute this month's expected costs and annuity factors."""
        m = self.model
        self._cost = self.expected_cost()
        spread = m.firms.discount_rate - m.params.firms.long_run_growth
        self._annuity = annuity_factor(spread, m.params.valuation.horizon_years)

    def calibrate(self) -> None:
        """Set discount rates at their targets and solve each firm's expected margin.

        Each firm is then worth its recorded value, and the start is at rest.
        """
        firms = self.model.firms
        self.perceived_rate = RegulatorRules.read(self.model.regulators, self.model.params).rate
        self.uncertainty0 = self.model.uncertainty
        firms.discount_rate = self.target_discount_rate()
        self._price()
        self.rebase(np.arange(firms.n), firms.market_value)

    def rebase(self, rows: np.ndarray | int, value_usd_bn: np.ndarray | float) -> None:
        """Make firms ``rows`` worth ``value_usd_bn`` now (at the start, at a listing)."""
        f = self.model.firms
        usd = self.model.params.valuation.usd_per_cny
        f.value_margin[rows] = implied_margin(
            np.asarray(value_usd_bn, dtype=float), f.cash[rows], f.revenue[rows],
            self._cost[rows], self._annuity[rows], usd,
        )  # fmt: skip
        f.market_value[rows] = value_usd_bn
        self.valued[rows] = np.asarray(value_usd_bn) > 0.0

    def step(self) -> None:
        """Update the beliefs, each firm's discount rate, and its value."""
        m = self.model
        f = m.firms
        adjust, growth, horizon = self._step_numbers
        self.observe()
        # The month's arrays are kept from one month to the next (sim.model.buffers).
        keep = f.buffers
        shape = (f.n,)
        self._cost = m.enforcement.expected_cost(
            self.perceived_rate, out=keep.empty("investors' expected cost", shape)
        )
        # discount_rate += adjust_speed * (target_discount_rate() - discount_rate), and the
        # annuity factor at spread = discount_rate - growth (annuity_factor): NumPy's expm1
        # between two kernels (kernels: not compiled). The annuity factors go into an array of
        # their own, not over the exponents: a kernel whose output is one of its inputs does
        # not vectorize.
        expm1 = self._exponent
        value_kernels.move_rates(
            f.discount_rate, adjust, growth, horizon, expm1, *self._target_args()
        )
        np.expm1(expm1, out=expm1)
        # firm_value_usd, then limited liability: a shareholder's stake is worth no less than
        # nothing; firms without a recorded value are worth nothing to investors.
        annuity, value = keep.empty("annuity", shape), keep.empty("market value", shape)
        value_kernels.annuity_values(
            expm1, f.discount_rate, growth, horizon, f.cash, f.revenue, f.value_margin,
            self._cost, self._usd_per_cny, self.valued, annuity, value,
        )  # fmt: skip
        self._annuity = annuity
        f.market_value = value
