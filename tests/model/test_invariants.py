"""Money conservation and the other model invariants of ``--check`` (see sim/model/invariants.py).

Checked runs must pass for every shipped scenario and for random seeds and settings; a leak put
into a transfer on purpose (a fine that misses the treasury, a subsidy or a fund deployment that
is not taken from its source) must be reported with the agent, the variable and the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ModelInvariantError
from sim.model.agents.funds import Fund
from sim.model.agents.regulators import Regulator
from sim.model.invariants import check_invariants, money_balances
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from tests.helpers import SHIPPED, quiet, scenario, short, step

FINE = ("timeline.zz_fine={date: 2020-03, type: fine, firm: Meituan, regulator: SAMR, "
        "amount_cny_bn: 2}")
DEAL = "timeline.zz_deal={date: 2020-02, type: deal, city: Beijing, firm: Baidu, amount_cny_bn: 5}"
STAKE = "timeline.zz_stake={date: 2020-02, type: golden_share, firm: Kuaishou, fund: CIIF}"


def checked(*overrides: str, months: int = 6, seed: int = 0) -> PolicyModel:
    """Return a checked model of a short quiet baseline with extra overrides."""
    sc = short("baseline", *quiet(), *overrides, months=months)
    return PolicyModel(scenario=sc, check=True, rng=seed)


@pytest.mark.parametrize("name", SHIPPED)
def test_money_is_conserved_in_every_shipped_scenario(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), check=True, rng=5)
    step(m, m.scenario.months)
    assert m.treasury_cny_bn == pytest.approx(sum(r[3] for r in m.fine_records))


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    stringency=st.floats(0.0, 1.0),
    deal_rate=st.floats(0.0, 10.0),
    stake=st.floats(0.0, 1.0),
    n_synthetic=st.integers(0, 300),
)
def test_checked_runs_pass_for_random_seeds_and_settings(
    seed: int, stringency: float, deal_rate: float, stake: float, n_synthetic: int
) -> None:
    sc = short("crackdown", f"timeline.stance_peak.platform_stringency={stringency!r}",
               f"params.cities.deal_rate={deal_rate!r}", f"funds.CIIF.stake_propensity={stake!r}",
               f"n_synthetic_firms={n_synthetic}", months=24)  # fmt: skip
    result = run_scenario(sc, seed, check=True)
    assert np.isfinite(result.timeseries.drop(columns="date").to_numpy(dtype=float)).all()


def test_each_transfer_is_booked_on_both_sides() -> None:
    m = checked(FINE, DEAL, STAKE, months=4)
    step(m, 4)
    assert m.treasury_cny_bn == pytest.approx(2.0)
    beijing = m.city("Beijing")
    assert beijing.subsidies_cny_bn == pytest.approx(m.params.cities.subsidy_share * 5.0)
    assert m.fund("CIIF").paid_to_firms_cny_bn == pytest.approx(m.params.funds.stake_cost_cny_bn)


def leak(monkeypatch: pytest.MonkeyPatch, cls: type, name: str,
         after: Callable[[Any, Any], None]) -> None:  # fmt: skip
    """Wrap ``cls.name`` so that ``after(self, result)`` runs after it (to break a transfer)."""
    original = getattr(cls, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        after(self, result)
        return result

    monkeypatch.setattr(cls, name, wrapped)


def test_a_fine_that_misses_the_treasury_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def skim(model: PolicyModel, _: object) -> None:
        model.treasury_cny_bn -= 0.5

    leak(monkeypatch, PolicyModel, "record_sanction", skim)
    m = checked(FINE)
    step(m, 2)
    with pytest.raises(ModelInvariantError, match=r"step 2: treasury: treasury_cny_bn grew by"):
        m.step()


def test_a_fine_not_taken_from_the_firm_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refund(reg: Regulator, amount: float) -> None:
        reg.model.firms.cash[reg.model.firm_row("Meituan")] += amount

    leak(monkeypatch, Regulator, "impose_fine", refund)
    m = checked(FINE)
    step(m, 2)
    with pytest.raises(ModelInvariantError, match=r"step 2: firms: cash changed by"):
        m.step()


def test_a_subsidy_not_taken_from_the_budget_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refill(model: PolicyModel, _: object) -> None:
        model.city("Beijing").budget_cny_bn += 0.1

    leak(monkeypatch, PolicyModel, "sign_deal", refill)
    m = checked(DEAL)
    step(m, 1)
    with pytest.raises(ModelInvariantError, match=r"step 1: city Beijing: budget_cny_bn changed"):
        m.step()


def test_a_subsidy_that_never_arrives_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def lose(model: PolicyModel, _: object) -> None:
        model.firms.cash[model.firm_row("Baidu")] -= 0.3

    leak(monkeypatch, PolicyModel, "sign_deal", lose)
    m = checked(DEAL)
    step(m, 1)
    with pytest.raises(ModelInvariantError, match=r"step 1: firms: cash changed"):
        m.step()


def test_a_deployment_left_in_the_fund_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def keep(fund: Fund, amount: float) -> None:
        fund.capital_cny_bn += amount

    leak(monkeypatch, Fund, "deploy", keep)
    m = checked()
    with pytest.raises(ModelInvariantError, match=r"step 0: fund BigFund: capital_cny_bn changed"):
        m.step()


def test_a_fund_paying_more_than_it_deployed_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def inflate(fund: Fund, _: None) -> None:
        fund.paid_to_firms_cny_bn += 1000.0

    leak(monkeypatch, Fund, "pay_firms", inflate)
    m = checked()
    with pytest.raises(ModelInvariantError, match=r"step 0: fund BigFund: paid .* deployed only"):
        m.step()


def test_a_city_cannot_overspend_its_budget() -> None:
    m = checked(DEAL)
    step(m, 1)
    m.city("Shenzhen").budget_cny_bn = -1.0
    with pytest.raises(ModelInvariantError, match=r"step 0: city Shenzhen: budget_cny_bn = -1"):
        check_invariants(m)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda m: m.firms.exposure.__setitem__((1, 0), 1.5), "firm Ant Group: exposure"),
        (lambda m: m.firms.split.__setitem__((2, 1), np.nan), "firm Tencent: budget split"),
        (lambda m: setattr(m, "uncertainty", np.inf), "model: uncertainty"),
        (lambda m: m.influence.anchor.__setitem__((0, 0), -0.5), "stakeholder center: anchor"),
    ],
)
def test_shares_and_non_finite_values_are_reported(
    where: Callable[[PolicyModel], None], message: str
) -> None:
    m = checked()
    step(m, 1)
    where(m)
    with pytest.raises(ModelInvariantError, match=rf"step 0: {message}"):
        check_invariants(m, money_balances(m))


def test_checks_do_not_change_results() -> None:
    sc = short("crackdown", months=24)
    plain, checked_run = run_scenario(sc, 9), run_scenario(sc, 9, check=True)
    assert plain.timeseries.equals(checked_run.timeseries)


@pytest.mark.parametrize("name", ["history_2020_2025", "export_controls"])
def test_money_is_conserved_with_chip_purchases_paid_by_the_buyers(name: str) -> None:
    # Domestic chip sales are transfers from buyers to chip makers, not an inflow: --check
    # accounts for firms' cash with operating cash flow, subsidies, fund payments, fines and
    # chip imports alone.
    result = run_scenario(scenario(name), 0, check=True)
    assert result.summary["final_domestic_compute_share"] > 0
