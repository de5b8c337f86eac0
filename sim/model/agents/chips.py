"""The AI-chip market the firms buy compute in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ChipMarket:
    """Conditions of the AI-chip market this month.

    Attributes:
        blocked_share: Share of foreign supply blocked by export controls.
        required_domestic: Minimum domestic share of new purchases (state sourcing rule).
        power_subsidy: Price discount on domestic compute.
        performance_gap: Shortfall of domestic chips' performance (narrowed by the chip fund).
        self_reliance: Effective self-reliance policy.
    """

    blocked_share: float
    required_domestic: float
    power_subsidy: float
    performance_gap: float
    self_reliance: float
