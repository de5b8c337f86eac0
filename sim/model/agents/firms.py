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

from sim.model import firm_kernels, sum_kernels
from sim.model.agents.chips import ChipMarket
from sim.model.buffers import KeptArrays
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
        # Column-major, so that a domain's column (read by the regulators and the expected-cost
        # pass, changed by ``grow``) is contiguous.
        self.exposure = np.asfortranarray(self.exposure)
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
        # Column-major too: the month's loops read a freeze kind's column, firm after firm.
        self.freeze_until: IntArray = np.zeros((self.n, len(FREEZE_KINDS)), np.int64, order="F")
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
        #: What the last :meth:`spend` added to the firms' total cash, billion CNY.
        self.operating_cash_cny_bn = 0.0
        self._makers: tuple[IntArray, FloatArray, float] | None = None
        #: The month's large temporaries, kept between months (sim.model.buffers).
        self.buffers = KeptArrays()

    # -- derived quantities -------------------------------------------------------------------

    def frozen(self, month: int) -> BoolArray:
        """Return, per firm and freeze kind, whether a freeze is in force at ``month``."""
        return self.freeze_until > month

    def chip_makers(self) -> tuple[IntArray, FloatArray, float]:
        """Return the chip makers' rows, their weights ``sqrt(starting revenue)`` and its sum.

        Which firms make chips and their starting revenue never change: computed once.
        """
        if self._makers is None:
            makers = self.chip_maker.nonzero()[0]
            share = np.sqrt(self.revenue0[makers])
            self._makers = (makers, share, float(share.sum()))
        return self._makers

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
        base = params.base_split  # floats (sim.scenario.params)
        # One row per use (contiguous, kept between months); ``split`` is its transpose, (n, 4).
        w = self.buffers.empty("budget split", (len(USES), self.n))
        own_cost = max(params.budget_share * base[0] / max(sum(base), 1e-12), 1e-12)
        firm_kernels.budget_split(
            w, expected_cost, self.strikes, self.alignment, pressure, self.cash,
            self.freeze_until, int(month), base[0], base[1], base[3],
            float(params.pressure_response), own_cost, float(self_reliance),
            base[2] * (1.0 + params.support_response * support), float(params.cash_constraint),
        )  # fmt: skip
        self.split = w.T
        return self.split

    def update_compliance(self, params: FirmParams) -> None:
        """Compliance rises with compliance effort and erodes without it."""
        # c += efficiency * effort * (1 - c) - decay * c, clipped to [0, 1]
        firm_kernels.compliance_step(self.compliance, self.split[:, 0],
                                float(params.compliance_efficiency),
                                float(params.compliance_decay))  # fmt: skip

    def update_alignment(self, self_reliance: float, params: FirmParams) -> None:
        """Alignment drifts toward the state's self-reliance push, faster under a golden share."""
        # a += drift * (2 with a golden share, else 1) * (self_reliance - a), clipped to [0, 1]
        firm_kernels.alignment_step(self.alignment, self.golden_share, float(self_reliance),
                               float(params.alignment_drift))  # fmt: skip

    def grow(self, month: int, gdp_growth: float, params: FirmParams) -> None:
        """Advance revenue one month; expansion raises growth and antitrust exposure.

        Args:
            month: Current month index.
            gdp_growth: Annual GDP growth.
            params: Firm parameters.
        """
        base_expansion = params.base_split[2] / max(sum(params.base_split), 1e-12)
        # extra = split[:, 2] - base_expansion; annual = growth + macro_beta * (gdp_growth - 0.06)
        # + expansion_growth * extra - freeze_growth_penalty * blocked + deal_boost; growth and
        # deal_boost revert; exposure[:, ANTITRUST] += expansion_exposure * extra (in [0, 1]).
        factor = np.empty(self.n)
        firm_kernels.growth_step(
            self.growth, self.deal_boost, self.split[:, 2], self.freeze_until,
            self.exposure[:, ANTITRUST], int(month), params.macro_beta * (gdp_growth - 0.06),
            float(base_expansion), float(params.expansion_growth),
            float(params.freeze_growth_penalty), float(params.growth_reversion),
            float(params.long_run_growth), float(params.expansion_exposure), factor,
        )  # fmt: skip
        # factor = np.maximum(1.0 + annual, 0.05); NumPy's power (kernels: not compiled).
        self.revenue *= np.power(factor, 1.0 / 12.0, out=factor)

    def spend(self, params: FirmParams) -> FloatArray:
        """Book the month's operating cash flow and R&D spend; return R&D spend (billion CNY).

        Cash may fall below zero (the firm borrows); fines and losses are never written off. The
        change of the firms' total cash is kept in ``operating_cash_cny_bn``.
        """
        # monthly = revenue / 12; rd_spend = monthly * (rd_intensity + budget_share * split[:, 1]);
        # cash += monthly * margin; np.sum(cash) after less np.sum(cash) before.
        self.rd_spend = np.empty(self.n)
        self.operating_cash_cny_bn = firm_kernels.spend_step(
            self.revenue, self.rd_intensity, self.split[:, 1], self.margin, self.cash,
            float(params.budget_share), self.rd_spend,
        )  # fmt: skip
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
        units, available, demand, wanted, demanded = market.demand(
            self.rd_spend, self.alignment, params, self.compute_intensity, self.chip_taste
        )
        fill = market.clear(demanded)
        price = params.compute_price_cny_bn
        # domestic = demand * fill; foreign = available, at most domestic * (1 - r) / r under a
        # sourcing rule r; stocks depreciate and grow by the purchases; cash pays for them.
        # Summed: foreign, domestic, demand - domestic and available - foreign.
        foreign, domestic, short_domestic, short_foreign = firm_kernels.chip_purchase(
            demand, available, float(fill), float(market.required_domestic),
            self.compute_foreign, self.compute_domestic, self.cash,
            1.0 - params.depreciation, float(price),
        )  # fmt: skip
        unserved = float(short_domestic + short_foreign)
        market.shortfall_share = unserved / wanted if wanted > 0.0 else 0.0
        return float(foreign) * price, float(domestic) * price

    def pay_chip_makers(self, domestic_cny_bn: float) -> float:
        """Pay domestic chip spend to the chip makers by size; return what was paid (0: none)."""
        if not self.chip_makers()[0].size or domestic_cny_bn <= 0.0:
            return 0.0
        firm_kernels.pay_shares(self.cash, *self.chip_makers(), domestic_cny_bn)
        return domestic_cny_bn

    def update_capability(self, performance_gap: float, params: ChipParams) -> None:
        """AI capability accumulates from effective compute (domestic chips count less)."""
        # effective = compute_foreign + compute_domestic * (1 - performance_gap);
        # a += capability_rate * sqrt(effective) - capability_decay * a
        firm_kernels.capability_step(
            self.ai_capability, self.compute_foreign, self.compute_domestic,
            1.0 - performance_gap, float(params.capability_rate), float(params.capability_decay),
        )  # fmt: skip

    def hhi(self) -> float:
        """Return the revenue-weighted mean Herfindahl-Hirschman index of sectors (0-10,000)."""
        # Each sector's revenue and sum of squared revenue shares (two np.bincount), then the
        # revenue-weighted sum of the latter.
        return float(sum_kernels.hhi(self.sector, self.revenue, len(self.sector_names)))


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
