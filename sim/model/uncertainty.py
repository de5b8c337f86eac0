"""Regulatory uncertainty as investors read it: policy volatility plus recent sanctions.

``uncertainty = volatility_scale * volatility + tanh(market_memory / sanction_saturation)``, where
the volatility is an exponentially weighted mean of the monthly change in the effective platform
stringency (an easing move weighs ``easing_weight`` of a tightening one) and the market memory
sums the sanctions investors have seen, weighted by the sanctioned firm's size and fading with
``sanction_halflife``. Investors add ``b_uncertainty`` x uncertainty to their discount rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.params import ValuationParams

__all__ = ["Uncertainty"]


@dataclass
class Uncertainty:
    """The state behind regulatory uncertainty.

    Attributes:
        volatility: Weighted mean monthly policy change.
        market_memory: Size-weighted memory of sanctions.
    """

    volatility: float = 0.0
    market_memory: float = 0.0

    def record(self, weight: float, size: float) -> None:
        """Remember a sanction of signal ``weight`` on a firm of relative ``size``."""
        self.market_memory += weight * size

    def update(self, policy_change: float, params: ValuationParams) -> float:
        """Advance one month with the effective stringency's change; return the uncertainty."""
        decay = 0.5 ** (1.0 / params.uncertainty_halflife)
        change = policy_change if policy_change > 0 else -params.easing_weight * policy_change
        self.volatility = decay * self.volatility + (1.0 - decay) * change
        self.market_memory *= 0.5 ** (1.0 / params.sanction_halflife)
        return self.level(params)

    def settle(self, monthly_weight: float, params: ValuationParams) -> float:
        """Set the market memory to the level a steady sanction inflow holds; return uncertainty.

        Each month sanctions add ``monthly_weight`` (signal weight x size) and the memory then
        fades by ``keep = 0.5 ** (1 / sanction_halflife)``: it rests at ``keep * monthly_weight /
        (1 - keep)``.

        Args:
            monthly_weight: Expected size-weighted sanction weight a month.
            params: Valuation parameters.
        """
        keep = 0.5 ** (1.0 / params.sanction_halflife)
        self.market_memory = keep * monthly_weight / (1.0 - keep)
        return self.level(params)

    def level(self, params: ValuationParams) -> float:
        """Return the uncertainty of the current volatility and market memory."""
        return params.volatility_scale * self.volatility + float(
            np.tanh(self.market_memory / params.sanction_saturation)
        )
