"""Platform firms: their state in NumPy arrays, their rules vectorized, agents as views.

All numeric firm state lives in :class:`FirmPopulation` (one row per firm, named firms first, then
the synthetic long tail), so a month costs a few array operations whatever the number of firms.
:class:`PlatformFirm` agents are Mesa agents that give each firm an identity and read and write its
row, for inspection and for Mesa's tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.model.agents.chips import ChipMarket
from sim.scenario.base import DOMAINS, FREEZE_KINDS
from sim.scenario.params import ChipParams, FirmParams, SyntheticParams
from sim.scenario.schema import FirmSpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

USES = ("compliance", "rd", "expansion", "engagement")
ANTITRUST = DOMAINS.index("antitrust")
LISTING_HALT = FREEZE_KINDS.index("listing_halt")


class FirmPopulation:
    """Numeric state and vectorized rules of every firm.

    Args:
        specs: Named firms, in order.
        city_names: City names; ``hq`` is stored as an index into this list.
        n_synthetic: Size of the synthetic long tail.
        synthetic: Parameters of the tail's distribution.
        rng: The model's random generator (used for the tail only).
    """

    def __init__(
        self,
        *,
        specs: dict[str, FirmSpec],
        city_names: list[str],
        n_synthetic: int,
        synthetic: SyntheticParams,
        rng: np.random.Generator,
    ) -> None:
        named = list(specs.values())
        self.names: list[str] = list(specs)
        self.n_named = len(named)
        self.n = self.n_named + n_synthetic
        sectors = sorted({f.sector for f in named} | ({"other"} if n_synthetic else set()))
        self.sector_names = sectors
        city_index = {c: i for i, c in enumerate(city_names)}

        def col(values: list[float], tail: FloatArray | float) -> FloatArray:
            head = np.asarray(values, dtype=float)
            return np.concatenate([head, np.broadcast_to(tail, (n_synthetic,)).astype(float)])

        m = n_synthetic
        rev_tail = synthetic.revenue_median_cny_bn * np.exp(
            rng.normal(0.0, synthetic.revenue_sigma, m)
        )
        hq_tail = rng.integers(0, len(city_names), m) if city_names else np.zeros(m, dtype=int)
        listed_tail = rng.random(m) < synthetic.listed_share
        exposure_tail = rng.uniform(0.05, 0.6, (m, len(DOMAINS)))
        self.hq: IntArray = np.concatenate(
            [np.array([city_index[f.hq] for f in named], dtype=np.int64), hq_tail.astype(np.int64)]
        )
        self.sector: IntArray = np.concatenate(
            [
                np.array([sectors.index(f.sector) for f in named], dtype=np.int64),
                np.full(m, sectors.index("other") if m else 0, dtype=np.int64),
            ]
        )
        self.revenue: FloatArray = col([f.revenue_cny_bn for f in named], rev_tail)
        self.growth: FloatArray = col([f.revenue_growth for f in named], rng.normal(0.1, 0.1, m))
        self.domestic_share: FloatArray = col([f.domestic_share for f in named], 0.95)
        self.margin: FloatArray = col([f.margin for f in named], rng.normal(0.08, 0.05, m))
        self.cash: FloatArray = col([f.cash_cny_bn for f in named], rev_tail * 0.2)
        self.market_value: FloatArray = col(
            [f.market_value_usd_bn for f in named], rev_tail * synthetic.value_to_revenue
        )
        self.listed: BoolArray = np.concatenate(
            [np.array([f.listed for f in named], dtype=bool), listed_tail]
        )
        self.exposure: FloatArray = np.vstack(
            [
                np.array(
                    [[f.exposure.get(d, 0.1) for d in DOMAINS] for f in named], dtype=float
                ).reshape(len(named), len(DOMAINS)),
                exposure_tail,
            ]
        )
        # Compliance starts at the level each firm's effort sustains (sim.model.initial_state).
        self.compliance: FloatArray = np.zeros(self.n)
        self.alignment: FloatArray = col([f.alignment for f in named], rng.uniform(0.3, 0.6, m))
        self.rd_intensity: FloatArray = col(
            [f.rd_intensity for f in named], rng.uniform(0.02, 0.12, m)
        )
        compute = col([f.compute for f in named], rev_tail / 500.0)
        foreign = col([f.foreign_chip_share for f in named], 0.9)
        self.compute_foreign: FloatArray = compute * foreign
        self.compute_domestic: FloatArray = compute * (1.0 - foreign)
        # Compute units bought per billion CNY of R&D and taste for domestic chips: solved at
        # the start so that purchases hold each firm's recorded stock and share at rest.
        self.compute_intensity: FloatArray = np.zeros(self.n)
        self.chip_taste: FloatArray = np.zeros(self.n)
        self.ai_capability: FloatArray = col([f.ai_capability for f in named], rev_tail / 500.0)
        self.chip_maker: BoolArray = np.concatenate(
            [np.array([f.chip_maker for f in named], dtype=bool), np.zeros(m, dtype=bool)]
        )
        self.golden_share: BoolArray = np.concatenate(
            [np.array([f.golden_share for f in named], dtype=bool), np.zeros(m, dtype=bool)]
        )
        self.strikes: FloatArray = np.zeros(self.n)
        self.sanction_memory: FloatArray = np.zeros(self.n)
        self.freeze_until: IntArray = np.zeros((self.n, len(FREEZE_KINDS)), dtype=np.int64)
        self.deal_boost: FloatArray = np.zeros(self.n)
        self.split: FloatArray = np.zeros((self.n, len(USES)))
        self.rd_spend: FloatArray = np.zeros(self.n)
        self.listed_abroad: BoolArray = np.concatenate(
            [np.array([f.listed_abroad for f in named], dtype=bool), np.zeros(m, dtype=bool)]
        )
        # Valuation (sim.model.valuation): investors' discount rate and the expected margin
        # they price in, solved at the start.
        self.discount_rate: FloatArray = np.zeros(self.n)
        self.value_margin: FloatArray = np.zeros(self.n)
        self.revenue0: FloatArray = self.revenue.copy()
        self.ai_capability0: float = float(self.ai_capability.sum())

    # -- derived quantities -------------------------------------------------------------------

    def frozen(self, month: int) -> BoolArray:
        """Return, per firm and freeze kind, whether a freeze is in force at ``month``."""
        return self.freeze_until > month

    def blocked(self, month: int) -> BoolArray:
        """Return, per firm, whether an app removal or a licence freeze is in force at ``month``."""
        # Either freeze in force: the later of the two ends is after ``month``.
        return np.maximum(self.freeze_until[:, 1], self.freeze_until[:, 2]) > month

    def compute_total(self) -> FloatArray:
        """Return each firm's compute stock."""
        return self.compute_foreign + self.compute_domestic

    def foreign_share(self) -> FloatArray:
        """Return each firm's foreign share of its compute stock (0 when it has none)."""
        total = self.compute_total()
        return np.divide(self.compute_foreign, total, out=np.zeros(self.n), where=total > 0)

    # -- rules ----------------------------------------------------------------------------------

    def allocate_budget(
        self,
        pressure: FloatArray,
        expected_cost: FloatArray,
        support: float,
        self_reliance: float,
        month: int,
        params: FirmParams,
    ) -> FloatArray:
        """Split the policy-sensitive budget among compliance, R&D, expansion and engagement.

        From ``params.base_split``: expected enforcement cost over own compliance cost (budget
        share x base compliance weight) and strikes shift weight to compliance, pressure to
        engagement, support to expansion, the self-reliance push (x alignment) to R&D; a freeze of
        apps or licences blocks expansion; without cash a firm keeps ``cash_constraint`` of it.

        Args:
            pressure: Regulatory pressure on each firm.
            expected_cost: Expected enforcement cost, share of revenue a year (enforcement_risk).
            support: Central support for the platform economy (1 - effective stringency).
            self_reliance: Effective self-reliance policy.
            month: Current month index (for freezes).
            params: Firm parameters.

        Returns:
            Shares, shape (n, 4), rows summing to 1.
        """
        base = params.base_split
        blocked = self.blocked(month)
        # One row per use (contiguous); ``split`` is its transpose, shape (n, 4).
        w = np.empty((len(USES), self.n))
        own_cost = max(params.budget_share * base[0] / max(sum(base), 1e-12), 1e-12)
        w[0] = base[0] * (1.0 + params.pressure_response * expected_cost / own_cost + self.strikes)
        w[1] = base[1] * (1.0 + self_reliance * self.alignment)
        w[2] = base[2] * (1.0 + params.support_response * support) * np.where(blocked, 0.1, 1.0)
        w[2] *= np.where(self.cash > 0.0, 1.0, params.cash_constraint)
        w[3] = base[3] * (1.0 + pressure)
        total = w[0] + w[1]
        total += w[2]
        total += w[3]
        positive = total > 0
        if positive.all():
            w /= total
        else:
            np.divide(w, total, out=w, where=positive)
            w[:, ~positive] = 0.25
        self.split = w.T
        return self.split

    def update_compliance(self, params: FirmParams) -> None:
        """Compliance rises with compliance effort and erodes without it."""
        effort = self.split[:, 0]
        c = self.compliance
        c += params.compliance_efficiency * effort * (1.0 - c) - params.compliance_decay * c
        np.clip(c, 0.0, 1.0, out=c)

    def update_alignment(self, self_reliance: float, params: FirmParams) -> None:
        """Alignment drifts toward the state's self-reliance push, faster under a golden share."""
        rate = params.alignment_drift * np.where(self.golden_share, 2.0, 1.0)
        self.alignment += rate * (self_reliance - self.alignment)
        np.clip(self.alignment, 0.0, 1.0, out=self.alignment)

    def grow(self, month: int, gdp_growth: float, params: FirmParams) -> None:
        """Advance revenue one month; expansion raises growth and antitrust exposure.

        Args:
            month: Current month index.
            gdp_growth: Annual GDP growth.
            params: Firm parameters.
        """
        base_expansion = params.base_split[2] / max(sum(params.base_split), 1e-12)
        extra = self.split[:, 2] - base_expansion
        annual = (
            self.growth
            + params.macro_beta * (gdp_growth - 0.06)
            + params.expansion_growth * extra
            - params.freeze_growth_penalty * self.blocked(month)
            + self.deal_boost
        )
        self.revenue *= np.power(np.maximum(1.0 + annual, 0.05), 1.0 / 12.0)
        self.growth += params.growth_reversion * (params.long_run_growth - self.growth)
        self.deal_boost *= 0.95
        exp = self.exposure[:, ANTITRUST]
        exp += params.expansion_exposure * extra
        np.clip(exp, 0.0, 1.0, out=exp)

    def spend(self, params: FirmParams) -> FloatArray:
        """Book the month's operating cash flow and R&D spend; return R&D spend (billion CNY).

        Cash may fall below zero (the firm borrows); fines and losses are never written off.
        """
        monthly = self.revenue / 12.0
        self.rd_spend = monthly * (self.rd_intensity + params.budget_share * self.split[:, 1])
        self.cash += monthly * self.margin
        return self.rd_spend

    def buy_compute(self, market: ChipMarket, params: ChipParams) -> tuple[float, float]:
        """Buy compute where supply allows; return (foreign, domestic) spend.

        Demand is :meth:`ChipMarket.demand`; domestic demand is served up to the makers' capacity
        (:meth:`ChipMarket.clear`); under a sourcing rule a buyer takes no more foreign units than
        the rule allows beside the domestic units it got. Buyers pay for what they buy; the
        domestic part goes to the chip makers (:meth:`pay_chip_makers`), the rest is imports.

        Args:
            market: This month's chip market (its fill rate and output are updated).
            params: Chip parameters.

        Returns:
            Spend on foreign and on domestic compute, billion CNY.
        """
        units, available, demand = market.demand(
            self.rd_spend, self.alignment, params, self.compute_intensity, self.chip_taste
        )
        domestic = demand * market.clear(float(demand.sum()))
        r = market.required_domestic
        foreign = np.minimum(available, domestic * (1.0 - r) / r) if r > 0.0 else available
        wanted = float(units.sum())
        unserved = float((demand - domestic).sum() + (available - foreign).sum())
        market.shortfall_share = unserved / wanted if wanted > 0.0 else 0.0
        keep = 1.0 - params.depreciation
        self.compute_foreign = self.compute_foreign * keep + foreign
        self.compute_domestic = self.compute_domestic * keep + domestic
        price = params.compute_price_cny_bn
        self.cash -= (foreign + domestic) * price
        return float(foreign.sum()) * price, float(domestic.sum()) * price

    def pay_chip_makers(self, domestic_cny_bn: float) -> float:
        """Pay domestic chip spend to the chip makers by size; return what was paid (0: none)."""
        makers = np.flatnonzero(self.chip_maker)
        if not makers.size or domestic_cny_bn <= 0.0:
            return 0.0
        share = np.sqrt(self.revenue0[makers])
        self.cash[makers] += domestic_cny_bn * share / share.sum()
        return domestic_cny_bn

    def update_capability(self, performance_gap: float, params: ChipParams) -> None:
        """AI capability accumulates from effective compute (domestic chips count less)."""
        effective = self.compute_foreign + self.compute_domestic * (1.0 - performance_gap)
        a = self.ai_capability
        a += params.capability_rate * np.sqrt(effective) - params.capability_decay * a

    def effective_compute(self, performance_gap: float) -> FloatArray:
        """Return each firm's compute in foreign-equivalent units."""
        return self.compute_foreign + self.compute_domestic * (1.0 - performance_gap)

    def hhi(self) -> float:
        """Return the revenue-weighted mean Herfindahl-Hirschman index of sectors (0-10,000)."""
        sector_rev = np.bincount(
            self.sector, weights=self.revenue, minlength=len(self.sector_names)
        )
        shares = self.revenue / sector_rev[self.sector]
        hhi_sector = np.bincount(self.sector, weights=shares**2, minlength=len(self.sector_names))
        weights = sector_rev / sector_rev.sum()
        return float(10_000.0 * (weights * hhi_sector).sum())


class PlatformFirm(mesa.Agent):
    """A platform firm: a Mesa agent whose state is a row of the :class:`FirmPopulation`.

    Args:
        model: The model.
        name: The firm's name.
        row: Its row in ``model.firms``.
    """

    def __init__(self, model: PolicyModel, *, name: str, row: int) -> None:
        super().__init__(model)
        self.name = name
        self.row = row

    @property
    def _pop(self) -> FirmPopulation:
        return self.model.firms

    @property
    def compliance(self) -> float:
        """Compliance c in [0, 1]."""
        return float(self._pop.compliance[self.row])

    @property
    def alignment(self) -> float:
        """Alignment with state goals a in [0, 1]."""
        return float(self._pop.alignment[self.row])

    @property
    def cash_cny_bn(self) -> float:
        """Cash, billion CNY."""
        return float(self._pop.cash[self.row])

    @property
    def revenue_cny_bn(self) -> float:
        """Annual revenue, billion CNY."""
        return float(self._pop.revenue[self.row])

    @property
    def market_value_usd_bn(self) -> float:
        """Market (or private) value, billion US$."""
        return float(self._pop.market_value[self.row])

    @property
    def listed(self) -> bool:
        """Whether the firm is listed."""
        return bool(self._pop.listed[self.row])

    @property
    def golden_share(self) -> bool:
        """Whether a state golden share is held in the firm."""
        return bool(self._pop.golden_share[self.row])

    @property
    def foreign_compute_share(self) -> float:
        """Foreign share of the firm's compute stock."""
        return float(self._pop.foreign_share()[self.row])

    @property
    def discount_rate(self) -> float:
        """Investors' discount rate on the firm, per year."""
        return float(self._pop.discount_rate[self.row])

    def state(self) -> dict[str, float | str | bool]:
        """Return the firm's main state variables as a flat mapping."""
        return {
            "firm": self.name,
            "revenue_cny_bn": self.revenue_cny_bn,
            "cash_cny_bn": self.cash_cny_bn,
            "market_value_usd_bn": self.market_value_usd_bn,
            "listed": self.listed,
            "compliance": self.compliance,
            "alignment": self.alignment,
            "golden_share": self.golden_share,
            "foreign_compute_share": self.foreign_compute_share,
            "discount_rate": self.discount_rate,
        }
