"""A scenario's solved start is kept for its next runs, and those runs are the same bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.model import start_cache
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario, with_overrides
from sim.scenario.schema import Scenario


@pytest.fixture(scope="module")
def history() -> Scenario:
    return load_scenario("history_2020_2025", ["months=24"])


def _arrays(model: PolicyModel) -> dict[str, Any]:
    """Every number and array of the state the solve writes, by holder and name."""
    holders = {"model": model, "firms": model.firms, "influence": model.influence,
               "chips": model.chips, "uncertainty": model._uncertainty,
               **{f"regulator {r.name}": r for r in model.regulators},
               **{f"city {c.name}": c for c in model.cities}}  # fmt: skip
    out = {}
    for label, holder in holders.items():
        for name, value in vars(holder).items():
            if isinstance(value, np.ndarray | float):
                out[f"{label}.{name}"] = value
    return out


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for name, x in a.items():
        y = b[name]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and x.strides == y.strides, name
            assert x.tobytes() == y.tobytes(), name
            assert not np.shares_memory(x, y), f"{name} is shared between runs"
        else:
            assert np.float64(x).tobytes() == np.float64(y).tobytes(), name


def test_a_kept_start_is_the_solved_start(history: Scenario) -> None:
    start_cache.clear()
    solved = PolicyModel(history, rng=1)
    assert id(history) in start_cache._solved
    kept = PolicyModel(history, rng=2)
    _assert_same(_arrays(solved), _arrays(kept))


def test_runs_from_a_kept_start_are_identical(history: Scenario) -> None:
    start_cache.clear()
    first = run_scenario(history, 5)
    again = run_scenario(history, 5)  # from the kept start
    start_cache.clear()
    fresh = run_scenario(history, 5)
    for other in (again, fresh):
        assert first.timeseries.equals(other.timeseries)
        assert first.stakeholders.equals(other.stakeholders)
        assert first.network.equals(other.network)


def test_a_run_does_not_change_the_kept_start(history: Scenario) -> None:
    start_cache.clear()
    run_scenario(history, 0)
    before = _arrays(PolicyModel(history, rng=0))
    run_scenario(history, 1)
    _assert_same(before, _arrays(PolicyModel(history, rng=0)))


def test_another_start_state_is_solved_again(history: Scenario) -> None:
    start_cache.clear()
    PolicyModel(history, rng=0)
    kept = start_cache._solved[id(history)]
    # The same scenario object but a different state before the solve: the check refuses the
    # kept start and the solve runs (here the compliance the firms start from differs).
    model = PolicyModel(history, rng=0)
    model.firms.compliance[:] = 0.123
    calls: list[PolicyModel] = []

    def solve(m: PolicyModel) -> None:
        calls.append(m)

    start_cache.solve_once(model, solve)
    assert calls == [model]
    assert start_cache._solved[id(history)] is not kept


def test_synthetic_firms_are_solved_every_run(history: Scenario) -> None:
    start_cache.clear()
    synthetic = with_overrides(history, {"n_synthetic_firms": 20})
    a, b = PolicyModel(synthetic, rng=0), PolicyModel(synthetic, rng=1)
    assert not start_cache._solved
    assert a.firms.compliance.tobytes() != b.firms.compliance.tobytes()


@pytest.mark.parametrize("name", ["baseline", "crackdown", "thaw", "export_controls",
                                  "history_2020_2025", "history_no_trigger"])  # fmt: skip
def test_a_start_kept_from_another_seed_gives_the_fresh_run(name: str) -> None:
    scenario = load_scenario(name, ["months=18"])
    start_cache.clear()
    fresh = run_scenario(scenario, 7)
    start_cache.clear()
    run_scenario(scenario, 3)  # solves the start
    kept = run_scenario(scenario, 7)  # from the start kept by seed 3's run
    assert id(scenario) in start_cache._solved
    for table in ("timeseries", "fines", "stakeholders", "network"):
        assert getattr(fresh, table).equals(getattr(kept, table)), table


def test_firms_kept_for_a_scenario_are_a_fresh_build_and_share_no_array(history: Scenario) -> None:
    start_cache.clear()
    kept_a = start_cache.firms(history, np.random.default_rng(1))
    kept_b = start_cache.firms(history, np.random.default_rng(2))
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    fresh = start_cache._build_firms(history, rng)
    assert rng.bit_generator.state == state  # named firms alone draw nothing
    assert list(vars(kept_a)) == list(vars(fresh))
    for name, value in vars(fresh).items():
        copy, other = getattr(kept_a, name), getattr(kept_b, name)
        if isinstance(value, np.ndarray):
            assert copy.dtype == value.dtype and copy.strides == value.strides, name
            assert copy.tobytes() == value.tobytes(), name
            assert not np.shares_memory(copy, other), f"{name} is shared between models"
        elif isinstance(value, list):
            assert copy == value and copy is not other, name
        elif not hasattr(value, "empty"):  # the kept temporaries start empty in each
            assert copy == value, name
    assert kept_a.buffers is not kept_b.buffers


def test_synthetic_firms_are_drawn_for_each_model(history: Scenario) -> None:
    synthetic = with_overrides(history, {"n_synthetic_firms": 20})
    a = start_cache.firms(synthetic, np.random.default_rng(1))
    b = start_cache.firms(synthetic, np.random.default_rng(2))
    assert a.revenue.tobytes() != b.revenue.tobytes()


def test_a_snapshot_tells_apart_every_bit_and_type(history: Scenario) -> None:
    """A model matches the snapshot of its state before the solve only when nothing differs."""
    model = PolicyModel(history, rng=0)
    snapshot = start_cache.Snapshot.of(start_cache._dicts(model))
    assert snapshot.matches(start_cache._dicts(model))
    regulator = model.regulators[0]
    changes: list[tuple[Any, str, Any]] = [
        (regulator, "stringency", -0.0 if regulator.stringency == 0.0 else regulator.stringency
         * (1.0 + 2.0**-52)),
        (model.firms, "compliance", model.firms.compliance.astype(np.float32)),
        (model.firms, "strikes", model.firms.strikes[:-1].copy()),
        (regulator, "opened", True),  # a bool where an int was, equal to 1 or not
        (model.cities[0], "deals", 1.0),
    ]  # fmt: skip
    for holder, name, value in changes:
        was = getattr(holder, name)
        setattr(holder, name, value)
        assert not snapshot.matches(start_cache._dicts(model)), name
        setattr(holder, name, was)
        assert snapshot.matches(start_cache._dicts(model)), name
    model.firms.revenue[3] = np.nextafter(model.firms.revenue[3], np.inf)
    assert not snapshot.matches(start_cache._dicts(model))
