"""The scenario timeline compiled to months, and the application of its events to a model.

Events are grouped by month index (0 = the scenario's ``start``), in the order they appear in the
scenario within a month, except that listings come last in their month (after any listing halt).
Events dated before ``start`` that set a state (stance, macro conditions, export controls, sourcing
rules, listings, golden shares, fund capital) are applied before the first month in date order,
and so is a freeze still in force at ``start`` (for the months it has left); other events dated
before ``start`` (fines, investigations, deals, signals, expired freezes) are in the past and
skipped. A fine or freeze imposed by the timeline closes the regulator's open
investigation of that firm, if any (the sanction is how the case closed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.model import start_cache
from sim.scenario.base import month_index
from sim.scenario.events import Event
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

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
    # Listings go last in their month, so that a listing halt dated the same month (Ant Group,
    # Nov 2020) is in force when the listing is attempted, whatever the order of the files.
    def order(t: TimedEvent) -> tuple[int, bool]:
        return t.month, t.event.type == "listing"

    before = sorted((t for t in timed if t.month < 0 and _in_force_at_start(t)), key=order)
    by_month: dict[int, list[TimedEvent]] = defaultdict(list)
    for t in sorted((t for t in timed if t.month >= 0), key=order):
        by_month[t.month].append(t)
    return before, dict(by_month)


#: A compiled timeline to read only: :func:`compile_timeline`'s, the events in tuples.
Compiled = tuple[tuple[TimedEvent, ...], Mapping[int, tuple[TimedEvent, ...]]]


def compiled_timeline(scenario: Scenario) -> Compiled:
    """Return :func:`compile_timeline` of ``scenario``, compiled once a scenario, to read only.

    Every model of a scenario reads the same events: the compiled timeline is kept
    (:func:`sim.model.start_cache.per_scenario`) and shared, so none may change it.
    """
    return start_cache.per_scenario(scenario, _compile_to_tuples)


def _compile_to_tuples(scenario: Scenario) -> Compiled:
    before, by_month = compile_timeline(scenario)
    return tuple(before), {k: tuple(v) for k, v in by_month.items()}


def _in_force_at_start(timed: TimedEvent) -> bool:
    """Tell whether an event dated before the start still shapes the first month."""
    ev = timed.event
    if ev.type == "freeze":
        return timed.month + ev.months > 0
    return ev.type in STATE_EVENTS


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
        if ev.growth_target is not None:
            m.centre.growth_target = ev.growth_target
    elif ev.type == "signal":
        m.add_signal(ev.strength, ev.half_life_months, ev.belief)
    elif ev.type == "export_control":
        m.chips.blocked_share = ev.blocked_share
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
        # A freeze imposed before the start runs for what is left of it.
        regulator.impose_freeze(row, ev.kind, ev.months + min(timed.month, 0))
    elif ev.type == "investigation":
        m.regulator(ev.regulator).open_investigation(m.firm_row(ev.firm), ev.months)
    elif ev.type == "golden_share":
        m.fund(ev.fund).take_stake(m.firm_row(ev.firm))
    elif ev.type == "listing":
        m.list_firm(m.firm_row(ev.firm), ev.market_value_usd_bn, timed.key)
    elif ev.type == "deal":
        city = m.city(ev.city)
        # The city pays the subsidy from what its budget holds; the investment happens anyway.
        subsidy = min(m.params.cities.subsidy_share * ev.amount_cny_bn, max(city.budget_cny_bn, 0))
        city.budget_cny_bn -= subsidy
        m.sign_deal(city, m.firm_row(ev.firm), ev.amount_cny_bn, subsidy)
