"""The one entry point: determinism, seeds, results and no hidden state."""

from __future__ import annotations

import gc
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.model.metrics import METRIC_NAMES
from sim.model.runner import MAX_SEED, RunResult, check_seed, run_scenario
from sim.scenario.base import DIMENSIONS
from sim.scenario.loader import scenario_hash
from tests.helpers import SHIPPED, run, scenario, short


def assert_same_run(a: RunResult, b: RunResult) -> None:
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.stakeholders, b.stakeholders, check_exact=True)
    pd.testing.assert_frame_equal(a.network, b.network, check_exact=True)


@pytest.mark.parametrize("name", SHIPPED)
def test_the_same_seed_gives_identical_results(name: str) -> None:
    sc = scenario(name)
    assert_same_run(run_scenario(sc, 7), run_scenario(sc, 7))


@pytest.mark.parametrize("name", SHIPPED)
def test_different_seeds_give_different_results(name: str) -> None:
    a, b = run(name, 0).timeseries, run(name, 1).timeseries
    assert not a.drop(columns="date").equals(b.drop(columns="date"))


def test_runs_do_not_depend_on_what_ran_before() -> None:
    sc, other = short("thaw", months=24), short("export_controls", months=24)
    first = run_scenario(sc, 5)
    run_scenario(other, 9)
    run_scenario(sc, 6)
    assert_same_run(first, run_scenario(sc, 5))


def test_runs_leave_global_random_state_alone() -> None:
    np_state, py_state = np.random.get_state(), random.getstate()
    run_scenario(short("crackdown", months=24), 3)
    after = np.random.get_state()
    assert np_state[0] == after[0]
    np.testing.assert_array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]
    assert random.getstate() == py_state


def test_global_random_state_does_not_change_results() -> None:
    sc = short("crackdown", months=24)
    np.random.seed(1)
    random.seed(1)
    a = run_scenario(sc, 3)
    np.random.seed(2)
    random.seed(2)
    assert_same_run(a, run_scenario(sc, 3))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, MAX_SEED), name=st.sampled_from(SHIPPED))
def test_any_seed_is_reproducible(seed: int, name: str) -> None:
    sc = short(name, months=12)
    assert_same_run(run_scenario(sc, seed), run_scenario(sc, seed))


@settings(max_examples=6, deadline=None)
@given(a=st.integers(0, MAX_SEED), b=st.integers(0, MAX_SEED))
def test_any_two_seeds_differ(a: int, b: int) -> None:
    assume(a != b)
    sc = short("baseline", months=24)
    ta, tb = run_scenario(sc, a).timeseries, run_scenario(sc, b).timeseries
    assert not ta.drop(columns="date").equals(tb.drop(columns="date"))


@pytest.mark.parametrize("seed", [-1, 2**63, 1.0, "1", True, None, np.float64(2.0)])
def test_bad_seeds_are_refused(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be an integer"):
        check_seed(seed)
    with pytest.raises(ValueError, match="seed must be an integer"):
        run_scenario(short(), seed)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(seed=st.one_of(st.integers(), st.floats(), st.text(max_size=3), st.booleans(), st.none()))
def test_check_seed_accepts_exactly_the_valid_integers(seed: object) -> None:
    valid = isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED
    if valid:
        assert check_seed(seed) == seed
    else:
        with pytest.raises(ValueError):
            check_seed(seed)


def test_the_result_describes_the_run() -> None:
    sc = short("crackdown", months=14)
    result = run_scenario(sc, 4, collect_firms=True)
    assert result.scenario is sc
    assert result.scenario_hash == scenario_hash(sc)
    assert result.seed == 4
    assert result.wall_s > 0
    ts = result.timeseries
    assert list(ts.columns) == ["date", *METRIC_NAMES]
    assert len(ts) == 14
    holders = result.stakeholders
    assert list(holders.columns) == ["date", "stakeholder", "kind", "clout", "salience",
                                     *DIMENSIONS]  # fmt: skip
    assert holders["date"].nunique() == 14
    assert holders.groupby("date").size().nunique() == 1
    assert holders[list(DIMENSIONS)].stack().between(0.0, 1.0).all()
    network = result.network
    assert list(network.columns) == ["date", "listener", "speaker", "weight"]
    # Each December and the last month.
    assert sorted(network["date"].unique()) == [pd.Timestamp("2020-12-01"),
                                                pd.Timestamp("2021-02-01")]  # fmt: skip
    assert network["weight"].between(0.0, 1.0).all()
    sums = network.groupby(["date", "listener"])["weight"].sum()
    assert (sums <= 1.0 + 1e-9).all()
    assert result.firm_timeseries is not None
    assert result.summary["final_market_value_usd"] == ts["market_value_usd"].iloc[-1]


def test_firms_are_not_collected_unless_asked() -> None:
    assert run_scenario(short(months=2), 0).firm_timeseries is None


def test_collecting_firms_or_checking_does_not_change_the_run() -> None:
    sc = short("history_2020_2025", months=36)
    plain = run_scenario(sc, 2)
    assert_same_run(plain, run_scenario(sc, 2, collect_firms=True, check=True))


@pytest.mark.parametrize("name", SHIPPED)
def test_a_finished_run_leaves_no_cyclic_garbage(name: str) -> None:
    # A finished model is freed by reference counting (release_model breaks its cycles): none
    # of it waits for the cyclic collector, whose passes over the older generations cost more.
    sc = short(name, months=14)
    run_scenario(sc, 3, collect_firms=True, check=True)  # caches and kernels loaded first
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        result = run_scenario(sc, 4, collect_firms=True, check=True)
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
    assert len(result.timeseries) == 14
