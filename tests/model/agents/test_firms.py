"""Firms: budget split, compliance, alignment, growth, compute, valuation and their invariants."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.agents.chips import ChipMarket
from sim.model.agents.firms import USES
from sim.model.initial_state import sanction_rates
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.model.valuation import firm_value_usd
from sim.scenario.base import FREEZE_KINDS
from tests.helpers import SHIPPED, model, run, scenario, short, step

COMPLIANCE, RD, EXPANSION, ENGAGEMENT = (USES.index(u) for u in USES)

# -- shared invariants ------------------------------------------------------------------------


def check_firm_invariants(
    m: PolicyModel, golden_before: np.ndarray, listed_before: np.ndarray
) -> None:
    """Shares in [0, 1], finite non-negative stocks, golden shares and listings never undone.

    Cash is finite but may turn negative: a firm whose margin does not cover its compute
    purchases borrows.
    """
    f = m.firms
    for var in ("compliance", "alignment", "split"):
        values = getattr(f, var)
        assert np.all((values >= 0.0) & (values <= 1.0)), var
    np.testing.assert_allclose(f.split.sum(axis=1), 1.0)
    share = f.foreign_share()
    assert np.all((share >= 0.0) & (share <= 1.0))
    for var in ("revenue", "cash", "market_value", "compute_foreign", "compute_domestic",
                "ai_capability", "strikes", "sanction_memory", "rd_spend"):  # fmt: skip
        values = getattr(f, var)
        assert np.all(np.isfinite(values)), var
        assert var == "cash" or np.all(values >= 0.0), var
    assert np.all(f.revenue > 0.0)
    assert np.all(np.isfinite(f.discount_rate))
    assert np.all(f.golden_share >= golden_before), "a golden share was undone"
    assert np.all(f.listed >= listed_before), "a listed firm delisted"
    for agent in m.firm_agents:
        state = agent.state()
        assert state["firm"] == agent.name
        assert state["cash_cny_bn"] == f.cash[agent.row]


@pytest.mark.parametrize("name", SHIPPED)
def test_firm_invariants_hold_every_month(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), rng=0)
    for _ in range(m.scenario.months):
        golden, listed = m.firms.golden_share.copy(), m.firms.listed.copy()
        m.step()
        check_firm_invariants(m, golden, listed)


def test_firm_invariants_hold_with_a_synthetic_tail() -> None:
    m = PolicyModel(scenario=short("crackdown", "n_synthetic_firms=300", months=24), rng=5)
    assert m.firms.n == m.firms.n_named + 300
    for _ in range(24):
        golden, listed = m.firms.golden_share.copy(), m.firms.listed.copy()
        m.step()
        check_firm_invariants(m, golden, listed)


@pytest.mark.parametrize("overrides", [(), ("n_synthetic_firms=300",)])
def test_columns_read_firm_after_firm_are_column_major(overrides: tuple[str, ...]) -> None:
    """A freeze kind's and a domain's column are contiguous, built or copied from the cache.

    The month's compiled loops read them firm after firm; in row-major order they would read
    strided memory and not vectorize (several times slower, same results).
    """
    for _ in range(2):  # the second model's firms may be a copy of the first's (start_cache)
        f = model("crackdown", *overrides).firms
        assert f.freeze_until.flags.f_contiguous and f.exposure.flags.f_contiguous


# -- budget split ----------------------------------------------------------------------------


def _split(m: PolicyModel, pressure: float = 0.0, support: float = 0.5,
           self_reliance: float = 0.5, expected_cost: float = 0.0) -> np.ndarray:  # fmt: skip
    f = m.firms
    return f.allocate_budget(np.full(f.n, pressure), np.full(f.n, expected_cost), support,
                             self_reliance, m.month, m.params.firms).copy()  # fmt: skip


def test_pressure_shifts_the_budget_to_engagement() -> None:
    m = model()
    calm, pressed = _split(m, pressure=0.0), _split(m, pressure=1.0)
    assert np.all(pressed[:, ENGAGEMENT] > calm[:, ENGAGEMENT])
    assert np.all(pressed[:, EXPANSION] < calm[:, EXPANSION])


def test_the_expected_cost_of_enforcement_shifts_the_budget_to_compliance() -> None:
    m = model()
    calm, exposed = _split(m), _split(m, expected_cost=0.02)
    assert np.all(exposed[:, COMPLIANCE] > calm[:, COMPLIANCE])
    assert np.all(exposed[:, EXPANSION] < calm[:, EXPANSION])
    # Against its own cost: a dearer compliance budget (a larger budget share) answers less.
    dear = model("baseline", "params.firms.budget_share=0.5")
    dear_exposed = _split(dear, expected_cost=0.02)
    assert np.all(dear_exposed[:, COMPLIANCE] < exposed[:, COMPLIANCE])


def test_strikes_shift_the_budget_to_compliance() -> None:
    m = model()
    calm = _split(m)
    m.firms.strikes[:] = 2.0
    assert np.all(_split(m)[:, COMPLIANCE] > calm[:, COMPLIANCE])


def test_central_support_shifts_the_budget_to_expansion() -> None:
    m = model()
    assert np.all(_split(m, support=1.0)[:, EXPANSION] > _split(m, support=0.0)[:, EXPANSION])


def test_the_self_reliance_push_shifts_the_budget_to_rd() -> None:
    m = model()
    assert np.all(_split(m, self_reliance=1.0)[:, RD] > _split(m, self_reliance=0.0)[:, RD])


@pytest.mark.parametrize("kind", ["app_removal", "licence_freeze"])
def test_an_app_or_licence_freeze_blocks_expansion(kind: str) -> None:
    m = model()
    row = m.firm_row("Didi")
    free = _split(m)
    m.firms.freeze_until[row, FREEZE_KINDS.index(kind)] = 6
    frozen = _split(m)
    assert frozen[row, EXPANSION] < 0.2 * free[row, EXPANSION]
    others = np.arange(m.firms.n) != row
    np.testing.assert_array_equal(frozen[others], free[others])


def test_a_listing_halt_does_not_block_expansion() -> None:
    m = model()
    row = m.firm_row("Ant Group")
    free = _split(m)
    m.firms.freeze_until[row, FREEZE_KINDS.index("listing_halt")] = 6
    np.testing.assert_array_equal(_split(m), free)


def test_a_freeze_slows_revenue_growth() -> None:
    free, frozen = model(), model()
    row = free.firm_row("Tencent")
    frozen.firms.freeze_until[row, FREEZE_KINDS.index("licence_freeze")] = 12
    step(free, 6)
    step(frozen, 6)
    assert frozen.firms.revenue[row] < free.firms.revenue[row]


# -- compliance, alignment, cash -------------------------------------------------------------


def test_compliance_effort_raises_compliance() -> None:
    m = model()
    f = m.firms
    f.compliance[:] = 0.2
    f.split[:] = 0.0
    f.split[:, COMPLIANCE] = 1.0
    f.update_compliance(m.params.firms)
    assert np.all(f.compliance > 0.2)
    f.split[:] = 0.0
    f.split[:, RD] = 1.0
    before = f.compliance.copy()
    f.update_compliance(m.params.firms)
    assert np.all(f.compliance < before)  # erodes without effort


def test_a_fine_lowers_cash_and_raises_compliance() -> None:
    m = model()
    agent = m.firm("Alibaba")
    cash, compliance = agent.cash_cny_bn, agent.compliance
    fine = m.regulator("SAMR").impose_fine(agent.row, share_of_revenue=0.04)
    assert agent.cash_cny_bn == pytest.approx(cash - fine)
    assert agent.compliance > compliance


def test_a_fined_firm_ends_more_compliant_and_poorer_than_unfined() -> None:
    fined, free = model(), model()
    row = fined.firm_row("Meituan")
    fined.regulator("SAMR").impose_fine(row, share_of_revenue=0.03)
    step(fined, 3)
    step(free, 3)
    # Same seed, same draws: only the fine differs in the first months.
    assert fined.firms.compliance[row] > free.firms.compliance[row]
    assert fined.firms.cash[row] < free.firms.cash[row]


def test_alignment_drifts_toward_the_self_reliance_push_faster_under_a_golden_share() -> None:
    m = model()
    f = m.firms
    f.alignment[:] = 0.2
    f.golden_share[:] = False
    f.golden_share[0] = True
    f.update_alignment(0.9, m.params.firms)
    rise = f.alignment - 0.2
    assert np.all(rise > 0)
    assert rise[0] == pytest.approx(2 * rise[1])


def test_a_golden_share_raises_alignment_and_compliance_and_lowers_the_discount_rate() -> None:
    m = model()
    row = m.firm_row("Baidu")
    f = m.firms
    investors = m.investors
    assert investors is not None and not f.golden_share[row]
    alignment, compliance = f.alignment[row], f.compliance[row]
    rate = investors.target_discount_rate()[row]
    assert m.fund("CIIF").take_stake(row)
    assert f.golden_share[row]
    assert f.alignment[row] > alignment
    assert f.compliance[row] > compliance
    assert investors.target_discount_rate()[row] < rate


def test_cash_moves_by_exactly_the_operating_margin_and_may_turn_to_debt() -> None:
    m = model()
    f = m.firms
    f.split[:] = 0.25
    cash = f.cash.copy()
    f.spend(m.params.firms)
    assert np.all(f.cash[f.margin > 0] > cash[f.margin > 0])
    np.testing.assert_allclose(f.cash - cash, f.revenue / 12.0 * f.margin, rtol=1e-12)
    f.cash[:] = 0.0
    f.margin[:] = -0.5
    f.spend(m.params.firms)
    # Losses are borrowed, never written off: no money is created.
    np.testing.assert_allclose(f.cash, -0.5 * f.revenue / 12.0, rtol=1e-12)


def test_a_firm_without_cash_cuts_its_expansion_weight() -> None:
    m = model()
    f = m.firms
    pressure = np.zeros(f.n)
    f.allocate_budget(pressure, pressure, 0.7, 0.3, 0, m.params.firms)
    expansion = f.split[:, 2].copy()
    f.cash[0] = -1.0
    f.allocate_budget(pressure, pressure, 0.7, 0.3, 0, m.params.firms)
    assert f.split[0, 2] < expansion[0]
    np.testing.assert_allclose(f.split[1:, 2], expansion[1:])


# -- compute ---------------------------------------------------------------------------------


AMPLE = 1e9  # domestic capacity that never binds


def _purchases(m: PolicyModel, market: ChipMarket) -> np.ndarray:
    """Return each firm's domestic share of one month's compute purchases."""
    f = m.firms
    f.split[:] = 0.25
    f.spend(m.params.firms)
    keep = 1.0 - m.params.chips.depreciation
    dom0, for0 = f.compute_domestic.copy(), f.compute_foreign.copy()
    f.buy_compute(market, m.params.chips)
    bought_d = f.compute_domestic - keep * dom0
    bought_f = f.compute_foreign - keep * for0
    return bought_d / (bought_d + bought_f)


def test_export_controls_raise_the_domestic_share_of_purchases() -> None:
    free = _purchases(model(), ChipMarket(0.0, 0.0, 0.0, 0.6, 0.4, capacity_units=AMPLE))
    blocked = _purchases(model(), ChipMarket(0.75, 0.0, 0.0, 0.6, 0.4, capacity_units=AMPLE))
    assert np.all(blocked > free)
    assert np.all(blocked >= 0.75 - 1e-12)


def test_a_sourcing_rule_sets_a_floor_on_domestic_purchases() -> None:
    share = _purchases(model(), ChipMarket(0.0, 0.5, 0.0, 0.6, 0.4, capacity_units=AMPLE))
    assert np.all(share >= 0.5 - 1e-12)


def test_a_smaller_performance_gap_and_power_subsidy_favour_domestic_chips() -> None:
    wide = _purchases(model(), ChipMarket(0.0, 0.0, 0.0, 0.6, 0.4, capacity_units=AMPLE))
    narrow = _purchases(model(), ChipMarket(0.0, 0.0, 0.0, 0.2, 0.4, capacity_units=AMPLE))
    subsidised = _purchases(model(), ChipMarket(0.0, 0.0, 0.3, 0.6, 0.4, capacity_units=AMPLE))
    assert np.all(narrow > wide)
    assert np.all(subsidised > wide)


def test_domestic_compute_counts_less_toward_capability() -> None:
    foreign, domestic = model(), model()
    for m, frac in ((foreign, 1.0), (domestic, 0.0)):
        total = m.firms.compute_total()
        m.firms.compute_foreign = total * frac
        m.firms.compute_domestic = total * (1.0 - frac)
        m.firms.update_capability(0.6, m.params.chips)
    assert np.all(domestic.firms.ai_capability < foreign.firms.ai_capability)


# -- valuation -------------------------------------------------------------------------------


def _reprice(m: PolicyModel) -> np.ndarray:
    """Reprice every firm with the beliefs and discount rates held; return the values."""
    inv = m.investors
    assert inv is not None
    inv._price()
    f = m.firms
    v = m.params.valuation
    return firm_value_usd(f.cash, f.revenue, f.value_margin, inv._cost, inv._annuity,
                          v.usd_per_cny)  # fmt: skip


def test_the_start_reproduces_the_recorded_values() -> None:
    m = model()
    np.testing.assert_allclose(_reprice(m)[m.investors.valued], m.firms.market_value[
        m.investors.valued], rtol=1e-9)  # fmt: skip


def test_market_value_falls_as_the_discount_rate_rises() -> None:
    m = model()
    value = _reprice(m)
    m.firms.discount_rate = m.firms.discount_rate + 0.01
    valued = m.investors.valued
    assert np.all(_reprice(m)[valued] < value[valued])


def test_market_value_follows_revenue_and_cash() -> None:
    m = model()
    f = m.firms
    value = _reprice(m)
    f.revenue = f.revenue * 1.1
    grown = _reprice(m)
    valued = m.investors.valued
    assert np.all(grown[valued] > value[valued])
    f.cash[0] -= 10.0  # a fine of 10 billion CNY paid out of Alibaba's cash
    after = _reprice(m)
    assert after[0] == pytest.approx(grown[0] - 10.0 * m.params.valuation.usd_per_cny)


def test_a_listing_halt_blocks_a_listing() -> None:
    m = model()
    row = m.firm_row("Ant Group")
    assert not m.firms.listed[row]
    m.regulator("PBoC").impose_freeze(row, "listing_halt", 12)
    assert not m.list_firm(row, 310.0, "test")
    assert not m.firms.listed[row]
    assert m.flows["listings_refused"] == 1
    m.month = 12
    assert m.list_firm(row, 310.0, "test")
    assert m.firms.listed[row]
    assert m.firms.market_value[row] == 310.0


def test_ant_lists_in_the_baseline_but_not_under_the_crackdown() -> None:
    months = "months=14"
    base = run("baseline", 0, months, collect_firms=True).firm_timeseries
    crack = run("crackdown", 0, months, collect_firms=True).firm_timeseries
    assert base is not None and crack is not None
    ant_base = base[base["firm"] == "Ant Group"].set_index("date")["listed"]
    ant_crack = crack[crack["firm"] == "Ant Group"].set_index("date")["listed"]
    assert not ant_base.loc[:"2020-10"].any() and ant_base.loc["2020-11":].all()
    assert not ant_crack.any()


def test_firm_timeseries_has_one_row_per_named_firm_and_month() -> None:
    result = run_scenario(short("baseline", months=3), 0, collect_firms=True)
    firms = result.firm_timeseries
    assert firms is not None
    assert len(firms) == 3 * len(result.scenario.firms)
    assert set(firms["firm"]) == set(result.scenario.firms)


def test_buyers_pay_for_compute_and_domestic_chips_pay_the_makers() -> None:
    m = step(model("export_controls", months=40), 36)
    f = m.firms
    cash, rd = f.cash.copy(), f.rd_spend.copy()
    foreign, domestic = f.buy_compute(m.chips, m.params.chips)
    budget = f.compute_intensity * rd * m.params.chips.compute_price_cny_bn
    assert np.all(cash - f.cash <= budget * (1 + 1e-12))
    assert (cash - f.cash).sum() == pytest.approx(foreign + domestic)
    makers = f.chip_maker
    before = f.cash.copy()
    assert f.pay_chip_makers(domestic) == domestic
    assert f.cash[makers].sum() - before[makers].sum() == pytest.approx(domestic)
    assert np.all(f.cash[~makers] == before[~makers])


def test_without_chip_makers_domestic_purchases_are_imports() -> None:
    m = model("baseline", "firms.Cambricon.chip_maker=false", "firms.Huawei.chip_maker=false")
    assert not m.firms.chip_maker.any()
    assert m.firms.pay_chip_makers(1.0) == 0.0


def test_short_domestic_supply_rations_purchases_and_keeps_the_budget() -> None:
    ample, short = model(), model()
    markets = [ChipMarket(0.75, 0.0, 0.0, 0.6, 0.4, capacity_units=AMPLE),
               ChipMarket(0.75, 0.0, 0.0, 0.6, 0.4, capacity_units=0.05)]  # fmt: skip
    bought = []
    for m, market in zip((ample, short), markets, strict=True):
        f = m.firms
        f.split[:] = 0.25
        f.spend(m.params.firms)
        cash, stock = f.cash.copy(), f.compute_total()
        f.buy_compute(market, m.params.chips)
        bought.append((f.compute_total() - stock, cash - f.cash))
    (units_ample, paid_ample), (units_short, paid_short) = bought
    assert units_short.sum() < units_ample.sum() and paid_short.sum() < paid_ample.sum()
    assert markets[0].fill_rate == 1.0 and markets[0].shortfall_share == pytest.approx(0.0)
    assert markets[1].fill_rate < 1.0 and markets[1].shortfall_share > 0.5


def test_chip_fund_investment_and_learning_raise_domestic_capacity() -> None:
    params = model().params.chips
    market = ChipMarket(0.0, 0.0, 0.0, 0.6, 0.4)
    market.update_capacity(params)
    start = market.capacity_units
    assert start == pytest.approx(params.domestic_capacity_units)
    market.fund_invested_cny_bn = params.capacity_cost_cny_bn
    market.update_capacity(params)
    assert market.capacity_units == pytest.approx(start + 1.0)
    market.cumulative_units = 24.0 * params.domestic_capacity_units  # two years' initial output
    market.update_capacity(params)
    assert market.capacity_units == pytest.approx((start + 1.0) * 2.0**params.learning_exponent)


def test_export_controls_cut_compute_bought_when_domestic_supply_is_short() -> None:
    free = run("export_controls", 0, "params.chips.domestic_capacity_units=100.0").timeseries
    tight = run("export_controls", 0).timeseries
    window = slice("2023-01", "2024-06")
    assert tight.set_index("date").loc[window, "compute_shortfall_share"].mean() > 0.05
    assert free.set_index("date").loc[window, "compute_shortfall_share"].max() == 0.0
    assert tight["ai_capability"].iloc[-1] < free["ai_capability"].iloc[-1]


# -- the start at rest -----------------------------------------------------------------------


def test_the_start_holds_compliance_compute_and_shares_at_rest() -> None:
    m = model()
    f = m.firms
    compliance, share = f.compliance.copy(), f.foreign_share().copy()
    total = f.compute_total().copy()
    # The month's expected sanctions close part of the compliance gap; effort and erosion do
    # the rest.
    jump = sanction_rates(m.enforcement, f, m.params).compliance_jump
    f.compliance += jump * (1.0 - f.compliance)
    f.allocate_budget(m.pressure, m.expected_cost, 1.0 - float(m.policy[0]), float(m.policy[1]),
                      0, m.params.firms)  # fmt: skip
    f.update_compliance(m.params.firms)
    # Not to the last digit: a firm whose pyramid pressure sits on the order threshold is solved
    # to it by shrinking steps (sim.model.initial_state.solve_rest).
    np.testing.assert_allclose(f.compliance, compliance, atol=1e-5)
    f.spend(m.params.firms)
    m.chips.update_capacity(m.params.chips)
    f.buy_compute(m.chips, m.params.chips)
    np.testing.assert_allclose(f.foreign_share(), share, atol=1e-9)
    growth = np.power(np.maximum(1.0 + f.growth, 0.05), 1.0 / 12.0)
    np.testing.assert_allclose(f.compute_total(), total * growth, rtol=1e-9)
