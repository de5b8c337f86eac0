"""Funds and investors: golden shares, the chip fund, guidance funds, pricing, and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model.agents.funds import ChipFund, GoldenShareFund, GuidanceFund, Investors
from sim.model.policy_model import PolicyModel
from sim.scenario.base import month_index
from tests.helpers import SHIPPED, model, scenario

# -- shared invariants ------------------------------------------------------------------------


def injected(m: PolicyModel, fund: str) -> float:
    """Capital the fund has received so far: its starting capital plus dated injections."""
    sc = m.scenario
    total = sc.funds[fund].capital_cny_bn
    for ev in sc.timeline.values():
        due = ev.type == "fund_capital" and month_index(ev.date, sc.start) <= m.month
        if due and ev.fund == fund:
            total += ev.capital_cny_bn
    return total


def check_fund_invariants(m: PolicyModel, deployed_before: dict[str, float]) -> None:
    """Capital never negative; deployment never undone; capital + deployed = capital received."""
    for fund in m.funds:
        assert fund.capital_cny_bn >= -1e-9, fund.name
        assert fund.deployed_cny_bn >= deployed_before[fund.name] - 1e-12, fund.name
        received = injected(m, fund.name)
        assert math.isclose(fund.capital_cny_bn + fund.deployed_cny_bn, received, rel_tol=1e-12,
                            abs_tol=1e-9), fund.name  # fmt: skip
    perf = m.chips.performance_gap
    assert 0.0 <= perf <= m.params.chips.performance_gap


@pytest.mark.parametrize("name", SHIPPED)
def test_fund_invariants_hold_every_month(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), rng=0)
    deployed_total = 0.0
    for _ in range(m.scenario.months):
        before = {f.name: f.deployed_cny_bn for f in m.funds}
        m.step()
        check_fund_invariants(m, before)
        deployed = sum(f.deployed_cny_bn - before[f.name] for f in m.funds)
        assert math.isclose(m.flows["fund_capital_deployed_cny_bn"], deployed, abs_tol=1e-12)
        deployed_total += deployed
    assert deployed_total > 0


# -- capital ---------------------------------------------------------------------------------


def test_deploy_never_exceeds_capital_or_goes_negative() -> None:
    m = model()
    fund = m.fund("CityGuidance")
    capital = fund.capital_cny_bn
    assert fund.deploy(-5.0) == 0.0
    assert fund.deploy(capital + 100.0) == pytest.approx(capital)
    assert fund.capital_cny_bn == 0.0
    assert fund.deploy(1.0) == 0.0
    assert fund.deployed_cny_bn == pytest.approx(capital)
    assert m.flows["fund_capital_deployed_cny_bn"] == pytest.approx(capital)


def test_a_fund_capital_event_adds_capital() -> None:
    m = model("export_controls", months=60)
    fund = m.fund("BigFund")
    for _ in range(53):  # Big Fund III, 2024-05 (month 52)
        before = fund.capital_cny_bn + fund.deployed_cny_bn
        m.step()
    assert fund.capital_cny_bn + fund.deployed_cny_bn == pytest.approx(before + 344.0)


# -- golden shares ---------------------------------------------------------------------------


def test_a_golden_share_moves_its_cost_from_the_fund_to_the_firm() -> None:
    m = model()
    fund = m.fund("CIIF")
    assert isinstance(fund, GoldenShareFund)
    row = m.firm_row("Kuaishou")
    cost = m.params.funds.stake_cost_cny_bn
    capital, cash = fund.capital_cny_bn, m.firms.cash.copy()
    assert fund.take_stake(row)
    assert capital - fund.capital_cny_bn == pytest.approx(cost)
    assert m.firms.cash[row] - cash[row] == pytest.approx(cost)
    assert m.flows["fund_capital_deployed_cny_bn"] == pytest.approx(cost)
    # A second stake in the same firm is refused and moves nothing.
    assert not fund.take_stake(row)
    assert fund.capital_cny_bn == pytest.approx(capital - cost)
    assert m.firms.cash[row] - cash[row] == pytest.approx(cost)


def test_no_golden_share_without_capital() -> None:
    m = model("baseline", "funds.CIIF.capital_cny_bn=0", "params.funds.stake_cost_cny_bn=0.01")
    row = m.firm_row("Meituan")
    assert not m.fund("CIIF").take_stake(row)
    assert not m.firms.golden_share[row]


def _stakes(m: PolicyModel, months: int) -> int:
    fund = m.fund("CIIF")
    for _ in range(months):
        fund.step()
    return int(np.count_nonzero(m.firms.golden_share))


def test_golden_shares_follow_stringency_and_sanctions() -> None:
    lax, strict, sanctioned = (model("baseline", "funds.CIIF.stake_propensity=0.2", seed=s)
                               for s in (1, 2, 3))  # fmt: skip
    lax.policy = np.array([0.0, 0.5])
    strict.policy = sanctioned.policy = np.array([0.5, 0.5])
    sanctioned.firms.sanction_memory[:] = 3.0
    assert _stakes(lax, 12) == int(lax.firms.golden_share.sum()) == 0
    n_strict = _stakes(strict, 6)
    n_sanctioned = _stakes(sanctioned, 6)
    assert n_sanctioned > n_strict


def test_no_golden_shares_at_zero_propensity() -> None:
    m = model("baseline", "funds.CIIF.stake_propensity=0")
    m.policy = np.array([1.0, 1.0])
    m.firms.sanction_memory[:] = 5.0
    assert _stakes(m, 24) == 0


# -- the chip fund ---------------------------------------------------------------------------


def test_the_chip_fund_narrows_the_performance_gap_and_funds_chip_makers() -> None:
    m = model()
    fund = m.fund("BigFund")
    assert isinstance(fund, ChipFund)
    cp = m.params.chips
    makers = np.flatnonzero(m.firms.chip_maker)
    assert makers.size > 0
    gaps = [m.chips.performance_gap]
    for _ in range(12):
        capital, cash = fund.capital_cny_bn, m.firms.cash.copy()
        m.flows.clear()
        fund.step()
        amount = capital - fund.capital_cny_bn
        assert amount == pytest.approx(fund.spec.deploy_rate * capital)
        assert m.flows["fund_capital_deployed_cny_bn"] == pytest.approx(amount)
        gain = m.firms.cash - cash
        assert gain[makers].sum() == pytest.approx(0.5 * amount)
        assert np.all(np.delete(gain, makers) == 0.0)
        gaps.append(m.chips.performance_gap)
    assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] == pytest.approx(
        cp.performance_gap * 0.5 ** (fund.invested_cny_bn / cp.gap_halving_cny_bn)
    )


def test_more_chip_fund_capital_narrows_the_gap_further() -> None:
    small, big = model(), model()
    big.fund("BigFund").add_capital(1000.0)
    for m in (small, big):
        for _ in range(12):
            m.fund("BigFund").step()
    assert big.chips.performance_gap < small.chips.performance_gap


# -- guidance funds --------------------------------------------------------------------------


def test_guidance_funds_co_invest_only_with_aligned_firms() -> None:
    m = model()
    fund = next(f for f in m.funds if isinstance(f, GuidanceFund))
    row = m.firm_row("JD")
    minimum = m.params.funds.guidance_alignment_min
    m.firms.alignment[row] = minimum - 0.01
    assert fund.co_invest(row, 2.0) == 0.0
    m.firms.alignment[row] = minimum
    capital, cash = fund.capital_cny_bn, m.firms.cash[row]
    amount = fund.co_invest(row, 2.0)
    assert amount == pytest.approx(fund.spec.deploy_rate * 2.0)
    assert capital - fund.capital_cny_bn == pytest.approx(amount)
    assert m.firms.cash[row] - cash == pytest.approx(amount)


# -- investors -------------------------------------------------------------------------------


def _investors(m: PolicyModel) -> Investors:
    investors = m.investors
    assert investors is not None
    return investors


def test_the_discount_rate_rises_with_uncertainty_controls_and_foreign_listing_risk() -> None:
    m = model()
    inv = _investors(m)
    base = inv.target_discount_rate().copy()
    m.uncertainty = 1.0
    assert np.all(inv.target_discount_rate() > base)
    m.uncertainty = inv.uncertainty0
    m.chips.blocked_share = 0.8
    dependent = (m.firms.foreign_share() > 0) & (m.firms.rd_intensity > 0)
    assert np.all(inv.target_discount_rate()[dependent] > base[dependent])
    m.chips.blocked_share = 0.0
    m.add_signal(-0.5, 6.0, "foreign_listing")  # a US delisting threat
    abroad = m.firms.listed_abroad
    raised = inv.target_discount_rate()
    assert abroad.any() and np.all(raised[abroad] > base[abroad])
    np.testing.assert_allclose(raised[~abroad], base[~abroad])


def test_the_foreign_listing_risk_decays_when_nothing_happens() -> None:
    m = model("baseline", "params.valuation.hazard_learning=0")
    inv = _investors(m)
    inv.hear(-0.5, "foreign_listing")
    risk = inv.foreign_listing_risk
    assert risk == pytest.approx(0.5 * m.params.valuation.foreign_listing_jump)
    inv.step()
    assert 0.0 < inv.foreign_listing_risk < risk


def test_the_discount_rate_falls_with_risk_appetite_and_golden_shares() -> None:
    m = model()
    inv = _investors(m)
    base = inv.target_discount_rate().copy()
    m.risk_appetite = 0.5
    assert np.all(inv.target_discount_rate() < base)
    m.risk_appetite = 0.0
    m.firms.golden_share[:] = True
    assert np.all(inv.target_discount_rate() < base)


def test_a_supportive_signal_lowers_the_perceived_hazard_and_the_expected_cost() -> None:
    m = model("crackdown")
    inv = _investors(m)
    belief, cost = inv.perceived_rate.copy(), inv.expected_cost().copy()
    m.add_signal(0.5, 6.0)  # a supportive signal: investors expect fewer probes
    assert np.all(inv.perceived_rate < belief)
    assert np.all(inv.expected_cost() <= cost) and np.any(inv.expected_cost() < cost)


def test_investors_move_the_discount_rate_toward_its_target_and_reprice() -> None:
    m = model("baseline", "params.valuation.hazard_learning=0")  # the belief stays put
    inv = _investors(m)
    f = m.firms
    value = f.market_value.copy()
    m.uncertainty = 1.0
    target = inv.target_discount_rate()
    rate = f.discount_rate.copy()
    inv.step()
    speed = m.params.valuation.adjust_speed
    np.testing.assert_allclose(f.discount_rate, rate + speed * (target - rate))
    listed = f.listed & (value > 0)
    assert np.all(f.market_value[listed] < value[listed])
