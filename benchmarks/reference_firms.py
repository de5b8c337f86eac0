"""The firm month two ways: the model's vectorized rules and a Mesa-idiomatic reference.

The benchmarks measure the model's vectorized firm rules against a yardstick written the way a Mesa
model is usually written: one :class:`ReferenceFirm` agent per firm holding its state as Python
attributes, with a ``step()`` that applies the firm rules of
:class:`sim.model.agents.firms.FirmPopulation` to that one firm, scheduled with
``shuffle_do("step")``.

Both implement the same month, in the order :meth:`sim.model.policy_model.PolicyModel.step` runs it:

1. regulatory pressure on each firm (exposure x regulators' stringency) and its expected enforcement
   cost (an input, computed by the model from the regulators' rules);
2. ``allocate_budget``, ``update_compliance``, ``update_alignment``, ``grow``, ``spend``, the
   compute order; the chip market serves domestic orders up to its capacity (the reference clears
   it between two rounds of agent steps, as a staged Mesa model does); ``buy_compute``,
   ``update_capability``;
3. buyers pay for their compute, and the month's domestic compute spend is paid to the domestic
   chip makers (``update_capability`` does not read cash, so paying them before or after it is
   the same).

The inputs of a month (regulators' stringency, the effective policy, GDP growth, the chip market)
are held fixed in a :class:`MonthInputs`, so that the two implementations can be run side by side
from the same state and compared (``tests/model/test_reference_equivalence.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.agents.chips import ChipMarket
from sim.model.agents.firms import ANTITRUST, FirmPopulation
from sim.scenario.params import ChipParams, FirmParams

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

#: Firm state compared between the implementations: name -> FirmPopulation attribute.
STATE_FIELDS = (
    "revenue", "growth", "cash", "compliance", "alignment", "deal_boost", "rd_spend",
    "compute_foreign", "compute_domestic", "ai_capability", "split", "exposure",
)  # fmt: skip


@dataclass(frozen=True)
class MonthInputs:
    """Everything outside the firms that a firm month reads.

    Attributes:
        stringency: Each regulator's stringency.
        domains: Each regulator's domain (column of ``exposure``).
        support: Central support for the platform economy (1 - effective stringency).
        self_reliance: Effective self-reliance policy.
        month: Month index (for freezes).
        gdp_growth: Annual GDP growth.
        market: The chip market this month.
        expected_cost: Each firm's expected enforcement cost, share of revenue a year (computed
            by the model from the regulators' rules before the firm phase).
    """

    stringency: tuple[float, ...]
    domains: tuple[int, ...]
    support: float
    self_reliance: float
    month: int
    gdp_growth: float
    market: ChipMarket
    expected_cost: np.ndarray

    @classmethod
    def from_model(cls, model: PolicyModel) -> MonthInputs:
        """Read the inputs of the firm phase from a model, as its ``step`` would pass them."""
        return cls(
            stringency=tuple(float(r.stringency) for r in model.regulators),
            domains=tuple(int(r.domain) for r in model.regulators),
            support=1.0 - float(model.policy[0]),
            self_reliance=float(model.policy[1]),
            month=int(model.month),
            gdp_growth=float(model.gdp_growth),
            market=replace(model.chips),
            expected_cost=model.expected_cost.copy(),
        )


def vectorized_month(
    pop: FirmPopulation, inputs: MonthInputs, firm_params: FirmParams, chip_params: ChipParams
) -> None:
    """Run one firm month on the whole population with the model's vectorized rules.

    Args:
        pop: The population (changed in place).
        inputs: The month's inputs.
        firm_params: Firm parameters.
        chip_params: Chip parameters.
    """
    stringency = np.asarray(inputs.stringency, dtype=float)
    if stringency.size:
        # As sim.model.enforcement_risk.regulatory_pressure computes it.
        columns = pop.exposure.T[list(inputs.domains)]
        pressure = columns.T @ stringency / len(stringency)
    else:
        pressure = np.zeros(pop.n)
    pop.allocate_budget(pressure, inputs.expected_cost, inputs.support, inputs.self_reliance,
                        inputs.month, firm_params)  # fmt: skip
    pop.update_compliance(firm_params)
    pop.update_alignment(inputs.self_reliance, firm_params)
    pop.grow(inputs.month, inputs.gdp_growth, firm_params)
    pop.spend(firm_params)
    market = replace(inputs.market)
    _, domestic = pop.buy_compute(market, chip_params)
    pop.pay_chip_makers(domestic)
    pop.update_capability(market.performance_gap, chip_params)


class ReferenceFirm(mesa.Agent):
    """One firm as a Mesa agent with its state in Python attributes and the rules in ``step``.

    Args:
        model: The reference model.
        pop: The population to copy the firm's initial state from.
        row: The firm's row in ``pop``.
    """

    model: ReferenceFirmModel

    def __init__(self, model: ReferenceFirmModel, *, pop: FirmPopulation, row: int) -> None:
        super().__init__(model)
        self.row = row
        self.revenue = float(pop.revenue[row])
        self.growth = float(pop.growth[row])
        self.margin = float(pop.margin[row])
        self.cash = float(pop.cash[row])
        self.exposure = [float(x) for x in pop.exposure[row]]
        self.compliance = float(pop.compliance[row])
        self.alignment = float(pop.alignment[row])
        self.compute_intensity = float(pop.compute_intensity[row])
        self.chip_taste = float(pop.chip_taste[row])
        self.rd_intensity = float(pop.rd_intensity[row])
        self.compute_foreign = float(pop.compute_foreign[row])
        self.compute_domestic = float(pop.compute_domestic[row])
        self.ai_capability = float(pop.ai_capability[row])
        self.chip_maker = bool(pop.chip_maker[row])
        self.golden_share = bool(pop.golden_share[row])
        self.strikes = float(pop.strikes[row])
        self.freeze_until = [int(x) for x in pop.freeze_until[row]]
        self.deal_boost = float(pop.deal_boost[row])
        self.split = [float(x) for x in pop.split[row]]
        self.rd_spend = float(pop.rd_spend[row])
        self.revenue0 = float(pop.revenue0[row])

    def step(self) -> None:
        """Run this firm's month up to its compute order: budget, compliance, growth, spend."""
        m = self.model
        inputs = m.inputs
        pressure = 0.0
        for s, d in zip(inputs.stringency, inputs.domains, strict=True):
            pressure += self.exposure[d] * s
        if inputs.stringency:
            pressure /= len(inputs.stringency)
        blocked = self.blocked(inputs.month)
        cost = m.expected_cost[self.row]
        self.allocate_budget(pressure, cost, blocked, inputs.support, inputs.self_reliance,
                             m.firm_params)  # fmt: skip
        self.update_compliance(m.firm_params)
        self.update_alignment(inputs.self_reliance, m.firm_params)
        self.grow(blocked, inputs.gdp_growth, m.firm_params)
        self.spend(m.firm_params)
        self.order_compute(m.market, m.chip_params)

    def buy(self, fill: float) -> None:
        """Buy the compute the market serves (``fill``: share of domestic orders served)."""
        m = self.model
        foreign, domestic = self.buy_compute(m.market, fill, m.chip_params)
        m.foreign_spend += foreign
        m.domestic_spend += domestic
        self.update_capability(m.market.performance_gap, m.chip_params)

    def blocked(self, month: int) -> bool:
        """Return whether an app removal or a licence freeze is in force."""
        return self.freeze_until[1] > month or self.freeze_until[2] > month

    def allocate_budget(
        self,
        pressure: float,
        expected_cost: float,
        blocked: bool,
        support: float,
        self_reliance: float,
        p: FirmParams,
    ) -> None:
        """Split the budget among compliance, R&D, expansion and engagement."""
        b0, b1, b2, b3 = p.base_split
        own_cost = max(p.budget_share * b0 / max(b0 + b1 + b2 + b3, 1e-12), 1e-12)
        w0 = b0 * (1.0 + p.pressure_response * expected_cost / own_cost + self.strikes)
        w1 = b1 * (1.0 + self_reliance * self.alignment)
        w2 = b2 * (1.0 + p.support_response * support) * (0.1 if blocked else 1.0)
        w2 *= 1.0 if self.cash > 0.0 else p.cash_constraint
        w3 = b3 * (1.0 + pressure)
        total = w0 + w1 + w2 + w3
        if total > 0:
            self.split = [w0 / total, w1 / total, w2 / total, w3 / total]
        else:
            self.split = [0.25, 0.25, 0.25, 0.25]

    def update_compliance(self, p: FirmParams) -> None:
        """Compliance rises with compliance effort and erodes without it."""
        c = self.compliance
        c += p.compliance_efficiency * self.split[0] * (1.0 - c) - p.compliance_decay * c
        self.compliance = min(max(c, 0.0), 1.0)

    def update_alignment(self, self_reliance: float, p: FirmParams) -> None:
        """Alignment drifts toward the self-reliance push, faster under a golden share."""
        rate = p.alignment_drift * (2.0 if self.golden_share else 1.0)
        a = self.alignment + rate * (self_reliance - self.alignment)
        self.alignment = min(max(a, 0.0), 1.0)

    def grow(self, blocked: bool, gdp_growth: float, p: FirmParams) -> None:
        """Advance revenue one month; expansion raises growth and antitrust exposure."""
        base_expansion = p.base_split[2] / max(sum(p.base_split), 1e-12)
        extra = self.split[2] - base_expansion
        annual = (
            self.growth
            + p.macro_beta * (gdp_growth - 0.06)
            + p.expansion_growth * extra
            - p.freeze_growth_penalty * blocked
            + self.deal_boost
        )
        self.revenue *= max(1.0 + annual, 0.05) ** (1.0 / 12.0)
        self.growth += p.growth_reversion * (p.long_run_growth - self.growth)
        self.deal_boost *= 0.95
        exposure = self.exposure[ANTITRUST] + p.expansion_exposure * extra
        self.exposure[ANTITRUST] = min(max(exposure, 0.0), 1.0)

    def spend(self, p: FirmParams) -> None:
        """Book the month's operating cash flow and R&D spend."""
        monthly = self.revenue / 12.0
        self.rd_spend = monthly * (self.rd_intensity + p.budget_share * self.split[1])
        self.cash += monthly * self.margin

    def order_compute(self, market: ChipMarket, p: ChipParams) -> None:
        """Decide the compute order: units wanted, foreign units available, domestic units asked."""
        self.units = self.compute_intensity * self.rd_spend
        price_d = p.domestic_price_ratio * (1.0 - market.power_subsidy)
        value_gap = (1.0 - market.performance_gap) / max(price_d, 1e-9) - 1.0
        z = p.choice_sensitivity * value_gap + p.self_reliance_pull * (
            market.self_reliance * self.alignment - 0.25
        ) + self.chip_taste
        q = 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0
        q = max(q, market.required_domestic)
        want_foreign = self.units * (1.0 - q)
        self.foreign_available = want_foreign * (1.0 - market.blocked_share)
        self.domestic_order = self.units * q + want_foreign * market.blocked_share

    def buy_compute(self, market: ChipMarket, fill: float, p: ChipParams) -> tuple[float, float]:
        """Buy the order as served; return (foreign, domestic) spend."""
        domestic = self.domestic_order * fill
        foreign = self.foreign_available
        r = market.required_domestic
        if r > 0.0:
            foreign = min(foreign, domestic * (1.0 - r) / r)
        keep = 1.0 - p.depreciation
        self.compute_foreign = self.compute_foreign * keep + foreign
        self.compute_domestic = self.compute_domestic * keep + domestic
        price = p.compute_price_cny_bn
        self.cash -= (foreign + domestic) * price
        return foreign * price, domestic * price

    def update_capability(self, performance_gap: float, p: ChipParams) -> None:
        """AI capability accumulates from effective compute."""
        effective = self.compute_foreign + self.compute_domestic * (1.0 - performance_gap)
        self.ai_capability += p.capability_rate * math.sqrt(effective) - (
            p.capability_decay * self.ai_capability
        )


class ReferenceFirmModel(mesa.Model):
    """A Mesa model of the firm month with one :class:`ReferenceFirm` per firm.

    Args:
        pop: The population whose state the agents start from.
        inputs: The month's inputs (may be replaced between steps).
        firm_params: Firm parameters.
        chip_params: Chip parameters.
        rng: Seed for Mesa's scheduling randomness.
    """

    def __init__(
        self,
        *,
        pop: FirmPopulation,
        inputs: MonthInputs,
        firm_params: FirmParams,
        chip_params: ChipParams,
        rng: int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.inputs = inputs
        self.firm_params = firm_params
        self.chip_params = chip_params
        self.foreign_spend = 0.0
        self.domestic_spend = 0.0
        self.market = replace(inputs.market)
        self.expected_cost: list[float] = inputs.expected_cost.tolist()
        self.firms = [ReferenceFirm(self, pop=pop, row=row) for row in range(pop.n)]
        self.chip_makers = self.agents.select(lambda a: a.chip_maker)

    def step(self) -> None:
        """Run one firm month: firms order, the chip market clears, firms buy, makers are paid."""
        self.foreign_spend = 0.0
        self.domestic_spend = 0.0
        self.market = replace(self.inputs.market)
        self.expected_cost = self.inputs.expected_cost.tolist()  # plain floats for the agents
        self.agents.shuffle_do("step")
        orders = np.array([a.domestic_order for a in self.firms])
        fill = self.market.clear(float(orders.sum()))
        self.agents.shuffle_do("buy", fill)
        if len(self.chip_makers) and self.domestic_spend > 0:
            shares = [math.sqrt(a.revenue0) for a in self.chip_makers]
            total = sum(shares)
            for agent, share in zip(self.chip_makers, shares, strict=True):
                agent.cash += self.domestic_spend * share / total

    def state(self) -> dict[str, np.ndarray]:
        """Return the firms' state as arrays in row order, named as in :data:`STATE_FIELDS`."""
        return {name: np.array([getattr(a, name) for a in self.firms], dtype=float)
                for name in STATE_FIELDS}  # fmt: skip


def population_state(pop: FirmPopulation) -> dict[str, np.ndarray]:
    """Return copies of a population's state arrays named as in :data:`STATE_FIELDS`."""
    return {name: np.array(getattr(pop, name), dtype=float) for name in STATE_FIELDS}
