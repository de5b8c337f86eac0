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

from typing import TYPE_CHECKING, overload

import mesa
import numpy as np

from sim.model import city_kernels, draw_kernels
from sim.scenario.schema import CitySpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel


class CityTable:
    """The cities' numbers, a column a city, which :func:`cities_month` advances all at once.

    Args:
        n: The number of cities.
    """

    def __init__(self, n: int) -> None:
        #: Perceived growth, deal budget and budget refilled since the start
        #: (rows :data:`~sim.model.city_kernels.SEEN`, ``BUDGET``, ``REFILLED``).
        self.state = np.zeros((city_kernels.N_STATE, n))
        #: What a city's month reads and never changes (rows ``MEMORY`` ... ``LOBBY_STRENGTH``).
        self.constants = np.zeros((city_kernels.N_CONSTANTS, n))
        #: This month's deal rate of each city.
        self.rate = np.zeros(n)
        #: Each city's row in the influence network (found at the first month).
        self.rows: np.ndarray | None = None


class _StateRow:
    """A city's number kept in a row of its table's state, read as a Python float.

    Args:
        row: The row of :attr:`CityTable.state`.
        doc: What the number is.
    """

    def __init__(self, row: int, doc: str) -> None:
        self.row = row
        self.__doc__ = doc

    @overload
    def __get__(self, city: None, owner: type) -> _StateRow: ...

    @overload
    def __get__(self, city: Municipality, owner: type) -> float: ...

    def __get__(self, city: Municipality | None, owner: type) -> _StateRow | float:
        if city is None:
            return self
        return float(city._table.state.item(self.row, city.index))

    def __set__(self, city: Municipality, value: float) -> None:
        city._table.state[self.row, city.index] = value


class Municipality(mesa.Agent):
    """A city government (Beijing, Hangzhou, Shenzhen, ...).

    Its perceived growth and budget are kept in the model's :class:`CityTable`, in its column
    ``index``.

    Args:
        model: The model.
        name: City name.
        spec: Its scenario specification.
        index: Its index among cities (firms' ``hq`` refers to it, and its table's column).
    """

    model: PolicyModel

    def __init__(self, model: PolicyModel, *, name: str, spec: CitySpec, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.spec = spec
        self.index = index
        self._table = table = model.city_table
        self.deals = 0
        #: Subsidies paid since the start (for the money-conservation check).
        self.subsidies_cny_bn = 0.0
        self._cdf: np.ndarray = np.zeros(0)
        self._cdf_month = -1
        self._cdf_last = 1.0
        self._row: int | None = None
        self._home: np.ndarray = np.zeros(0, dtype=bool)
        # A run's parameters and the (frozen) specification never change: the numbers a month
        # reads are put in the table once, those of a deal in plain attributes (a field of a
        # schema model is a slower read than these).
        p = model.params.cities
        k, column = city_kernels, table.constants[:, index]
        column[k.MEMORY], column[k.GAP_SCALE] = p.growth_memory_months, p.gap_scale
        column[k.REFILL], column[k.CAP] = spec.budget_cny_bn / 12.0, spec.budget_cny_bn
        column[k.TARGET], column[k.DEAL_RATE] = spec.growth_target, p.deal_rate
        column[k.CAUTION], column[k.THRESHOLD] = spec.caution, p.support_threshold
        column[k.IDEAL] = spec.position.platform_stringency
        column[k.LOBBY_STRENGTH] = p.lobby_strength
        self.growth_seen = model.gdp_growth
        self.budget_cny_bn = spec.budget_cny_bn
        self.refilled_cny_bn = 0.0
        self._home_pull = spec.home_pull
        self._deal_size, self._subsidy_share = p.deal_size_cny_bn, p.subsidy_share
        self._deal_growth, self._jobs_per_bn = p.deal_growth, p.jobs_per_bn

    growth_seen = _StateRow(city_kernels.SEEN, "Perceived annual growth: a moving average of GDP.")
    budget_cny_bn = _StateRow(city_kernels.BUDGET, "What is left of the deal budget, billion CNY.")
    refilled_cny_bn = _StateRow(
        city_kernels.REFILLED, "Budget refilled since the start (for the money-conservation check)."
    )

    @property
    def growth_gap(self) -> float:
        """Annual growth target minus perceived growth."""
        return self.spec.growth_target - self.growth_seen

    def support(self) -> float:
        """How supportive the centre looks to this city, in [0, 1]."""
        m = self.model
        constants, i = self._table.constants, self.index
        return city_kernels.support(
            constants.item(city_kernels.CAUTION, i), constants.item(city_kernels.THRESHOLD, i),
            m.influence.position.item(0, 0), m.signal,
        )  # fmt: skip

    def step(self) -> None:
        """Update perceived growth and budget, offer deals, and lobby.

        The arithmetic is :func:`~sim.model.city_kernels.city_month` for this city alone; a
        model's month does every city's at once (:func:`cities_month`).
        """
        i = self.index
        self.offer_deals(_arithmetic(self.model, i, i + 1).item(i))

    def offer_deals(self, rate: float) -> None:
        """Offer a Poisson number of deals of mean ``rate`` (none unless it is above 0).

        Each deal's size is log-normal; it is signed unless its subsidy exceeds what is left of
        the budget (the month's offers stop there).
        """
        if not rate > 0:
            return
        m = self.model
        rng = m.rng
        normal = rng.standard_normal
        for _ in range(int(rng.poisson(rate))):
            # rng.normal(-0.125, 0.5) is -0.125 + 0.5 * a standard normal draw, the same draw
            # and operations (NumPy's random_normal), at less cost a call.
            amount = self._deal_size * float(np.exp(-0.125 + 0.5 * normal()))
            subsidy = self._subsidy_share * amount
            if subsidy > self.budget_cny_bn:
                break
            row = self.choose_firm()
            self.budget_cny_bn -= subsidy
            m.sign_deal(self, row, amount, subsidy)

    def lobby(self, gap: float | None = None) -> None:
        """Lobby for a softer line: the city's anchor on stringency falls with its growth gap.

        Args:
            gap: :attr:`growth_gap`, when the caller has it.
        """
        if gap is None:
            gap = self.growth_gap
        constants, i = self._table.constants, self.index
        self.model.influence.anchor[self.influence_row(), 0] = city_kernels.lobby_anchor(
            constants.item(city_kernels.IDEAL, i), constants.item(city_kernels.LOBBY_STRENGTH, i),
            gap,
        )  # fmt: skip

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


def influence_rows(model: PolicyModel) -> np.ndarray:
    """Return each city's row in the influence network (found at the first call: fixed)."""
    table = model.city_table
    if table.rows is None:
        table.rows = np.array([city.influence_row() for city in model.cities], dtype=np.int64)
    return table.rows


def cities_month(model: PolicyModel, order: list[Municipality]) -> None:
    """Step every city, as stepping each in ``order`` does (:meth:`Municipality.step`).

    The arithmetic of every city is one call (:func:`~sim.model.city_kernels.city_month`); then
    each city offers its deals, in ``order``. A deal changes a firm's cash and growth, ties, the
    guidance funds' stakes and the city's own budget, none of which another city's arithmetic
    reads, and nothing the arithmetic writes is read by a deal but the city's own budget.

    Args:
        model: The model.
        order: The model's cities, in the order they offer their deals.
    """
    rate = _arithmetic(model, 0, len(model.cities))
    for city in order:
        value = rate.item(city.index)
        if value > 0:
            city.offer_deals(value)


def _arithmetic(model: PolicyModel, first: int, stop: int) -> np.ndarray:
    """Do the month's arithmetic of cities ``first`` to ``stop - 1``; return every deal rate."""
    table = model.city_table
    city_kernels.city_month(
        model.gdp_growth, model.influence.position.item(0, 0), model.signal, table.constants,
        table.state, model.influence.anchor, influence_rows(model), first, stop, table.rate,
    )  # fmt: skip
    return table.rate
