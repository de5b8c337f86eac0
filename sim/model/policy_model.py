"""The policy model: one Mesa model, one step per month.

Order of a month (see docs/ODD.md, "Process overview and scheduling"):

1. the timeline's events for the month apply (stance, macro, export controls, fines, ...);
2. the centre moves (when free), stakeholders update (Friedkin-Johnsen), the policy is read;
3. regulators (in random order) update stringency, close and open investigations;
4. funds act: the golden-share fund, the chip fund (guidance funds act within deals);
5. cities (in random order) offer deals and lobby;
6. firms split their budgets, update compliance and alignment, grow, spend, buy compute;
7. uncertainty is updated and investors reprice every firm;
8. the declared metrics are collected.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import start_cache, value_kernels
from sim.model.agents.chips import ChipMarket
from sim.model.agents.firms import FirmPopulation, PlatformFirm
from sim.model.agents.funds import ChipFund, Fund, GoldenShareFund, GuidanceFund, Investors
from sim.model.agents.municipalities import CityTable, Municipality, cities_month
from sim.model.agents.regulators import Regulator
from sim.model.centre import Centre
from sim.model.enforcement_risk import (
    EnforcementExposure,
    enforcement_exposure,
    month_exposure,
    regulatory_pressure,
)
from sim.model.influence import InfluenceNetwork, block, stakeholders
from sim.model.initial_state import solve_rest
from sim.model.invariants import check_invariants, money_balances
from sim.model.mesa_interface import (
    RandomSource,
    ScenarioSource,
    collector_reporters,
    model_inputs,
    month_starts,
    shuffle_step,
    shuffled,
    start_period,
)
from sim.model.metric_rows import RunCollector, jobs_index
from sim.model.observation import FINE_COLUMNS, RunRecords
from sim.model.signals import Signals
from sim.model.timeline import apply_event, compiled_timeline
from sim.model.uncertainty import Uncertainty
from sim.scenario.params import Params
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

__all__ = ["FINE_COLUMNS", "FUND_CLASSES", "PolicyModel"]

FUND_CLASSES: dict[str, type[Fund]] = {
    "golden_share": GoldenShareFund,
    "chip": ChipFund,
    "guidance": GuidanceFund,
    "investors": Investors,
}


class PolicyModel(RunRecords, mesa.Model):
    """State-platform interactions under one scenario.

    Args:
        scenario: A validated scenario, a scenario name or a YAML file.
        collect_firms: Also record each named firm's state every month (``firm_timeseries``).
        check: Check model invariants every month and raise on the first violation.
        seed: Mesa's seed; the same as ``rng=seed`` and ``run_scenario(scenario, seed)``.
        rng: Seed, ``SeedSequence`` or ``Generator`` for all randomness (not with ``seed``).
        **overrides: Scenario fields by dotted path, typed (see :mod:`sim.model.mesa_interface`).

    The tables a run returns (``timeseries``, ``stakeholder_timeseries``, ...) come from
    :class:`~sim.model.observation.RunRecords`.
    """

    scenario: Scenario
    params: Params
    check: bool
    collect_firms: bool
    #: Month being (or last) simulated, 0 for the first.
    month: int
    start: pd.Period
    gdp_growth: float
    risk_appetite: float
    signal: float
    #: This month's flows (counts and amounts) by name; missing names read as 0.
    flows: dict[str, float]
    deal_jobs: float
    treasury_cny_bn: float
    chips: ChipMarket
    firms: FirmPopulation
    regulators: list[Regulator]
    cities: list[Municipality]
    #: The cities' numbers, a column a city.
    city_table: CityTable
    funds: list[Fund]
    #: The guidance funds, which co-invest in the cities' deals.
    guidance_funds: list[GuidanceFund]
    firm_agents: list[PlatformFirm]
    influence: InfluenceNetwork
    #: Effective policy, one value per dimension.
    policy: np.ndarray
    uncertainty: float
    #: Regulatory pressure on each firm.
    pressure: np.ndarray
    #: Each firm's exposure to each regulator this month (shared by firms and investors).
    enforcement: EnforcementExposure
    #: Each firm's expected enforcement cost (share of revenue a year) at the regulators' rates.
    expected_cost: np.ndarray
    _revenue0_total: np.float64 | None = None

    def __init__(self, scenario: ScenarioSource = "baseline", *, collect_firms: bool = False,
                 check: bool = False, seed: RandomSource = None, rng: RandomSource = None,
                 **overrides: Any) -> None:  # fmt: skip
        scenario, rng = model_inputs(scenario, overrides, seed=seed, rng=rng)
        super().__init__(rng=rng)
        self.scenario = scenario
        self.params = scenario.params
        self.check = check
        self.collect_firms = collect_firms
        self.month = 0
        self.start = start_cache.per_scenario(scenario, start_period)
        self._dates = start_cache.per_scenario(scenario, month_starts)
        self._last_month, self._start_month = scenario.months - 1, self.start.month
        self.gdp_growth = 0.06
        self.risk_appetite = 0.0
        self._signals = Signals()
        self.signal = 0.0
        self.flows = defaultdict(float)
        self.deal_jobs = 0.0
        self.treasury_cny_bn = 0.0
        #: One record per fine: date, regulator, firm, amount, share of revenue, legal cap.
        self.fine_records = []
        cp = self.params.chips
        self.chips = ChipMarket(0.0, 0.0, 0.0, cp.performance_gap, 0.3)

        self.firms = start_cache.firms(scenario, self.rng)
        self.regulators = [Regulator(self, name=n, spec=s) for n, s in scenario.regulators.items()]
        self.city_table = CityTable(len(scenario.cities))
        self.cities = [
            Municipality(self, name=n, spec=s, index=i)
            for i, (n, s) in enumerate(scenario.cities.items())
        ]
        self.funds = [FUND_CLASSES[s.kind](self, name=n, spec=s) for n, s in scenario.funds.items()]
        self._investors = next((f for f in self.funds if isinstance(f, Investors)), None)
        self._acting = [f for f in self.funds if not isinstance(f, Investors)]  # (investors last)
        self.guidance_funds = [f for f in self.funds if isinstance(f, GuidanceFund)]
        self.firm_agents = [
            PlatformFirm(self, name=name, row=i) for i, name in enumerate(self.firms.names)
        ]
        self._regulator_by_name = {r.name: r for r in self.regulators}
        self._legal_cap = {r.name: r.spec.legal_cap for r in self.regulators}  # read once
        self._city_by_name = {c.name: c for c in self.cities}
        self._fund_by_name = {f.name: f for f in self.funds}
        self._firm_row = {name: i for i, name in enumerate(self.firms.names)}
        self._max_named_revenue = float(self.firms.revenue[: self.firms.n_named].max())

        members = start_cache.per_scenario(scenario, stakeholders)
        self.influence = InfluenceNetwork.build(members, self.params.influence)
        self.centre = Centre(self.params.centre, pinned=scenario.centre == "pinned")
        index = self.influence.index
        self._state_rows = [0] + [index[r.name] for r in self.regulators]
        self._firm_cols = [index[name] for name in self.firms.names[: self.firms.n_named]]
        self._engaged = block(self._state_rows, self._firm_cols)
        self._keep = (0.5 ** (1.0 / self.params.valuation.sanction_halflife),
                      1.0 - self.params.enforcement.strike_decay)  # fmt: skip
        p = self.params  # the groups a month reads, read once (a run's parameters never change)
        self._month_params = (p.firms, p.chips, p.valuation, p.influence.engagement_tie)
        self._uncertainty = Uncertainty()
        self._before, self._by_month = compiled_timeline(scenario)
        for timed in self._before:
            apply_event(self, timed)
        self.flows.clear()
        self.policy = self.influence.effective_policy()
        self._last_policy = self.policy.copy()
        self.uncertainty = 0.0
        self.pressure = regulatory_pressure(self.firms, self.regulators)
        self.chips.self_reliance = float(self.policy[1])
        solve_rest(self)
        self.enforcement = enforcement_exposure(self.firms, self.regulators, self.params)
        self.expected_cost = self.enforcement.expected_cost()
        if (investors := self.investors) is not None:
            investors.calibrate()
        self.datacollector = RunCollector(self, model_reporters=collector_reporters())
        self._firm_rows = []
        self._positions = []
        self._networks = []

    # -- lookups ---------------------------------------------------------------------------------

    def regulator(self, name: str) -> Regulator:
        """Return the regulator called ``name``."""
        return self._regulator_by_name[name]

    def city(self, name: str) -> Municipality:
        """Return the city called ``name``."""
        return self._city_by_name[name]

    def fund(self, name: str) -> Fund:
        """Return the fund called ``name``."""
        return self._fund_by_name[name]

    def firm_row(self, name: str) -> int:
        """Return the row of the named firm ``name``."""
        return self._firm_row[name]

    def firm(self, name: str) -> PlatformFirm:
        """Return the agent of the named firm ``name``."""
        return self.firm_agents[self._firm_row[name]]

    @property
    def investors(self) -> Investors | None:
        """The investors' agent, if the scenario has one (found once: the funds never change)."""
        return self._investors

    # -- events called by agents and the timeline -------------------------------------------------

    def add_signal(
        self, strength: float, half_life_months: float, belief: str = "probe_hazard"
    ) -> None:
        """Add a confidence signal that decays with ``half_life_months`` and acts on ``belief``."""
        self._signals.add(strength, half_life_months, self.month)
        if (investors := self.investors) is not None:
            investors.hear(strength, belief)

    def record_sanction(
        self, row: int, kind: str, amount_cny_bn: float, *, weight: float, regulator: str = ""
    ) -> None:
        """Book a sanction: counters, the firm's and the market's sanction memory.

        A fine is also kept in :attr:`fine_records` (see :meth:`fines_table`).

        Args:
            row: The sanctioned firm's row.
            kind: ``fine``, ``freeze`` or ``order``.
            amount_cny_bn: Fine amount (0 for other sanctions).
            weight: Signal weight of the sanction for investors (regulators scale it by their
                stringency: a sanction in a campaign says more than a routine one).
            regulator: The sanctioning regulator's name (gives the fine's legal cap).
        """
        f = self.firms
        memory = f.sanction_memory  # Python floats: the same IEEE operations as on the scalars
        memory[row] = memory.item(row) + weight
        size = math.sqrt(max(f.revenue.item(row), 0.0) / self._max_named_revenue)
        self._uncertainty.record(weight, size)
        self.treasury_cny_bn += amount_cny_bn
        if kind == "fine":
            self.flows["fines_count"] += 1
            self.flows["fines_value_cny_bn"] += amount_cny_bn
            self._record_fine(row, amount_cny_bn, regulator)
        else:
            self.flows[f"{kind}s"] += 1

    def _record_fine(self, row: int, amount_cny_bn: float, regulator: str) -> None:
        """Keep one fine's record: its size against domestic revenue and the legal cap."""
        f = self.firms
        domestic = f.revenue.item(row) * f.domestic_share.item(row)
        share = amount_cny_bn / domestic if domestic > 0 else float("nan")
        cap = self._legal_cap.get(regulator, float("nan"))
        name = f.names[row] if row < f.n_named else f"synthetic-{row - f.n_named}"
        self.fine_records.append((self.date, regulator, name, amount_cny_bn, share, cap))

    def sign_deal(self, city: Municipality, row: int, amount_cny_bn: float, subsidy: float) -> None:
        """Book a cooperation deal between ``city`` and firm ``row``.

        Args:
            city: The city.
            row: The firm's row.
            amount_cny_bn: Investment of the deal, billion CNY.
            subsidy: Part of it paid by the city as a subsidy, billion CNY.
        """
        city.book_deal(row, amount_cny_bn, subsidy)

    def list_firm(self, row: int, value_usd_bn: float | None, key: str) -> bool:
        """List firm ``row`` unless a listing halt is in force.

        Args:
            row: The firm's row.
            value_usd_bn: Its value at listing (keeps its modelled value when ``None``).
            key: The timeline key, for the log.

        Returns:
            Whether it listed.
        """
        f = self.firms
        if f.frozen(self.month)[row, 0]:
            log.info("listing %s refused: listing halt in force", key)
            self.flows["listings_refused"] += 1
            return False
        f.listed[row] = True
        if value_usd_bn is not None:
            if (investors := self.investors) is not None:
                investors.rebase(row, value_usd_bn)
            else:
                f.market_value[row] = value_usd_bn
        return True

    # -- the month --------------------------------------------------------------------------------

    def _update_signal(self) -> None:
        self.signal = self._signals.total(self.month)

    def _update_uncertainty(self) -> None:
        f = self.firms
        value_kernels.fade_memories(f.sanction_memory, self._keep[0], f.strikes, self._keep[1])
        change = self.policy.item(0) - self._last_policy.item(0)
        self.uncertainty = self._uncertainty.update(change, self._month_params[2])

    def _engage(self) -> None:
        """Named firms' engagement effort makes the centre and the regulators listen to them."""
        # ties[block] += engagement_tie * split[:n_named, 3], in one compiled call.
        self.influence.engage(self._engaged, self.firms.split[:, 3], self._month_params[3])

    def start_revenue(self) -> np.float64:
        """Return the firms' total revenue at the start (it never changes: summed once)."""
        if self._revenue0_total is None:
            self._revenue0_total = self.firms.revenue0.sum()
        return self._revenue0_total

    def jobs_index(self, revenue_total: float | None = None) -> float:
        """Return the jobs proxy (100 at the start).

        Args:
            revenue_total: The firms' total revenue (``firms.revenue.sum()``), when known.
        """
        total = self.firms.revenue.sum() if revenue_total is None else revenue_total
        return jobs_index(float(total / self.start_revenue()), self.deal_jobs)

    def step(self) -> None:
        """Advance the model by one month."""
        self.month = month = self.steps - 1
        flows = self.flows
        flows.clear()
        balances = money_balances(self) if self.check else None
        if month in self._by_month:
            for timed in self._by_month[month]:
                apply_event(self, timed)
        self._update_signal()

        weights = self.influence.weights()  # the centre's move leaves it as it is
        self.centre.step(self, weights)
        self.influence.step(weights)
        self._last_policy = self.policy
        self.policy = policy = self.influence.effective_policy()
        # The policy is read as numbers once: nothing changes it before the next month.
        stringency, self_reliance = policy.item(0), policy.item(1)
        self.chips.self_reliance = self_reliance

        shuffle_step(self.random, self.regulators)
        for fund in self._acting:
            fund.step()
        cities_month(self, shuffled(self.random, self.cities))

        fp, cp = self._month_params[:2]
        self.chips.update_capacity(cp)
        f = self.firms
        self.pressure, self.enforcement = month_exposure(f, self.regulators, self.params)
        self.expected_cost = self.enforcement.expected_cost()
        f.allocate_budget(self.pressure, self.expected_cost, 1.0 - stringency, self_reliance,
                          month, fp)  # fmt: skip
        self._engage()
        f.update_compliance(fp)
        f.update_alignment(self_reliance, fp)
        f.grow(month, self.gdp_growth, fp)
        f.spend(fp)
        flows["operating_cash_cny_bn"] += f.operating_cash_cny_bn
        foreign, domestic = f.buy_compute(self.chips, cp)
        paid = f.pay_chip_makers(domestic)
        flows["chip_sales_cny_bn"] += paid
        flows["chip_imports_cny_bn"] += foreign + domestic - paid
        f.update_capability(self.chips.performance_gap, cp)

        self._update_uncertainty()
        if (investors := self.investors) is not None:
            investors.step()
        if self.check:
            check_invariants(self, balances)
        self._record_month()
        if self.collect_firms:
            self._collect_firms()

    def _collect_firms(self) -> None:
        date = self.date
        for agent in self.firm_agents:
            self._firm_rows.append({"date": date, **agent.state()})
