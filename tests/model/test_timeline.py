"""The timeline: compiling events to months and applying each kind of event."""

from __future__ import annotations

import pytest

from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.model.timeline import (
    STATE_EVENTS,
    TimedEvent,
    apply_event,
    compile_timeline,
    compiled_timeline,
)
from sim.scenario.events import (
    ExportControlEvent,
    FundCapitalEvent,
    GoldenShareEvent,
    MacroEvent,
    SignalEvent,
    SourcingRuleEvent,
    StanceEvent,
)
from tests.helpers import model, quiet, scenario, short


def test_events_are_grouped_by_month_in_scenario_order() -> None:
    sc = scenario("crackdown")
    before, by_month = compile_timeline(sc)
    assert before == []
    assert sorted(by_month) == list(by_month)  # months ascending
    keys = [t.key for events in by_month.values() for t in events]
    assert sorted(keys) == sorted(sc.timeline)
    july = [t.key for t in by_month[18]]
    order = [k for k in sc.timeline if k in july]
    assert july == order
    for month, events in by_month.items():
        assert all(t.month == month for t in events)


def test_listings_go_after_a_listing_halt_in_the_same_month() -> None:
    by_month = compile_timeline(scenario("crackdown"))[1]
    november = [t.key for t in by_month[10]]
    assert november.index("ant_ipo_halt") < november.index("ant_ipo")
    assert november[-1] == "ant_ipo"


@pytest.mark.parametrize("halt_first", [True, False])
def test_a_halt_blocks_a_same_month_listing_in_either_order(halt_first: bool) -> None:
    halt = ("timeline.t_halt={date: 2020-02, type: freeze, firm: Kuaishou, regulator: CAC, "
            "kind: listing_halt, months: 12}")  # fmt: skip
    listing = "timeline.t_list={date: 2020-02, type: listing, firm: Kuaishou}"
    events = (halt, listing) if halt_first else (listing, halt)
    m = PolicyModel(scenario=short("baseline", *quiet(), *events, months=4), rng=0)
    for _ in range(4):
        m.step()
    assert not m.firms.listed[m.firm_row("Kuaishou")]


def test_state_events_before_the_start_are_applied_and_one_offs_skipped() -> None:
    sc = scenario("crackdown", "start=2021-01", "months=6")
    before, by_month = compile_timeline(sc)
    keys = [t.key for t in before]
    assert {"stance_crackdown", "ant_ipo", "cambricon_listing", "macro_2020_rally"} <= set(keys)
    assert "ant_ipo_halt" in keys  # a freeze still in force at the start
    assert not {"bund_summit", "alibaba_probe"} & set(keys)
    assert all(t.event.type in STATE_EVENTS or t.event.type == "freeze" for t in before)
    assert [t.month for t in before] == sorted(t.month for t in before)
    assert all(t.month < 0 for t in before)
    assert min(by_month) >= 0
    m = PolicyModel(scenario=sc, rng=0)
    assert m.influence.position[0, 0] == sc.timeline["stance_crackdown"].platform_stringency
    assert m.firms.listed[m.firm_row("Cambricon")]
    ant = m.firm_row("Ant Group")
    assert not m.firms.listed[ant]  # its halt (Nov 2020, 60 months) still blocks the listing
    assert m.firms.freeze_until[ant, 0] == 60 - 2  # what is left of it at Jan 2021
    assert m.gdp_growth == sc.timeline["macro_2020_rally"].gdp_growth
    assert m.flows == {}  # nothing booked before the first month


def test_events_after_the_end_never_apply() -> None:
    sc = short("crackdown", *quiet("crackdown"), months=6)
    result = run_scenario(sc, 0)
    assert result.timeseries["central_stance"].nunique() == 1
    assert result.timeseries["golden_shares"].max() == 0


def test_an_event_applies_in_its_own_month() -> None:
    sc = short("baseline", *quiet(),
               "timeline.t_stance={date: 2020-06, type: stance, platform_stringency: 0.8, "
               "self_reliance: 0.4}", months=8)  # fmt: skip
    stance = run_scenario(sc, 0).timeseries["central_stance"].tolist()
    assert stance[:5] == [stance[0]] * 5
    assert stance[5:] == [0.8] * 3


def _apply(m: PolicyModel, event: object) -> None:
    apply_event(m, TimedEvent("test", m.month, event))  # type: ignore[arg-type]


def test_stance_macro_and_signal_events() -> None:
    m = model()
    _apply(m, StanceEvent(date="2020-01", type="stance", platform_stringency=0.7,
                          self_reliance=0.9))  # fmt: skip
    assert tuple(m.influence.position[0]) == (0.7, 0.9)
    assert tuple(m.influence.anchor[0]) == (0.7, 0.9)
    _apply(m, MacroEvent(date="2020-01", type="macro", gdp_growth=0.01, risk_appetite=-0.5))
    assert (m.gdp_growth, m.risk_appetite) == (0.01, -0.5)
    _apply(m, SignalEvent(date="2020-01", type="signal", strength=0.4, half_life_months=2))
    m._update_signal()
    assert m.signal == pytest.approx(0.4)
    m.month += 2
    m._update_signal()
    assert m.signal == pytest.approx(0.2)


def test_chip_events() -> None:
    m = model()
    _apply(m, ExportControlEvent(date="2020-01", type="export_control", blocked_share=0.75))
    assert m.chips.blocked_share == 0.75
    _apply(m, SourcingRuleEvent(date="2020-01", type="sourcing_rule",
                                domestic_share_required=0.5, power_subsidy=0.3))  # fmt: skip
    assert (m.chips.required_domestic, m.chips.power_subsidy) == (0.5, 0.3)
    capital = m.fund("BigFund").capital_cny_bn
    _apply(m, FundCapitalEvent(date="2020-01", type="fund_capital", fund="BigFund",
                               capital_cny_bn=344))  # fmt: skip
    assert m.fund("BigFund").capital_cny_bn == pytest.approx(capital + 344)


def test_golden_share_event() -> None:
    m = model()
    _apply(m, GoldenShareEvent(date="2020-01", type="golden_share", firm="ByteDance",
                               fund="CIIF"))  # fmt: skip
    assert m.firm("ByteDance").golden_share


def test_a_timeline_fine_closes_an_open_investigation_of_the_firm() -> None:
    sc = short("baseline", *quiet(),
               "timeline.t_probe={date: 2020-01, type: investigation, firm: Alibaba, "
               "regulator: SAMR, months: 6}",
               "timeline.t_fine={date: 2020-03, type: fine, firm: Alibaba, regulator: SAMR, "
               "share_of_revenue: 0.04}", months=8)  # fmt: skip
    ts = run_scenario(sc, 0).timeseries
    assert ts["open_investigations"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    assert ts["fines_count"].sum() == 1


def test_the_compiled_timeline_is_kept_per_scenario() -> None:
    sc = scenario("crackdown", "start=2021-01", "months=6")
    before, by_month = compile_timeline(sc)
    kept_before, kept_by_month = compiled_timeline(sc)
    assert list(kept_before) == before
    assert {k: list(v) for k, v in kept_by_month.items()} == by_month
    assert compiled_timeline(sc)[1] is kept_by_month  # compiled once for this scenario
    assert all(isinstance(events, tuple) for events in kept_by_month.values())
    other = sc.model_copy()
    assert compiled_timeline(other)[1] is not kept_by_month  # another scenario object
