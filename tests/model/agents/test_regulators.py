"""Regulators: stringency, targeting, the enforcement pyramid, sanctions and their invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.agents.regulators import OUTCOMES, draw_without_replacement
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.base import FREEZE_KINDS
from tests.helpers import SHIPPED, model, quiet, scenario, short, step

# -- shared invariants ------------------------------------------------------------------------


def check_regulator_invariants(m: PolicyModel, outcomes_before: dict[str, dict[str, int]]) -> None:
    """Stringency in [0, 1]; open investigations name real firms and end in the future."""
    for reg in m.regulators:
        assert 0.0 <= reg.stringency <= 1.0, reg.name
        for row, end in reg.investigations.items():
            assert 0 <= row < m.firms.n, reg.name
            assert end > m.month, f"{reg.name}: investigation of row {row} overdue"
        assert set(reg.outcomes) == set(OUTCOMES)
        for kind, count in reg.outcomes.items():
            assert count >= outcomes_before[reg.name][kind], f"{reg.name}: {kind} count fell"


@pytest.mark.parametrize("name", SHIPPED)
def test_regulator_invariants_hold_every_month(name: str) -> None:
    m = PolicyModel(scenario=scenario(name), rng=0)
    for _ in range(m.scenario.months):
        before = {r.name: dict(r.outcomes) for r in m.regulators}
        m.step()
        check_regulator_invariants(m, before)


# -- stringency ------------------------------------------------------------------------------


def test_stringency_moves_toward_effective_policy() -> None:
    m = model()
    reg = m.regulator("SAMR")
    reg.stringency = 0.2
    m.policy = np.array([0.9, 0.5])
    reg.step()
    assert 0.2 < reg.stringency < 0.9
    for _ in range(80):
        reg.step()
    assert reg.stringency == pytest.approx(0.9, abs=1e-6)


def test_stringency_adds_the_mandate_and_follows_its_own_dimension() -> None:
    m = model("baseline", "regulators.SAMR.mandate=0.2", "regulators.MOFCOM.mandate=-0.1")
    m.policy = np.array([0.5, 0.8])
    samr, mofcom = m.regulator("SAMR"), m.regulator("MOFCOM")
    assert mofcom.spec.dimension == "self_reliance"
    for _ in range(80):
        samr.step()
        mofcom.step()
    assert samr.stringency == pytest.approx(0.7, abs=1e-6)
    assert mofcom.stringency == pytest.approx(0.7, abs=1e-6)


def test_stringency_target_is_clipped_to_one() -> None:
    m = model("baseline", "regulators.SAMR.mandate=0.5")
    m.policy = np.array([0.9, 0.5])
    reg = m.regulator("SAMR")
    for _ in range(80):
        reg.step()
    assert reg.stringency == pytest.approx(1.0, abs=1e-6)
    assert reg.stringency <= 1.0


# -- targeting -------------------------------------------------------------------------------


def test_only_exposed_non_compliant_firms_are_targeted() -> None:
    m = model("baseline", "regulators.SAMR.capacity=100")
    reg = m.regulator("SAMR")
    reg.stringency = 1.0
    f = m.firms
    target, unexposed = m.firm_row("Meituan"), m.firm_row("JD")
    f.compliance[:] = 1.0
    f.compliance[[target, unexposed]] = 0.2
    f.exposure[unexposed, reg.domain] = 0.0
    reg.open_new()
    assert list(reg.investigations) == [target]
    lo, hi = reg.spec.investigation_months
    assert lo <= reg.investigations[target] - m.month <= hi


def test_larger_firms_are_targeted_more_often() -> None:
    m = model("baseline", "regulators.SAMR.capacity=1", "params.enforcement.targeting_power=1")
    reg = m.regulator("SAMR")
    reg.stringency = 1.0
    f = m.firms
    big, small = m.firm_row("Alibaba"), m.firm_row("Pinduoduo")
    assert f.revenue[big] > 5 * f.revenue[small]
    f.compliance[:] = 1.0
    f.compliance[[big, small]] = 0.5
    f.exposure[[big, small], reg.domain] = 0.5
    hits = {big: 0, small: 0}
    for _ in range(300):
        reg.investigations.clear()
        reg.open_new()
        for row in reg.investigations:
            hits[row] += 1
    assert hits[big] > 2 * hits[small]


def test_no_investigations_at_zero_stringency() -> None:
    m = model()
    reg = m.regulator("CAC")
    reg.stringency = 0.0
    reg.open_new()
    assert reg.investigations == {}


# -- investigations and the pyramid ----------------------------------------------------------


def test_an_investigation_closes_after_its_months() -> None:
    m = model()
    reg = m.regulator("SAMR")
    reg.investigations.clear()
    row = m.firm_row("Alibaba")
    reg.open_investigation(row, 3)
    closed_before = sum(reg.outcomes.values())
    m.month = 2
    reg.close_due()
    assert row in reg.investigations
    m.month = 3
    reg.close_due()
    assert row not in reg.investigations
    assert sum(reg.outcomes.values()) == closed_before + 1


def test_reopening_never_shortens_an_investigation() -> None:
    m = model()
    reg = m.regulator("SAMR")
    reg.open_investigation(0, 9)
    reg.open_investigation(0, 2)
    assert reg.investigations[0] == m.month + 9


def test_no_pressure_ends_in_a_warning() -> None:
    m = model()
    reg = m.regulator("CAC")
    row = m.firm_row("Didi")
    m.firms.compliance[row] = 1.0
    m.firms.strikes[row] = 0.0
    assert reg.pressure(row) == 0.0
    assert {reg.sanction(row) for _ in range(50)} == {"warning"}
    assert m.treasury_cny_bn == 0.0


def _outcomes(m: PolicyModel, regulator: str, row: int, *, compliance: float, strikes: float,
              n: int) -> dict[str, int]:  # fmt: skip
    reg = m.regulator(regulator)
    reg.stringency = 0.6
    counts = dict.fromkeys(OUTCOMES, 0)
    for _ in range(n):
        m.firms.compliance[row] = compliance
        m.firms.strikes[row] = strikes
        m.firms.freeze_until[row] = 0
        counts[reg.sanction(row)] += 1
    return counts


def test_more_pressure_and_strikes_escalate_the_pyramid() -> None:
    m = model()
    row = m.firm_row("Tencent")
    mild = _outcomes(m, "CAC", row, compliance=0.8, strikes=0.0, n=400)
    harsh = _outcomes(m, "CAC", row, compliance=0.2, strikes=2.0, n=400)
    assert harsh["fine"] + harsh["freeze"] > 2 * (mild["fine"] + mild["freeze"])
    assert harsh["warning"] == 0  # pressure above the order threshold
    assert mild["warning"] > 0


# -- sanctions -------------------------------------------------------------------------------


def test_a_fine_is_a_share_of_domestic_revenue() -> None:
    m = model()
    reg = m.regulator("SAMR")
    f = m.firms
    row = m.firm_row("Alibaba")
    domestic = f.revenue[row] * f.domestic_share[row]
    assert reg.impose_fine(row, share_of_revenue=0.04) == pytest.approx(0.04 * domestic)


def test_a_fine_never_exceeds_the_legal_cap() -> None:
    m = model()
    reg = m.regulator("CAC")
    f = m.firms
    row = m.firm_row("Didi")
    cap = reg.spec.legal_cap * f.revenue[row] * f.domestic_share[row]
    assert reg.impose_fine(row, share_of_revenue=0.5) == pytest.approx(cap)
    assert reg.impose_fine(row, amount_cny_bn=1e4) == pytest.approx(cap)
    assert reg.impose_fine(row, amount_cny_bn=0.001) == pytest.approx(0.001)


def test_a_fine_lowers_cash_raises_compliance_and_strikes() -> None:
    m = model()
    reg = m.regulator("SAMR")
    f = m.firms
    row = m.firm_row("Meituan")
    cash, compliance, strikes = f.cash[row], f.compliance[row], f.strikes[row]
    amount = reg.impose_fine(row, share_of_revenue=0.03)
    assert amount > 0
    assert f.cash[row] == pytest.approx(cash - amount)
    assert f.compliance[row] > compliance
    assert f.strikes[row] == strikes + 1.0
    assert f.sanction_memory[row] > 0
    assert m.flows["fines_count"] == 1
    assert m.flows["fines_value_cny_bn"] == pytest.approx(amount)


@settings(max_examples=60, deadline=None)
@given(
    regulator=st.sampled_from(["CAC", "SAMR", "PBoC", "MIIT", "MOFCOM"]),
    row=st.integers(0, 15),
    share=st.one_of(st.none(), st.floats(0.0, 0.5)),
    amount=st.floats(0.0, 1e4),
)
def test_a_fine_moves_exactly_its_amount_to_the_treasury(
    regulator: str, row: int, share: float | None, amount: float
) -> None:
    m = model()
    reg = m.regulator(regulator)
    f = m.firms
    cap = reg.spec.legal_cap * f.revenue[row] * f.domestic_share[row]
    others = np.delete(f.cash, row).copy()
    cash, treasury = float(f.cash[row]), m.treasury_cny_bn
    if share is None:
        fine = reg.impose_fine(row, amount_cny_bn=amount)
    else:
        fine = reg.impose_fine(row, share_of_revenue=share)
    assert 0.0 <= fine <= cap + 1e-12
    assert cash - f.cash[row] == pytest.approx(fine, rel=1e-12, abs=1e-12)
    assert m.treasury_cny_bn - treasury == pytest.approx(fine, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(np.delete(f.cash, row), others)


@settings(max_examples=40, deadline=None)
@given(
    regulator=st.sampled_from(["CAC", "SAMR", "PBoC", "MIIT", "MOFCOM"]),
    compliance=st.floats(0.0, 1.0),
    strikes=st.floats(0.0, 10.0),
    stringency=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
def test_pyramid_fines_stay_within_the_legal_cap(
    regulator: str, compliance: float, strikes: float, stringency: float, seed: int
) -> None:
    m = model(seed=seed)
    reg = m.regulator(regulator)
    reg.stringency = stringency
    f = m.firms
    row = m.firm_row("Alibaba")
    f.compliance[row], f.strikes[row] = compliance, strikes
    cap = reg.spec.legal_cap * f.revenue[row] * f.domestic_share[row]
    outcome = reg.sanction(row)
    assert outcome in OUTCOMES
    assert 0.0 <= m.treasury_cny_bn <= cap + 1e-12
    assert (m.treasury_cny_bn > 0) == (outcome == "fine" and f.revenue[row] > 0)
    assert 0.0 <= f.compliance[row] <= 1.0


def test_a_freeze_runs_its_months_and_is_never_shortened() -> None:
    m = model()
    reg = m.regulator("CAC")
    row = m.firm_row("Didi")
    k = FREEZE_KINDS.index("app_removal")
    compliance = m.firms.compliance[row]
    reg.impose_freeze(row, "app_removal", 6)
    reg.impose_freeze(row, "app_removal", 2)
    assert m.firms.frozen(5)[row, k] and not m.firms.frozen(6)[row, k]
    assert m.firms.compliance[row] > compliance
    assert m.flows["freezes"] == 2
    assert m.treasury_cny_bn == 0.0


def test_an_order_raises_compliance_by_half_a_strike() -> None:
    m = model()
    reg = m.regulator("MIIT")
    row = m.firm_row("NetEase")
    compliance, strikes = m.firms.compliance[row], m.firms.strikes[row]
    reg.issue_order(row)
    assert m.firms.compliance[row] > compliance
    assert m.firms.strikes[row] == strikes + 0.5
    assert m.flows["orders"] == 1


# -- timeline sanctions ----------------------------------------------------------------------


def _timeline_run(*events: str, months: int = 6):  # noqa: ANN202 - a RunResult
    sc = short("baseline", *quiet(), *events, months=months)
    return run_scenario(sc, 0)


def test_a_timeline_fine_is_imposed_at_its_date() -> None:
    result = _timeline_run(
        "timeline.t_fine={date: 2020-03, type: fine, firm: Alibaba, regulator: SAMR, "
        "amount_cny_bn: 5}"
    )
    ts = result.timeseries
    usd = result.scenario.params.valuation.usd_per_cny
    assert ts["fines_count"].tolist() == [0, 0, 1, 0, 0, 0]
    assert ts["fines_value_usd"].iloc[2] == pytest.approx(5e9 * usd)


def test_a_timeline_fine_by_share_is_capped() -> None:
    sc = short(
        "baseline", *quiet(), "regulators.CAC.legal_cap=0.05",
        "timeline.t_fine={date: 2020-01, type: fine, firm: Didi, regulator: CAC, "
        "share_of_revenue: 0.5}",
    )  # fmt: skip
    m = PolicyModel(scenario=sc, rng=0)
    f = m.firms
    row = m.firm_row("Didi")
    cap = 0.05 * f.revenue[row] * f.domestic_share[row]
    m.step()
    assert m.treasury_cny_bn == pytest.approx(cap)


def test_a_timeline_freeze_is_in_force_for_its_months() -> None:
    ts = _timeline_run(
        "timeline.t_freeze={date: 2020-02, type: freeze, firm: Didi, regulator: CAC, "
        "kind: app_removal, months: 3}"
    ).timeseries
    assert ts["freezes_active"].tolist() == [0, 1, 1, 1, 0, 0]


def test_a_timeline_investigation_opens_and_closes_by_the_pyramid() -> None:
    sc = short(
        "baseline", *quiet(),
        "timeline.t_probe={date: 2020-02, type: investigation, firm: Alibaba, regulator: SAMR, "
        "months: 2}",
        months=6,
    )  # fmt: skip
    m = PolicyModel(scenario=sc, rng=0)
    reg = m.regulator("SAMR")
    counts = []
    for _ in range(6):
        m.step()
        counts.append((len(reg.investigations), sum(reg.outcomes.values())))
    assert counts == [(0, 0), (1, 0), (1, 0), (0, 1), (0, 1), (0, 1)]


def test_enforcement_is_busier_in_the_crackdown() -> None:
    base = step(model("baseline", months=36), 36).timeseries()
    crack = step(model("crackdown", months=36), 36).timeseries()
    assert crack["mean_regulator_stringency"].iloc[-1] > base["mean_regulator_stringency"].iloc[-1]
    assert crack["fines_count"].sum() > base["fines_count"].sum()
    assert crack["mean_compliance"].iloc[-1] > base["mean_compliance"].iloc[-1]


# -- no zero fines ----------------------------------------------------------------------------


def test_a_zero_fine_is_neither_imposed_nor_counted() -> None:
    m = model("baseline", "regulators.SAMR.fine_rate=0")
    samr, row = m.regulator("SAMR"), m.firm_row("Alibaba")
    cash, compliance = float(m.firms.cash[row]), float(m.firms.compliance[row])
    assert samr.impose_fine(row, share_of_revenue=0.0) == 0.0
    assert m.fine_records == [] and m.flows["fines_count"] == 0
    assert (m.firms.cash[row], m.firms.compliance[row]) == (cash, compliance)


def test_zero_fine_rates_close_cases_without_fines() -> None:
    rates = [f"regulators.{r}.fine_rate=0" for r in scenario("crackdown").regulators]
    result = run_scenario(scenario("crackdown", *rates), 0)
    # The crackdown's fine decisions are sized by the rates too: none is imposed.
    assert result.fines.empty
    assert result.summary["total_fines_count"] == 0


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_draw_without_replacement_draws_what_rng_choice_draws(size: int) -> None:
    for seed in range(20):
        weights = np.random.default_rng(100 + seed).random(40) ** 3
        weights[::5] = 0.0
        p = weights / weights.sum()
        mine, numpy = np.random.default_rng(seed), np.random.default_rng(seed)
        rows = draw_without_replacement(mine, p.copy(), size)
        expected = numpy.choice(len(p), size, replace=False, p=p)
        assert rows.tolist() == expected.tolist()
        assert mine.bit_generator.state == numpy.bit_generator.state
