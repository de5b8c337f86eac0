"""The policy model: construction, the month's order, invariant checks and whole-run directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import ModelInvariantError
from sim.model.agents import Municipality, PlatformFirm, Regulator
from sim.model.invariants import check_invariants
from sim.model.policy_model import PolicyModel
from tests.helpers import SHIPPED, model, run, scenario, step

SEEDS = (0, 1, 2)


def test_the_model_builds_one_agent_per_actor() -> None:
    sc = scenario("baseline")
    m = PolicyModel(scenario=sc, rng=0)
    assert [r.name for r in m.agents_by_type[Regulator]] == list(sc.regulators)
    assert [c.name for c in m.agents_by_type[Municipality]] == list(sc.cities)
    assert [f.name for f in m.funds] == list(sc.funds)
    assert [a.name for a in m.agents_by_type[PlatformFirm]] == list(sc.firms)
    assert m.firms.n == len(sc.firms) + sc.n_synthetic_firms
    assert m.firm("Alibaba").row == m.firm_row("Alibaba") == 0
    assert set(m.influence.names) >= set(sc.regulators) | set(sc.cities) | set(sc.firms)


def test_the_model_steps_month_by_month_from_the_start() -> None:
    m = model("baseline", "start=2021-03", months=4)
    assert m.date == pd.Timestamp("2021-03-01")
    step(m, 4)
    assert m.month == 3
    assert m.date == pd.Timestamp("2021-06-01")
    ts = m.timeseries()
    assert list(ts["date"]) == list(pd.date_range("2021-03-01", periods=4, freq="MS"))


def test_a_model_stepped_past_its_last_month_dates_each_month() -> None:
    m = model("baseline", "start=2021-03", months=2)
    dates = []
    for _ in range(150):  # past the months built with the scenario's, and past the next block
        m.step()
        dates.append(m.date)
    assert dates == list(pd.date_range("2021-03-01", periods=150, freq="MS"))
    assert all(d.unit == dates[0].unit for d in dates)
    assert not m.running


def test_building_a_model_uses_only_its_own_rng() -> None:
    a, b = model(seed=11), model(seed=11)
    np.testing.assert_array_equal(a.rng.random(5), b.rng.random(5))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_runs_with_invariant_checks(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), check=True, rng=3)
    step(m, m.scenario.months)
    ts = m.timeseries()
    numbers = ts.drop(columns="date").to_numpy(dtype=float)
    assert np.all(np.isfinite(numbers))


def test_the_treasury_holds_every_fine() -> None:
    result = run("crackdown")
    m = PolicyModel(scenario=result.scenario, rng=0)
    step(m, m.scenario.months)
    usd = m.params.valuation.usd_per_cny
    fines_usd = result.timeseries["fines_value_usd"].sum()
    assert fines_usd > 0
    assert m.treasury_cny_bn * 1e9 * usd == pytest.approx(fines_usd)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("compliance", 1.5, "compliance"),
        ("alignment", -0.1, "alignment"),
        ("cash", np.nan, "cash"),
        ("market_value", -1.0, "market_value"),
        ("revenue", np.inf, "revenue"),
    ],
)
def test_invariant_checks_name_the_firm_and_variable(variable: str, value: float,
                                                     message: str) -> None:  # fmt: skip
    m = step(model(), 1)
    check_invariants(m)
    getattr(m.firms, variable)[m.firm_row("Tencent")] = value
    with pytest.raises(ModelInvariantError, match=rf"step 0: firm Tencent: {message}"):
        check_invariants(m)


def test_invariant_checks_cover_regulators_positions_and_funds() -> None:
    m = step(model(), 1)
    m.regulator("SAMR").stringency = 1.2
    with pytest.raises(ModelInvariantError, match="regulator SAMR"):
        check_invariants(m)
    m.regulator("SAMR").stringency = 0.5
    m.influence.position[m.influence.index["Beijing"], 1] = 2.0
    with pytest.raises(ModelInvariantError, match="stakeholder Beijing"):
        check_invariants(m)
    m.influence.position[m.influence.index["Beijing"], 1] = 0.5
    m.fund("BigFund").capital_cny_bn = -1.0
    with pytest.raises(ModelInvariantError, match="fund BigFund"):
        check_invariants(m)


def test_a_violation_stops_a_checked_run() -> None:
    m = PolicyModel(scenario=scenario("baseline", "months=3"), check=True, rng=0)
    m.step()
    m.firms.revenue[0] = float("nan")  # the next month makes Alibaba's revenue undefined
    with pytest.raises(ModelInvariantError, match="step 1: firm Alibaba: revenue"):
        m.step()


# -- whole-run directions --------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_the_crackdown_ends_with_lower_market_value_than_the_baseline(seed: int) -> None:
    base, crack = run("baseline", seed).summary, run("crackdown", seed).summary
    assert crack["final_market_value_usd"] < base["final_market_value_usd"]
    assert crack["total_fines_count"] > base["total_fines_count"]


def test_the_crackdown_raises_the_discount_rate_and_uncertainty() -> None:
    base, crack = run("baseline").timeseries, run("crackdown").timeseries
    window = (base["date"] >= "2021-01-01") & (base["date"] <= "2022-12-01")
    for column in ("mean_discount_rate", "regulatory_uncertainty", "effective_stringency"):
        assert crack.loc[window, column].mean() > base.loc[window, column].mean(), column


def test_the_thaw_recovers_part_of_the_crackdown_loss() -> None:
    crack, thaw = run("crackdown").summary, run("thaw").summary
    assert thaw["final_market_value_usd"] > crack["final_market_value_usd"]


@pytest.mark.parametrize("seed", SEEDS)
def test_export_controls_lower_the_foreign_compute_share(seed: int) -> None:
    base, ctrl = run("baseline", seed).timeseries, run("export_controls", seed).timeseries
    before = base["date"] < "2022-10-01"
    pd.testing.assert_series_equal(
        base.loc[before, "foreign_compute_share"], ctrl.loc[before, "foreign_compute_share"]
    )
    assert ctrl["foreign_compute_share"].iloc[-1] < base["foreign_compute_share"].iloc[-1]
    assert ctrl["domestic_compute_share"].iloc[-1] > base["domestic_compute_share"].iloc[-1]
    assert ctrl["chip_self_reliance"].iloc[-1] > base["chip_self_reliance"].iloc[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_ai_capability_is_lower_under_export_controls(seed: int) -> None:
    base, ctrl = run("baseline", seed).summary, run("export_controls", seed).summary
    assert ctrl["final_ai_capability"] < base["final_ai_capability"]


def test_big_fund_iii_narrows_the_performance_gap() -> None:
    base, ctrl = run("baseline").timeseries, run("export_controls").timeseries
    gap_base, gap_ctrl = base["domestic_performance_gap"], ctrl["domestic_performance_gap"]
    assert np.all(np.diff(gap_base) <= 0)  # the fund only ever narrows it
    assert gap_ctrl.iloc[-1] < gap_base.iloc[-1]


def test_a_same_month_listing_halt_stops_the_listing() -> None:
    """Ant Group's IPO (baseline) and its halt (crackdown) are both dated 2020-11."""
    ts = run("crackdown", 0, "months=12", collect_firms=True).firm_timeseries
    assert ts is not None
    assert not ts.loc[ts["firm"] == "Ant Group", "listed"].any()
