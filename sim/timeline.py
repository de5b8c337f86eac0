"""The scenario timeline compiled to months, and the application of its events to a model.

Events are grouped by month index (0 = the scenario's ``start``), in the order they appear in the
scenario within a month. Events dated before ``start`` that set a state (stance, macro conditions,
export controls, sourcing rules, listings, golden shares, fund capital) are applied before the first
month in date order; one-off events dated before ``start`` (fines, freezes, investigations, deals,
signals) are in the past and skipped. A fine or freeze imposed by the timeline closes the
regulator's open investigation of that firm, if any (the sanction is how the case closed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.schema import Event, Scenario, month_index

if TYPE_CHECKING:
    from sim.model import PolicyModel

log = logging.getLogger(__name__)

STATE_EVENTS = frozenset(
    {
        "stance",
        "macro",
        "export_control",
        "sourcing_rule",
        "listing",
        "golden_share",
        "fund_capital",
    }
)


@dataclass(frozen=True)
class TimedEvent:
    """An event with its key and month index."""

    key: str
    month: int
    event: Event


def compile_timeline(scenario: Scenario) -> tuple[list[TimedEvent], dict[int, list[TimedEvent]]]:
    """Split the timeline into events applied before the start and events by month.

    Args:
        scenario: The scenario.

    Returns:
        The pre-start state events (date order) and a map from month index to its events.
    """
    timed = [
        TimedEvent(key, month_index(ev.date, scenario.start), ev)
        for key, ev in scenario.timeline.items()
    ]
    before = sorted((t for t in timed if t.month < 0 and t.event.type in STATE_EVENTS),
                    key=lambda t: t.month)  # fmt: skip
    by_month: dict[int, list[TimedEvent]] = defaultdict(list)
    for t in sorted((t for t in timed if t.month >= 0), key=lambda t: t.month):
        by_month[t.month].append(t)
    return before, dict(by_month)


def apply_event(model: PolicyModel, timed: TimedEvent) -> None:
    """Apply one timeline event to the model.

    Args:
        model: The model.
        timed: The event.
    """
    ev = timed.event
    m = model
    if ev.type == "stance":
        m.influence.set_center((ev.platform_stringency, ev.self_reliance))
    elif ev.type == "macro":
        m.gdp_growth = ev.gdp_growth
        m.risk_appetite = ev.risk_appetite
    elif ev.type == "signal":
        m.add_signal(ev.strength, ev.half_life_months)
    elif ev.type == "export_control":
        m.chips.blocked_share = ev.blocked_share
        m.export_control_tier = ev.tier
    elif ev.type == "sourcing_rule":
        m.chips.required_domestic = ev.domestic_share_required
        m.chips.power_subsidy = ev.power_subsidy
    elif ev.type == "fund_capital":
        m.fund(ev.fund).add_capital(ev.capital_cny_bn)
    elif ev.type == "fine":
        regulator, row = m.regulator(ev.regulator), m.firm_row(ev.firm)
        regulator.investigations.pop(row, None)  # the imposed fine closes any open case
        regulator.impose_fine(
            row, share_of_revenue=ev.share_of_revenue, amount_cny_bn=ev.amount_cny_bn
        )
    elif ev.type == "freeze":
        regulator, row = m.regulator(ev.regulator), m.firm_row(ev.firm)
        regulator.investigations.pop(row, None)
        regulator.impose_freeze(row, ev.kind, ev.months)
    elif ev.type == "investigation":
        m.regulator(ev.regulator).open_investigation(m.firm_row(ev.firm), ev.months)
    elif ev.type == "golden_share":
        m.fund(ev.fund).take_stake(m.firm_row(ev.firm))
    elif ev.type == "listing":
        m.list_firm(m.firm_row(ev.firm), ev.market_value_usd_bn, timed.key)
    elif ev.type == "deal":
        city = m.city(ev.city)
        subsidy = m.params.cities.subsidy_share * ev.amount_cny_bn
        city.budget_cny_bn -= subsidy
        m.sign_deal(city, m.firm_row(ev.firm), ev.amount_cny_bn, subsidy)
