"""The declared policy levers: what a lever study moves, by how much, and what it should do.

Each :class:`Lever` names scenario fields by a path pattern (``*`` matches every actor or event
key at that level, ``where`` keeps the mappings whose fields have the given values), a step down
and a step up (a factor, or an amount added) and, for each headline outcome an analyst would
confidently predict, the sign of the change expected when the lever goes up. ``sim levers``
(:mod:`sim.experiments.levers`) moves each lever down and up on its own, on paired seeds, and
:mod:`sim.analysis.levers` compares the measured changes with these expectations.

The table is declared here and nowhere else: the study, its figures, ``docs/levers.md`` and the
dead-lever tests all read :data:`LEVERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["down", "up"]
DIRECTIONS: tuple[Direction, Direction] = ("down", "up")

MARKET_VALUE = "final_market_value_usd"
DRAWDOWN = "max_drawdown"
FINES = "total_fines_count"
FINES_VALUE = "total_fines_value_usd"
COMPLIANCE = "final_mean_compliance"
DEALS = "total_deals_signed"
GOLDEN_SHARES = "final_golden_shares"
DOMESTIC_SHARE = "final_domestic_compute_share"
AI_CAPABILITY = "final_ai_capability"

OUTCOMES: tuple[str, ...] = (
    MARKET_VALUE, DRAWDOWN, FINES, FINES_VALUE, COMPLIANCE, DEALS, GOLDEN_SHARES, DOMESTIC_SHARE,
    AI_CAPABILITY,
)  # fmt: skip
"""The headline run-level outcomes a lever study measures (``summary.parquet`` columns)."""


@dataclass(frozen=True)
class Step:
    """How far a lever moves: a factor (``scale``) or an amount added (``shift``).

    Attributes:
        kind: ``scale`` multiplies the field's value, ``shift`` adds to it.
        down: Factor or amount of the step down.
        up: Factor or amount of the step up.
    """

    kind: Literal["scale", "shift"]
    down: float
    up: float

    def apply(self, value: float, direction: Direction) -> float:
        """Return ``value`` moved one step down or up (before any bound is applied)."""
        amount = self.down if direction == "down" else self.up
        return value * amount if self.kind == "scale" else value + amount

    def describe(self) -> str:
        """Return the step as text, e.g. ``x0.5 / x1.5`` or ``-0.1 / +0.1``."""
        if self.kind == "scale":
            return f"x{self.down:g} / x{self.up:g}"
        return f"{self.down:+g} / {self.up:+g}"


def scale(down: float, up: float) -> Step:
    """Return a step that multiplies the value by ``down`` or by ``up``."""
    return Step("scale", down, up)


def shift(by: float) -> Step:
    """Return a step that subtracts or adds ``by``."""
    return Step("shift", -by, by)


@dataclass(frozen=True)
class Lever:
    """A policy lever: a set of scenario fields moved together.

    Attributes:
        name: Short identifier (``sim levers --lever NAME``).
        label: What the lever is, in a policy analyst's words.
        path: Field path pattern, as for ``--set``; ``*`` matches every key at that level.
        step: The step down and up.
        expect: Sign (+1 or -1) of the change an analyst expects in each outcome when the lever
            goes up; outcomes without a confident expectation are left out.
        where: Keep only mappings whose fields have these values (e.g. ``{"type": "stance"}``).
        home: The shipped scenario where the lever's mechanism is at work: the dead-lever tests
            run it there.
    """

    name: str
    label: str
    path: str
    step: Step
    expect: Mapping[str, int]
    where: Mapping[str, str] = field(default_factory=dict)
    home: str = "crackdown"


_ENFORCEMENT = {MARKET_VALUE: -1, DRAWDOWN: +1, FINES: +1, FINES_VALUE: +1, COMPLIANCE: +1}
_FINE_SIZE = {MARKET_VALUE: -1, DRAWDOWN: +1, FINES_VALUE: +1, COMPLIANCE: +1}
_PREMIUM = {MARKET_VALUE: -1, DRAWDOWN: +1}
_HALF = scale(0.5, 1.5)
HISTORY = "history_2020_2025"

LEVERS: tuple[Lever, ...] = (
    # Enforcement: the regulators' rules.
    Lever("fine_rate", "Fine rate, every regulator", "regulators.*.fine_rate", _HALF,
          _FINE_SIZE),
    Lever("samr_fine_rate", "Fine rate, SAMR (antitrust)", "regulators.SAMR.fine_rate", _HALF,
          _FINE_SIZE),
    Lever("p_fine", "Propensity to fine", "regulators.*.p_fine", _HALF, _ENFORCEMENT),
    Lever("p_freeze", "Propensity to freeze", "regulators.*.p_freeze", _HALF,
          {MARKET_VALUE: -1, DRAWDOWN: +1, COMPLIANCE: +1}),
    Lever("capacity", "Enforcement capacity (investigations)", "regulators.*.capacity", _HALF,
          _ENFORCEMENT),
    Lever("freeze_months", "Freeze length", "regulators.*.freeze_months", _HALF,
          {MARKET_VALUE: -1, DRAWDOWN: +1}),
    Lever("regulator_position", "Regulators' preferred stringency",
          "regulators.*.position.platform_stringency", shift(0.15),
          {MARKET_VALUE: -1, FINES: +1}),
    # The centre's stance and the influence game.
    Lever("stance_stringency", "Central stance: platform stringency",
          "timeline.*.platform_stringency", shift(0.1),
          {MARKET_VALUE: -1, DRAWDOWN: +1, FINES: +1, COMPLIANCE: +1, DEALS: -1},
          where={"type": "stance"}),
    Lever("stance_self_reliance", "Central stance: self-reliance", "timeline.*.self_reliance",
          shift(0.1), {DOMESTIC_SHARE: +1}, where={"type": "stance"}, home="export_controls"),
    Lever("center_clout", "Clout of the central leadership", "params.influence.center_clout",
          _HALF, {MARKET_VALUE: -1, FINES: +1}),
    Lever("firm_clout", "Clout of the firms (lobbying)", "firms.*.clout", _HALF,
          {MARKET_VALUE: +1, FINES: -1}),
    # The free centre's rules (history: the centre is free, its turn comes from these weights).
    Lever("centre_speed", "Centre's speed of adjustment", "params.centre.speed", _HALF,
          {MARKET_VALUE: +1, DEALS: +1}, home=HISTORY),
    Lever("centre_priorities", "Centre's weight on its priorities (control, security)",
          "params.centre.priority_weight", _HALF, {MARKET_VALUE: -1, DEALS: -1}, home=HISTORY),
    Lever("centre_stakeholders", "Centre's weight on stakeholders' pressure",
          "params.centre.stakeholder_weight", _HALF, {MARKET_VALUE: +1, DEALS: +1}, home=HISTORY),
    Lever("centre_growth", "Centre's weight on the growth gap", "params.centre.growth_weight",
          _HALF, {DEALS: +1}, home=HISTORY),
    Lever("centre_jobs", "Centre's weight on the jobs gap", "params.centre.jobs_weight", _HALF,
          {MARKET_VALUE: -1}, home=HISTORY),
    Lever("centre_value", "Centre's weight on market value's fall", "params.centre.value_weight",
          _HALF, {MARKET_VALUE: +1, DRAWDOWN: -1, DEALS: +1}, home=HISTORY),
    Lever("centre_ai", "Centre's weight on the AI gap to rivals", "params.centre.ai_weight",
          _HALF, {DOMESTIC_SHARE: +1}, home=HISTORY),
    # Cities and state funds.
    Lever("city_budget", "City budgets for deals", "cities.*.budget_cny_bn", _HALF, {DEALS: +1}),
    Lever("golden_share_propensity", "Golden-share fund's propensity to take stakes",
          "funds.*.stake_propensity", _HALF, {GOLDEN_SHARES: +1},
          where={"kind": "golden_share"}),
    Lever("chip_fund_capital", "Chip fund's starting capital", "funds.*.capital_cny_bn", _HALF,
          {DOMESTIC_SHARE: +1, AI_CAPABILITY: +1}, where={"kind": "chip"},
          home="export_controls"),
    Lever("fund_injections", "New fund capital (timeline)", "timeline.*.capital_cny_bn", _HALF,
          {DOMESTIC_SHARE: +1, AI_CAPABILITY: +1}, where={"type": "fund_capital"},
          home="export_controls"),
    # Chips: export controls and the state's sourcing rules.
    Lever("blocked_share", "Export controls: share of foreign chips blocked",
          "timeline.*.blocked_share", shift(0.1),
          {DOMESTIC_SHARE: +1, AI_CAPABILITY: -1, MARKET_VALUE: -1},
          where={"type": "export_control"}, home="export_controls"),
    Lever("sourcing_rule", "Sourcing rule: required domestic share",
          "timeline.*.domestic_share_required", shift(0.1), {DOMESTIC_SHARE: +1},
          where={"type": "sourcing_rule"}, home="export_controls"),
    Lever("power_subsidy", "Sourcing rule: power subsidy for domestic compute",
          "timeline.*.power_subsidy", shift(0.1), {DOMESTIC_SHARE: +1},
          where={"type": "sourcing_rule"}, home="export_controls"),
    Lever("self_reliance_pull", "Firms' pull toward domestic chips",
          "params.chips.self_reliance_pull", _HALF, {DOMESTIC_SHARE: +1},
          home="export_controls"),
    Lever("domestic_price_ratio", "Price of domestic compute relative to foreign",
          "params.chips.domestic_price_ratio", scale(0.75, 1.25), {DOMESTIC_SHARE: -1},
          home="export_controls"),
    Lever("capacity_cost", "Chip-fund investment per unit of domestic chip supply",
          "params.chips.capacity_cost_cny_bn", _HALF, {DOMESTIC_SHARE: -1, AI_CAPABILITY: -1},
          home="export_controls"),
    Lever("learning_exponent", "Domestic chip makers' learning by doing",
          "params.chips.learning_exponent", _HALF, {DOMESTIC_SHARE: +1, AI_CAPABILITY: +1},
          home="export_controls"),
    # Investors: how policy risk is priced.
    Lever("b_uncertainty", "Investors' discount rate per unit of uncertainty",
          "params.valuation.b_uncertainty", _HALF, _PREMIUM),
    Lever("foreign_listing_jump", "Investors' foreign-listing risk per delisting threat",
          "params.valuation.foreign_listing_jump", _HALF, {MARKET_VALUE: -1}),
    Lever("b_export_control", "Investors' discount rate per unit of blocked chips",
          "params.valuation.b_export_control", _HALF, {MARKET_VALUE: -1},
          home="export_controls"),
)  # fmt: skip
"""Every declared lever, in the order tables and figures list them."""

LEVERS_BY_NAME: dict[str, Lever] = {lever.name: lever for lever in LEVERS}
