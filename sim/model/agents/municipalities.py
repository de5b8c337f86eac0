"""Municipal governments: growth gaps, cooperation deals, subsidies and lobbying.

A city perceives its growth as an exponential moving average of GDP growth over
``growth_memory_months``. When growth falls short of
its target and the centre's stance is supportive, it offers deals: Poisson with mean
``deal_rate * min(gap / gap_scale, 1) * support``, where ``support = 1 - caution * stance /
support_threshold`` (clipped to [0, 1]) rises with confidence signals. A deal goes to a hosted firm
(weight ``home_pull``) or a courted one (a regional-HQ bid), adds investment, a subsidy paid
from the city's budget, a growth boost and jobs, and ties the city and the firm. Cities lobby for
a softer line: their anchor on platform stringency falls in proportion to the growth gap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import draw_kernels
from sim.scenario.schema import CitySpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel


class Municipality(mesa.Agent):
    """A city government (Beijing, Hangzhou, Shenzhen, ...).

    Args:
        model: The model.
        name: City name.
        spec: Its scenario specification.
        index: Its index among cities (firms' ``hq`` refers to it).
    """

    model: PolicyModel

    def __init__(self, model: PolicyModel, *, name: str, spec: CitySpec, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.spec = spec
        self.index = index
        self.growth_seen = model.gdp_growth
        self.budget_cny_bn = spec.budget_cny_bn
        self.deals = 0
        #: Budget refilled and subsidies paid since the start (for the money-conservation check).
        self.refilled_cny_bn = 0.0
        self.subsidies_cny_bn = 0.0
        self._cdf: np.ndarray = np.zeros(0)
        self._cdf_month = -1
        self._cdf_last = 1.0
        self._row: int | None = None
        self._home: np.ndarray = np.zeros(0, dtype=bool)
        # A run's parameters and the (frozen) specification never change: their numbers are read
        # once into plain attributes (a field of a schema model is a slower read than these).
        p = model.params.cities
        self._refill = spec.budget_cny_bn / 12.0
        self._cap, self._target, self._home_pull = (
            spec.budget_cny_bn, spec.growth_target, spec.home_pull,
        )  # fmt: skip
        self._memory, self._gap_scale = p.growth_memory_months, p.gap_scale
        self._caution_threshold = (spec.caution, p.support_threshold)
        self._ideal, self._lobby_strength = spec.position.platform_stringency, p.lobby_strength
        self._deal_rate, self._deal_size, self._subsidy_share = (
            p.deal_rate, p.deal_size_cny_bn, p.subsidy_share,
        )  # fmt: skip
        self._deal_growth, self._jobs_per_bn = p.deal_growth, p.jobs_per_bn

    @property
    def growth_gap(self) -> float:
        """Annual growth target minus perceived growth."""
        return self.spec.growth_target - self.growth_seen

    def support(self) -> float:
        """How supportive the centre looks to this city, in [0, 1]."""
        m = self.model
        caution, threshold = self._caution_threshold
        raw = 1.0 - caution * m.influence.position.item(0, 0) / threshold
        # min(max(raw + 0.5 * max(signal, 0.0), 0.0), 1.0), as comparisons (the same result,
        # NaN and -0.0 included: max keeps its first argument unless the second is greater).
        signal = m.signal
        if signal < 0.0:
            signal = 0.0
        support = raw + 0.5 * signal
        if support < 0.0:
            support = 0.0
        if support > 1.0:
            support = 1.0
        return support

    def step(self) -> None:
        """Update perceived growth and budget, offer deals, and lobby."""
        m = self.model
        seen = self.growth_seen
        self.growth_seen = seen = seen + (m.gdp_growth - seen) / self._memory
        budget = self.budget_cny_bn
        cap = self._cap
        refilled = budget + self._refill
        if cap < refilled:  # min(budget + refill, cap)
            refilled = cap
        self.refilled_cny_bn += refilled - budget
        self.budget_cny_bn = refilled
        gap = self._target - seen
        share = gap / self._gap_scale
        # min(max(share, 0.0), 1.0). A share that is not positive makes the rate 0.0 (or NaN)
        # whatever the support, and no deal: support is not read then.
        if share > 0.0:
            if share > 1.0:
                share = 1.0
            rate = self._deal_rate * share * self.support()
            if rate > 0:
                rng = m.rng
                normal = rng.standard_normal
                for _ in range(int(rng.poisson(rate))):
                    # rng.normal(-0.125, 0.5) is -0.125 + 0.5 * a standard normal draw, the
                    # same draw and operations (NumPy's random_normal), at less cost a call.
                    amount = self._deal_size * float(np.exp(-0.125 + 0.5 * normal()))
                    subsidy = self._subsidy_share * amount
                    if subsidy > self.budget_cny_bn:
                        break
                    row = self.choose_firm()
                    self.budget_cny_bn -= subsidy
                    m.sign_deal(self, row, amount, subsidy)
        self.lobby(gap)

    def lobby(self, gap: float | None = None) -> None:
        """Lobby for a softer line: the city's anchor on stringency falls with its growth gap.

        Args:
            gap: :attr:`growth_gap`, when the caller has it.
        """
        if gap is None:
            gap = self.growth_gap
        if gap < 0.0:  # max(gap, 0.0)
            gap = 0.0
        anchor = self._ideal - self._lobby_strength * gap
        if anchor < 0.0:  # min(max(anchor, 0.0), 1.0)
            anchor = 0.0
        if anchor > 1.0:
            anchor = 1.0
        row = self._row
        if row is None:
            row = self.influence_row()
        self.model.influence.anchor[row, 0] = anchor

    def influence_row(self) -> int:
        """Return the city's row in the influence network (found once: it never changes)."""
        if self._row is None:
            self._row = self.model.influence.index[self.name]
        return self._row

    def book_deal(self, row: int, amount_cny_bn: float, subsidy: float) -> None:
        """Book a deal with firm ``row``: what :meth:`PolicyModel.sign_deal` does.

        Args:
            row: The firm's row.
            amount_cny_bn: Investment of the deal, billion CNY.
            subsidy: Part of it paid by the city as a subsidy, billion CNY.
        """
        m = self.model
        f = m.firms
        # cash[row] += subsidy and deal_boost[row] += deal_growth, in Python floats (the same
        # additions, without making NumPy scalars).
        cash, boost = f.cash, f.deal_boost
        cash[row] = cash.item(row) + subsidy
        boost[row] = boost.item(row) + self._deal_growth
        m.deal_jobs += self._jobs_per_bn * amount_cny_bn
        self.deals += 1
        self.subsidies_cny_bn += subsidy
        flows = m.flows
        flows["deals_signed"] += 1
        flows["subsidies_cny_bn"] += subsidy
        if row < f.n_named:  # the city and the firm listen more to each other
            net = m.influence
            j = net.index.get(f.names[row])
            if j is not None:
                net.add_tie_rows(self.influence_row(), j, 1.0, both_ways=True)
        for fund in m.guidance_funds:
            fund.co_invest(row, amount_cny_bn)

    def choose_firm(self) -> int:
        """Draw the firm to court: home firms weigh ``home_pull``, size and alignment help.

        Revenue and alignment do not change while cities sign deals, so the running weights
        are built once a month (on the first deal) and each deal is one binary search. The draw
        is the one ``rng.choice(n, p=weights / weights.sum())`` makes: the same cumulative
        weights, one ``rng.random()``, the same search (:mod:`sim.model.draw_kernels`).
        """
        m = self.model
        if self._cdf_month != m.month:
            firms = m.firms
            if self._home.shape != firms.hq.shape:
                # Where firms are based never changes: the home firms are found once.
                self._home = firms.hq == self.index
            if self._cdf.shape != firms.hq.shape:
                self._cdf = np.empty(firms.hq.shape[0])
            # sqrt(revenue) * (1 + alignment) * home pull, its sum and running shares, in 2 passes,
            # into the city's own array.
            self._cdf_last = draw_kernels.court_weights(
                firms.revenue, firms.alignment, self._home, self._home_pull, self._cdf
            )
            self._cdf_month = m.month
        return draw_kernels.search(self._cdf, self._cdf_last, m.rng.random())
