"""The cities' compiled month gives, bit for bit, the Python a city's step did on its own."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import city_kernels as ck
from sim.model.agents.municipalities import cities_month, influence_rows
from sim.model.mesa_interface import shuffle_step, shuffled
from sim.model.runner import run_scenario
from tests.helpers import SHIPPED, model
from tests.model.test_rest_kernels import same_bits


def python_month(
    gdp: float, stance: float, signal: float, constants: np.ndarray, state: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A city's month as ``Municipality.step`` wrote it in Python: new state, rates, anchors."""
    state = state.copy()
    n = state.shape[1]
    rate, anchor = np.zeros(n), np.zeros(n)
    for i in range(n):
        memory, refill, cap, target, gap_scale, caution, threshold, deal_rate, ideal, strength = (
            constants[:, i].tolist()
        )
        seen = state[ck.SEEN, i].item()
        state[ck.SEEN, i] = seen = seen + (gdp - seen) / memory
        budget = state[ck.BUDGET, i].item()
        refilled = min(budget + refill, cap)
        state[ck.REFILLED, i] = state[ck.REFILLED, i].item() + (refilled - budget)
        state[ck.BUDGET, i] = refilled
        gap = target - seen
        share = gap / gap_scale
        if share > 0.0:
            support = min(
                max(1.0 - caution * stance / threshold + 0.5 * max(signal, 0.0), 0.0), 1.0
            )
            rate[i] = deal_rate * min(share, 1.0) * support
        anchor[i] = min(max(ideal - strength * max(gap, 0.0), 0.0), 1.0)
    return state, rate, anchor


finite = st.floats(-2.0, 2.0, allow_nan=False) | st.sampled_from([0.0, -0.0, 1.0, -1e-300])
numbers = finite | st.sampled_from([np.nan, np.inf, -np.inf])


@settings(max_examples=300, deadline=None)
@given(
    gdp=numbers, stance=numbers, signal=numbers,
    columns=st.lists(st.tuples(*[numbers] * (ck.N_CONSTANTS + ck.N_STATE)), min_size=1,
                     max_size=6),
)  # fmt: skip
def test_city_month_is_the_python_it_replaced(
    gdp: float, stance: float, signal: float, columns: list[tuple[float, ...]]
) -> None:
    table = np.array(columns, dtype=float).T
    constants, state = table[: ck.N_CONSTANTS].copy(), table[ck.N_CONSTANTS :].copy()
    for divisor in (ck.MEMORY, ck.GAP_SCALE, ck.THRESHOLD):  # positive, by the schema
        row = constants[divisor]
        row[~(np.abs(row) > 1e-3)] = 0.5
    n = state.shape[1]
    expected_state, expected_rate, expected_anchor = python_month(
        gdp, stance, signal, constants, state
    )
    anchor = np.full((n + 2, 2), 9.0)
    rows = np.arange(n, dtype=np.int64)[::-1] + 1  # rows of the network, not the cities' order
    rate = np.full(n, 9.0)
    with np.errstate(all="ignore"):
        ck.city_month(gdp, stance, signal, constants, state, anchor, rows, 0, n, rate)
    same_bits(state, expected_state)
    same_bits(rate, expected_rate)
    same_bits(anchor[rows, 0], expected_anchor)
    assert (anchor[0] == 9.0).all() and (anchor[-1] == 9.0).all() and (anchor[:, 1] == 9.0).all()


def test_city_month_does_only_the_cities_it_is_given() -> None:
    constants = np.ones((ck.N_CONSTANTS, 3))
    state = np.zeros((ck.N_STATE, 3))
    anchor, rate = np.full((3, 1), 9.0), np.full(3, 9.0)
    ck.city_month(0.05, 0.1, 0.0, constants, state, anchor, np.arange(3), 1, 2, rate)
    assert (state[:, [0, 2]] == 0.0).all() and state[ck.SEEN, 1] == 0.05
    assert rate[0] == rate[2] == 9.0 and anchor[0, 0] == anchor[2, 0] == 9.0


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("months", [3, 27])
def test_the_cities_month_is_each_city_stepped_in_turn(name: str, months: int) -> None:
    # The model's month does every city's arithmetic at once, then their deals in the shuffled
    # order; stepping each city in that order gives the same model, bit for bit.
    m = model(name, "params.cities.deal_rate=4", months=40, seed=months)
    for _ in range(months):
        m.step()
    m.gdp_growth = 0.03  # a growth gap: deals are offered
    other = copy.deepcopy(m)
    cities_month(m, shuffled(m.random, m.cities))
    shuffle_step(other.random, other.cities)
    same_bits(m.city_table.state, other.city_table.state)
    same_bits(m.city_table.rate, other.city_table.rate)
    same_bits(m.influence.anchor, other.influence.anchor)
    same_bits(m.influence.ties, other.influence.ties)
    same_bits(m.firms.cash, other.firms.cash)
    assert [c.deals for c in m.cities] == [c.deals for c in other.cities]
    assert m.rng.bit_generator.state == other.rng.bit_generator.state
    assert m.random.getstate() == other.random.getstate()


def test_a_city_reads_and_writes_its_own_column() -> None:
    m = model("baseline")
    city = m.city("Hangzhou")
    city.growth_seen, city.budget_cny_bn = 0.01, 3.5
    assert m.city_table.state[ck.SEEN, city.index] == 0.01
    assert m.city_table.state[ck.BUDGET, city.index] == 3.5
    assert all(c.growth_seen != 0.01 for c in m.cities if c is not city)
    assert type(city.budget_cny_bn) is float
    assert list(influence_rows(m)) == [m.influence.index[c.name] for c in m.cities]


def test_a_zero_support_threshold_holds_every_city_back() -> None:
    # The schema allows a threshold of 0: any stance is above it, support is nothing (the
    # division gives inf, or NaN at a stance of 0: no deal either way), and the run goes on.
    result = run_scenario(model("baseline", "params.cities.support_threshold=0.0").scenario, 1)
    assert result.summary["total_deals_signed"] == 0
    assert run_scenario(model("baseline").scenario, 1).summary["total_deals_signed"] > 0
