"""The AI-chip market the firms buy compute in.

Foreign supply is limited by export controls; domestic supply by a capacity that the chip fund's
investment and learning by doing expand. Firms state what they want to buy
(:meth:`ChipMarket.demand`); :meth:`ChipMarket.clear` serves domestic demand up to this month's
capacity, rationing every buyer by the same share when demand exceeds it. Compute that cannot be
had is not bought: its budget stays with the firm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.model import firm_kernels
from sim.scenario.params import ChipParams

FloatArray = NDArray[np.float64]


@dataclass
class ChipMarket:
    """Conditions and state of the AI-chip market.

    Attributes:
        blocked_share: Share of foreign supply blocked by export controls (a quantity limit).
        required_domestic: Minimum domestic share of new purchases (state sourcing rule).
        power_subsidy: Price discount on domestic compute.
        performance_gap: Shortfall of domestic chips' performance (narrowed by the chip fund).
        self_reliance: Effective self-reliance policy.
        capacity_units: Domestic makers' supply this month, units of compute.
        fund_invested_cny_bn: What the chip fund has invested in domestic chips so far.
        cumulative_units: Domestic units supplied since the start (learning by doing).
        fill_rate: Share of this month's domestic demand that was served.
        shortfall_share: Share of the compute firms wanted this month that they could not buy.
    """

    blocked_share: float
    required_domestic: float
    power_subsidy: float
    performance_gap: float
    self_reliance: float
    capacity_units: float = 0.0
    fund_invested_cny_bn: float = 0.0
    cumulative_units: float = 0.0
    fill_rate: float = 1.0
    shortfall_share: float = 0.0

    def update_capacity(self, params: ChipParams) -> None:
        """Set this month's domestic capacity from fund investment and cumulative output.

        Capacity is the initial capacity plus what the chip fund's investment has built
        (``capacity_cost_cny_bn`` per unit a month), times a learning curve: it grows by the
        factor ``2 ** learning_exponent`` each time cumulative output doubles past one year of
        initial capacity.
        """
        base = params.domestic_capacity_units
        built = base + self.fund_invested_cny_bn / params.capacity_cost_cny_bn
        year = 12.0 * base
        learning = 1.0
        if year > 0.0:
            learning = (max(self.cumulative_units, year) / year) ** params.learning_exponent
        self.capacity_units = built * learning

    def demand(
        self,
        rd_spend: FloatArray,
        alignment: FloatArray,
        params: ChipParams,
        intensity: FloatArray,
        taste: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray, float, float]:
        """Return each firm's units wanted, foreign units it can buy and domestic units it asks for.

        The preferred domestic share of purchases is a logit of the value gap (performance per
        price) plus the self-reliance pull (scaled by alignment) plus the buyer's own taste for
        domestic chips (solved at the start, :mod:`sim.model.initial_state`), raised to the rule's
        minimum. Export controls block a share of the foreign units wanted; buyers turn that
        demand to domestic makers.

        Args:
            rd_spend: Each firm's R&D spend this month, billion CNY.
            alignment: Each firm's alignment with the state.
            params: Chip parameters.
            intensity: Each firm's compute units bought per billion CNY of R&D spend.
            taste: Each firm's own taste for domestic chips (a shift of the logit).

        Returns:
            Units wanted, foreign units available, domestic units demanded (per firm), and the
            sums (``np.add.reduce``) of the units wanted and of the domestic units demanded.
        """
        price_d = params.domestic_price_ratio * (1.0 - self.power_subsidy)
        value_gap = (1.0 - self.performance_gap) / max(price_d, 1e-9) - 1.0
        # units = intensity * rd_spend; the logit
        # z = choice_sensitivity * value_gap + self_reliance_pull * (self_reliance * alignment
        # - 0.25) + taste, returned as -z for NumPy's exp (kernels: not compiled), taken in place.
        n = intensity.shape[0]
        units, exp_neg_z, foreign, domestic = np.empty((4, n))  # rows: one allocation, not four
        firm_kernels.chip_logit(
            intensity, rd_spend, alignment, taste, float(params.choice_sensitivity * value_gap),
            float(params.self_reliance_pull), float(self.self_reliance), units, exp_neg_z,
        )  # fmt: skip
        np.exp(exp_neg_z, out=exp_neg_z)
        # q = max(1 / (1 + exp(-z)), required_domestic); blocked foreign units turn domestic.
        wanted, demanded = firm_kernels.chip_orders(
            units, exp_neg_z, float(self.required_domestic), float(self.blocked_share), foreign,
            domestic,
        )  # fmt: skip
        return units, foreign, domestic, wanted, demanded

    def clear(self, domestic_demand: float) -> float:
        """Serve this month's domestic demand up to capacity; return the share served."""
        if domestic_demand <= 0.0:
            self.fill_rate = 1.0
        else:
            self.fill_rate = min(1.0, self.capacity_units / domestic_demand)
        self.cumulative_units += domestic_demand * self.fill_rate
        return self.fill_rate

