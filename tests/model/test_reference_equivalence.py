"""The vectorized firm rules and the Mesa-idiomatic reference give the same results.

The benchmarks compare the speed of the model's vectorized firm month with a reference written
one Mesa agent per firm (``benchmarks/reference_firms.py``). These tests check that the speed does
not come from doing less: from the same state (named and synthetic firms, freezes, golden
shares, strikes) and the same inputs, both give the same firm state month after month; and the
benchmark's vectorized month is the firm phase that ``PolicyModel.step`` runs.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.reference_firms import (
    STATE_FIELDS,
    MonthInputs,
    ReferenceFirmModel,
    population_state,
    vectorized_month,
)
from sim.model.agents.firms import FirmPopulation
from sim.model.policy_model import PolicyModel
from tests.helpers import model as make_model
from tests.helpers import step

N_SYNTHETIC = 200


def _assert_same(vectorized: dict[str, np.ndarray], reference: dict[str, np.ndarray], month: int):
    for name in STATE_FIELDS:
        np.testing.assert_allclose(
            vectorized[name], reference[name], rtol=1e-12, atol=1e-12,
            err_msg=f"{name} differs in month {month}",
        )  # fmt: skip


def _mid_run_model(*overrides: str) -> PolicyModel:
    """Return a history model 20 months in, with a synthetic tail.

    Some tail firms get freezes, strikes, golden shares, deal boosts and cash trouble, so that
    every branch of the firm rules is taken.
    """
    m = make_model("history_2020_2025", f"n_synthetic_firms={N_SYNTHETIC}", *overrides,
                   months=36, seed=5)  # fmt: skip
    step(m, 20)
    pop = m.firms
    rng = np.random.default_rng(0)
    tail = pop.n_named + rng.choice(N_SYNTHETIC, size=30, replace=False)
    pop.freeze_until[tail[:10], 1] = m.month + 3  # app removals that lapse during the test
    pop.freeze_until[tail[10:20], 2] = m.month + 6  # licence freezes that outlast it
    pop.strikes[tail[20:]] += 1.5
    pop.golden_share[tail[25:]] = True
    pop.deal_boost[tail[:5]] += 0.02
    pop.cash[tail[5:10]] = -0.5  # firms out of cash, and firms about to run out
    pop.cash[tail[10:15]] = 0.01 * pop.revenue[tail[10:15]]
    pop.margin[tail[5:15]] = -0.3
    return m


@pytest.mark.parametrize(
    "overrides",
    [(), ("params.firms.base_split=[0,0,0,0]",)],
    ids=["calibrated", "zero-budget-weights"],
)
def test_vectorized_and_reference_agree_month_by_month(overrides: tuple[str, ...]) -> None:
    m = _mid_run_model(*overrides)
    assert m.firms.n == len(m.scenario.firms) + N_SYNTHETIC
    pop = copy.deepcopy(m.firms)
    inputs = MonthInputs.from_model(m)
    params = m.params
    ref = ReferenceFirmModel(pop=pop, inputs=inputs, firm_params=params.firms,
                             chip_params=params.chips, rng=1)  # fmt: skip
    _assert_same(population_state(pop), ref.state(), month=inputs.month)
    start_cash = pop.cash[pop.chip_maker].copy()
    for k in range(8):
        # Inputs change from month to month: time passes (freezes lapse), policy and chips move.
        inputs = replace(
            inputs,
            month=inputs.month + 1,
            stringency=tuple(min(s + 0.05 * k, 1.0) for s in inputs.stringency),
            support=max(inputs.support - 0.04 * k, 0.0),
            self_reliance=min(inputs.self_reliance + 0.03 * k, 1.0),
            gdp_growth=0.06 - 0.01 * k,
            market=replace(inputs.market, blocked_share=0.1 * k, power_subsidy=0.02 * k,
                           performance_gap=max(inputs.market.performance_gap - 0.02 * k, 0.0)),
        )  # fmt: skip
        ref.inputs = inputs
        vectorized_month(pop, inputs, params.firms, params.chips)
        ref.step()
        _assert_same(population_state(pop), ref.state(), month=inputs.month)
    # The month did something: firms grew, bought compute, and chip makers were paid.
    assert not np.allclose(pop.revenue, m.firms.revenue)
    assert not np.allclose(pop.compute_domestic, m.firms.compute_domestic)
    if start_cash.size:
        assert ref.domestic_spend > 0.0 and not np.allclose(pop.cash[pop.chip_maker], start_cash)


def test_vectorized_month_is_the_models_firm_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    m = make_model("history_2020_2025", f"n_synthetic_firms={N_SYNTHETIC}", months=24, seed=2)
    seen: list[tuple[FirmPopulation, MonthInputs]] = []
    allocate = FirmPopulation.allocate_budget

    def spy(self: FirmPopulation, *args: object, **kwargs: object) -> np.ndarray:
        if self is m.firms:  # the state and inputs at the start of the model's firm phase
            seen.append((copy.deepcopy(self), MonthInputs.from_model(m)))
        return allocate(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FirmPopulation, "allocate_budget", spy)
    for month in range(m.scenario.months):
        m.step()
        before, inputs = seen[-1]
        assert inputs.month == month
        vectorized_month(before, inputs, m.params.firms, m.params.chips)
        # After the firm phase a month only reprices firms and decays strikes and sanction
        # memory, none of which is compared.
        _assert_same(population_state(before), population_state(m.firms), month=month)
    assert len(seen) == m.scenario.months
