"""Fines by the regulators' rules; the expected cost of enforcement; compliance that answers it."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.enforcement_risk import (
    domain_columns,
    enforcement_exposure,
    expected_cost,
    month_exposure,
    regulatory_pressure,
)
from sim.model.runner import run_scenario
from tests.helpers import model, scenario, step
from tests.model.test_kernels import same_bits


def _domestic(m, row: int) -> float:  # noqa: ANN001
    return float(m.firms.revenue[row] * m.firms.domestic_share[row])


def test_a_fine_decision_is_sized_by_the_regulators_rate() -> None:
    m = model("baseline", "regulators.SAMR.fine_rate=0.04")
    samr, row = m.regulator("SAMR"), m.firm_row("Alibaba")
    expected = 0.04 * _domestic(m, row)
    assert samr.impose_fine(row) == pytest.approx(expected)
    assert m.fine_records[-1][3] == pytest.approx(expected)


def test_a_pinned_amount_is_kept_and_capped_by_the_legal_cap() -> None:
    m = model()
    samr, row = m.regulator("SAMR"), m.firm_row("Meituan")
    assert samr.impose_fine(row, amount_cny_bn=1.0) == pytest.approx(1.0)
    cap = samr.spec.legal_cap * _domestic(m, row)
    assert samr.impose_fine(row, amount_cny_bn=10 * cap) == pytest.approx(cap)


def test_timeline_fines_follow_the_fine_rate_unless_pinned() -> None:
    low = run_scenario(scenario("crackdown", "regulators.SAMR.fine_rate=0.02"), 0).fines
    high = run_scenario(scenario("crackdown", "regulators.SAMR.fine_rate=0.06"), 0).fines
    first = {f: df.query("firm == 'Alibaba' and regulator == 'SAMR'").iloc[0] for f, df in
             (("low", low), ("high", high))}  # fmt: skip
    assert first["low"]["share_of_revenue"] == pytest.approx(0.02)
    assert first["high"]["share_of_revenue"] == pytest.approx(0.06)
    pinned = run_scenario(scenario("history_2020_2025", "regulators.SAMR.fine_rate=0.06"), 0)
    alibaba = pinned.fines.query("firm == 'Alibaba' and regulator == 'SAMR'")
    assert alibaba["amount_cny_bn"].iloc[0] == pytest.approx(18.228)


def _cost(m) -> np.ndarray:  # noqa: ANN001
    return expected_cost(m.firms, m.regulators, m.params)


@pytest.mark.parametrize(
    "override",
    ["regulators.SAMR.fine_rate=0.07", "regulators.SAMR.capacity=20",
     "regulators.CAC.freeze_months=36", "regulators.CAC.p_fine=1"],
)  # fmt: skip
def test_the_expected_cost_rises_with_fine_rate_hazard_and_freeze_length(override: str) -> None:
    base, changed = model("crackdown", months=24), model("crackdown", override, months=24)
    for m in (base, changed):
        for reg in m.regulators:
            reg.stringency = 0.6
    before, after = _cost(base), _cost(changed)
    assert np.all(after >= before - 1e-15)
    assert after.sum() > before.sum()


def test_the_expected_cost_falls_with_compliance() -> None:
    m = model("crackdown")
    for reg in m.regulators:
        reg.stringency = 0.6
    before = _cost(m)
    # Every firm closes a fifth of its compliance gap: targeting shares stay, pressure falls.
    m.firms.compliance += 0.2 * (1.0 - m.firms.compliance)
    after = _cost(m)
    assert np.all(after <= before * (1.0 + 1e-12))
    assert after.sum() < before.sum()


def test_compliance_effort_answers_to_the_expected_cost() -> None:
    m = model()
    f, n = m.firms, m.firms.n
    low = f.allocate_budget(np.zeros(n), np.zeros(n), 0.7, 0.4, 0, m.params.firms)[:, 0].copy()
    high = f.allocate_budget(np.zeros(n), np.full(n, 0.02), 0.7, 0.4, 0, m.params.firms)[:, 0]
    assert np.all(high > low)


def test_higher_fine_rates_raise_compliance_on_paired_seeds() -> None:
    rates = {"CAC": 0.05, "SAMR": 0.07, "PBoC": 0.09, "MIIT": 0.02, "MOFCOM": 0.02}
    up = [f"regulators.{r}.fine_rate={v}" for r, v in rates.items()]
    diffs = []
    for seed in range(8):  # the paired difference is noisy: 4 seeds can miss it
        base = run_scenario(scenario("crackdown"), seed).timeseries
        high = run_scenario(scenario("crackdown", *up), seed).timeseries
        diffs.append(high["mean_compliance"].mean() - base["mean_compliance"].mean())
    # Partly offset: firms that comply more draw fewer probes, so fewer fines jolt compliance.
    assert np.mean(diffs) > 0.002


def test_investors_price_the_fine_rate() -> None:
    base = model("crackdown", months=30)
    high = model("crackdown", "regulators.SAMR.fine_rate=0.07", months=30)
    step(base, 24)
    step(high, 24)
    assert high.investors.expected_cost().sum() > base.investors.expected_cost().sum()


def test_domain_columns_are_the_regulators_exposure_columns_read_only() -> None:
    m = model()
    f, regulators = m.firms, m.regulators
    columns = domain_columns(f, regulators)
    expected = np.ascontiguousarray(f.exposure[:, [r.domain for r in regulators]].T)
    np.testing.assert_array_equal(columns, expected)
    assert columns.flags.c_contiguous and not columns.flags.writeable
    assert f.exposure.flags.writeable  # the firms' own array stays theirs to change
    reordered = regulators[::-1]
    np.testing.assert_array_equal(domain_columns(f, reordered), expected[::-1])


def test_the_month_exposure_is_the_pressure_and_exposure_on_the_domain_columns() -> None:
    m = step(model("crackdown", "n_synthetic_firms=30", months=14), 14)
    f = m.firms
    f.revenue[-1] = np.nan  # a share of NaN: the largest share is NumPy's
    for regulators in (m.regulators, m.regulators[::-1], m.regulators[1:3], []):
        columns = domain_columns(f, regulators)
        pressure, exposure = month_exposure(f, regulators, m.params)
        same_bits(pressure, regulatory_pressure(f, regulators, columns))
        expected = enforcement_exposure(f, regulators, m.params, columns)
        for name in ("share", "weighted", "top_share"):
            same_bits(getattr(exposure, name), getattr(expected, name))
        for name in ("stringency", "rate", "fine_share", "p_fine", "p_freeze", "freeze_years"):
            same_bits(getattr(exposure.rules, name), getattr(expected.rules, name))
        np.testing.assert_array_equal(exposure.rules.domain, [r.domain for r in regulators])
        same_bits(exposure.expected_cost(), expected.expected_cost())


def test_the_rules_fixed_arrays_follow_the_specifications_not_their_objects() -> None:
    from sim.model import enforcement_risk

    specs = [r.spec for r in model().regulators]
    first = enforcement_risk._static_rules(specs)
    assert enforcement_risk._static_rules(specs) is first  # the same objects: found by identity
    copies = [s.model_copy() for s in specs]
    assert enforcement_risk._static_rules(copies) is first  # equal specifications: same arrays
    changed = [specs[0].model_copy(update={"capacity": specs[0].capacity + 1.0}), *specs[1:]]
    other = enforcement_risk._static_rules(changed)
    assert other is not first
    assert other["capacity"][0] == specs[0].capacity + 1.0
    np.testing.assert_array_equal(other["capacity"][1:], first["capacity"][1:])
    assert enforcement_risk._static_rules(specs) is first  # found again under the first identities
