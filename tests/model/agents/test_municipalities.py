"""Cities: growth gaps, deals, subsidies, lobbying and their invariants."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.agents.funds import GuidanceFund
from sim.model.agents.municipalities import Municipality
from sim.model.policy_model import PolicyModel
from sim.model.timeline import TimedEvent, apply_event
from sim.scenario.events import DealEvent
from tests.helpers import SHIPPED, model, run, scenario

# -- shared invariants ------------------------------------------------------------------------


def check_city_invariants(m: PolicyModel, deals_before: dict[str, int]) -> None:
    """Budgets within [0, annual budget], deal counts never fall, anchors and support in [0, 1]."""
    net = m.influence
    for city in m.cities:
        assert 0.0 <= city.budget_cny_bn <= city.spec.budget_cny_bn + 1e-9, city.name
        assert city.deals >= deals_before[city.name], city.name
        assert np.isfinite(city.growth_seen), city.name
        assert 0.0 <= city.support() <= 1.0, city.name
        assert 0.0 <= net.anchor[net.index[city.name], 0] <= 1.0, city.name


@pytest.mark.parametrize("name", SHIPPED)
def test_city_invariants_hold_every_month(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), rng=0)
    for _ in range(m.scenario.months):
        before = {c.name: c.deals for c in m.cities}
        m.step()
        check_city_invariants(m, before)
        assert sum(c.deals for c in m.cities) - sum(before.values()) == m.flows["deals_signed"]


# -- deals -----------------------------------------------------------------------------------


def _count_deals(city: Municipality, months: int, *, growth: float, stance: float) -> int:
    m = city.model
    m.gdp_growth = growth
    m.influence.set_center((stance, 0.4))
    deals = city.deals
    for _ in range(months):
        city.growth_seen = growth
        city.step()
    return city.deals - deals


def test_no_growth_gap_means_no_deals() -> None:
    city = model().city("Hangzhou")
    assert _count_deals(city, 100, growth=city.spec.growth_target + 0.02, stance=0.1) == 0


def test_a_strict_centre_means_no_deals() -> None:
    city = model().city("Beijing")
    assert city.spec.caution / city.model.params.cities.support_threshold >= 1.0
    assert _count_deals(city, 100, growth=0.0, stance=1.0) == 0
    assert city.support() == 0.0


def test_deals_are_more_likely_with_a_wider_growth_gap() -> None:
    scale = model().params.cities.gap_scale
    wide_city, narrow_city = model(seed=1).city("Shenzhen"), model(seed=2).city("Shenzhen")
    target = wide_city.spec.growth_target
    wide = _count_deals(wide_city, 300, growth=target - scale, stance=0.1)
    narrow = _count_deals(narrow_city, 300, growth=target - 0.3 * scale, stance=0.1)
    assert wide > 1.5 * narrow > 0


def test_deals_are_more_likely_under_a_supportive_stance() -> None:
    supportive_city, wary_city = model(seed=1).city("Shenzhen"), model(seed=2).city("Shenzhen")
    supportive = _count_deals(supportive_city, 300, growth=0.0, stance=0.1)
    wary = _count_deals(wary_city, 300, growth=0.0, stance=0.4)
    assert supportive_city.support() > wary_city.support() > 0
    assert supportive > 1.2 * wary > 0


def test_support_falls_with_the_centre_stance_and_rises_with_signals() -> None:
    m = model()
    city = m.city("Beijing")
    m.influence.set_center((0.1, 0.4))
    lax = city.support()
    m.influence.set_center((0.4, 0.4))
    strict = city.support()
    m.add_signal(0.5, 6)
    m._update_signal()
    assert lax > strict
    assert city.support() > strict


def test_home_firms_are_courted_first() -> None:
    m = model("baseline", "cities.Hangzhou.home_pull=100")
    city = m.city("Hangzhou")
    draws = [city.choose_firm() for _ in range(200)]
    home = np.mean([m.firms.hq[row] == city.index for row in draws])
    assert home > 0.8


# -- money, jobs and ties --------------------------------------------------------------------


def _deal(m: PolicyModel, city: str, firm: str, amount: float) -> None:
    event = DealEvent(date=m.scenario.start, type="deal", city=city, firm=firm,
                      amount_cny_bn=amount)  # fmt: skip
    apply_event(m, TimedEvent("test_deal", 0, event))


def _guidance(m: PolicyModel) -> list[GuidanceFund]:
    return [f for f in m.funds if isinstance(f, GuidanceFund)]


@pytest.mark.parametrize("aligned", [False, True])
def test_a_deal_moves_its_subsidy_from_the_city_to_the_firm(aligned: bool) -> None:
    m = model()
    p = m.params.cities
    city, row = m.city("Hangzhou"), m.firm_row("Alibaba")
    m.firms.alignment[row] = 0.9 if aligned else 0.0
    budget, cash = city.budget_cny_bn, m.firms.cash.copy()
    guidance = sum(f.capital_cny_bn for f in _guidance(m))
    _deal(m, "Hangzhou", "Alibaba", 2.0)
    subsidy = p.subsidy_share * 2.0
    co_invested = guidance - sum(f.capital_cny_bn for f in _guidance(m))
    assert budget - city.budget_cny_bn == pytest.approx(subsidy)
    assert (co_invested > 0) == aligned
    assert m.firms.cash[row] - cash[row] == pytest.approx(subsidy + co_invested)
    others = np.arange(m.firms.n) != row
    np.testing.assert_array_equal(m.firms.cash[others], cash[others])
    assert m.flows["subsidies_cny_bn"] == pytest.approx(subsidy)
    assert m.flows["fund_capital_deployed_cny_bn"] == pytest.approx(co_invested)


def test_a_deal_adds_jobs_growth_and_ties() -> None:
    m = model()
    p = m.params.cities
    row = m.firm_row("Tencent")
    jobs, boost = m.jobs_index(), m.firms.deal_boost[row]
    _deal(m, "Shenzhen", "Tencent", 4.0)
    assert m.jobs_index() == pytest.approx(jobs + p.jobs_per_bn * 4.0)
    assert m.firms.deal_boost[row] == pytest.approx(boost + p.deal_growth)
    assert m.city("Shenzhen").deals == 1
    assert m.flows["deals_signed"] == 1
    net = m.influence
    assert net.ties[net.index["Shenzhen"], net.index["Tencent"]] > 0
    assert net.ties[net.index["Tencent"], net.index["Shenzhen"]] > 0


def test_deals_a_city_offers_conserve_money() -> None:
    m = model(seed=4)
    city = m.city("Shenzhen")
    m.gdp_growth = 0.0
    m.influence.set_center((0.1, 0.4))
    signed = 0
    for _ in range(40):
        city.growth_seen = 0.0
        budget, cash = city.budget_cny_bn, float(m.firms.cash.sum())
        guidance = sum(f.capital_cny_bn for f in _guidance(m))
        deals = city.deals
        city.step()
        refill = min(budget + city.spec.budget_cny_bn / 12.0, city.spec.budget_cny_bn) - budget
        paid = budget + refill - city.budget_cny_bn
        co_invested = guidance - sum(f.capital_cny_bn for f in _guidance(m))
        assert float(m.firms.cash.sum()) - cash == pytest.approx(paid + co_invested, abs=1e-9)
        assert paid >= -1e-12
        signed += city.deals - deals
    assert signed > 0


def test_lobbying_lowers_the_city_anchor_in_proportion_to_the_gap() -> None:
    m = model()
    p = m.params.cities
    city = m.city("Hangzhou")
    i = m.influence.index["Hangzhou"]
    ideal = city.spec.position.platform_stringency
    m.gdp_growth = city.growth_seen = 0.03
    city.step()
    gap = city.growth_gap
    assert gap > 0
    assert m.influence.anchor[i, 0] == pytest.approx(max(ideal - p.lobby_strength * gap, 0.0))
    assert m.influence.anchor[i, 0] < ideal
    m.gdp_growth = city.growth_seen = 0.2
    city.step()
    assert m.influence.anchor[i, 0] == pytest.approx(ideal)


def test_a_city_never_spends_more_than_its_budget() -> None:
    m = model("baseline", "cities.Tianjin.budget_cny_bn=0.5", "params.cities.deal_rate=5")
    city = m.city("Tianjin")
    m.gdp_growth = 0.0
    m.influence.set_center((0.05, 0.4))
    for _ in range(24):
        city.growth_seen = 0.0
        city.step()
        assert 0.0 <= city.budget_cny_bn <= 0.5


def test_the_crackdown_chills_deals() -> None:
    base, crack = run("baseline").timeseries, run("crackdown").timeseries
    late = base["date"] >= "2021-07-01"
    assert crack.loc[late, "deals_signed"].sum() < base.loc[late, "deals_signed"].sum()


def test_a_deal_ties_the_city_and_the_firm_as_add_tie_does() -> None:
    signed, tied = model(), model()
    city, row = signed.city("Hangzhou"), signed.firm_row("Alibaba")
    signed.sign_deal(city, row, 2.0, 0.5)
    tied.influence.add_tie("Hangzhou", "Alibaba", 1.0)
    tied.influence.add_tie("Alibaba", "Hangzhou", 1.0)
    np.testing.assert_array_equal(signed.influence.ties, tied.influence.ties)
    synthetic = model("baseline", "n_synthetic_firms=5")
    ties = synthetic.influence.ties.copy()
    synthetic.sign_deal(synthetic.city("Hangzhou"), synthetic.firms.n - 1, 2.0, 0.5)
    np.testing.assert_array_equal(synthetic.influence.ties, ties)  # a synthetic firm has none
