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

    @property
    def growth_gap(self) -> float:
        """Annual growth target minus perceived growth."""
        return self.spec.growth_target - self.growth_seen

    def support(self) -> float:
        """How supportive the centre looks to this city, in [0, 1]."""
        m = self.model
        stance = m.influence.position.item(0, 0)
        raw = 1.0 - self.spec.caution * stance / m.params.cities.support_threshold
        return min(max(raw + 0.5 * max(m.signal, 0.0), 0.0), 1.0)

    def step(self) -> None:
        """Update perceived growth and budget, offer deals, and lobby."""
        m = self.model
        p = m.params.cities
        spec = self.spec
        seen = self.growth_seen
        self.growth_seen = seen = seen + (m.gdp_growth - seen) / p.growth_memory_months
        budget = self.budget_cny_bn
        refilled = min(budget + spec.budget_cny_bn / 12.0, spec.budget_cny_bn)
        self.refilled_cny_bn += refilled - budget
        self.budget_cny_bn = refilled
        gap = spec.growth_target - seen
        rate = p.deal_rate * min(max(gap / p.gap_scale, 0.0), 1.0) * self.support()
        n_deals = int(m.rng.poisson(rate)) if rate > 0 else 0
        for _ in range(n_deals):
            amount = p.deal_size_cny_bn * float(np.exp(m.rng.normal(-0.125, 0.5)))
            subsidy = p.subsidy_share * amount
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
        m = self.model
        if gap is None:
            gap = self.growth_gap
        anchor = self.spec.position.platform_stringency - m.params.cities.lobby_strength * max(
            gap, 0.0
        )
        net = m.influence
        if self._row is None:  # the city's row in the influence network never changes
            self._row = net.index[self.name]
        net.anchor[self._row, 0] = min(max(anchor, 0.0), 1.0)

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
            # sqrt(revenue) * (1 + alignment) * home pull, its sum and running shares, in 2 passes.
            cdf = draw_kernels.court_weights(
                firms.revenue, firms.alignment, self._home, self.spec.home_pull
            )
            self._cdf, self._cdf_month = cdf, m.month
            self._cdf_last = float(cdf[-1]) if cdf.shape[0] else 1.0
        return draw_kernels.search(self._cdf, self._cdf_last, m.rng.random())
