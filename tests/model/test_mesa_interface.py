"""PolicyModel as a Mesa user drives it: names, files, typed keywords, seed or rng, running."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.model.agents.municipalities import Municipality
from sim.model.agents.regulators import Regulator
from sim.model.mesa_interface import month_start, shuffle_step
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.search import find_scenario
from tests.helpers import scenario

FINE = {"regulators.SAMR.fine_rate": 0.06, "months": 14}


def _drive(model: PolicyModel) -> PolicyModel:
    while model.running:
        model.step()
    return model


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return run_scenario(scenario("crackdown", "regulators.SAMR.fine_rate=0.06", "months=14"),
                        seed=1).timeseries  # fmt: skip


@pytest.mark.parametrize(
    "build",
    [
        lambda: PolicyModel("crackdown", seed=1, **FINE),
        lambda: PolicyModel(scenario="crackdown", rng=1, **FINE),
        lambda: PolicyModel(find_scenario("crackdown"), seed=np.int64(1).item(), **FINE),
        lambda: PolicyModel(str(find_scenario("crackdown")), rng=1, **FINE),
        lambda: PolicyModel(scenario("crackdown"), seed=1, **{
            "regulators.SAMR.fine_rate": np.float64(0.06), "months": np.int64(14)}),
    ],
    ids=["name-seed", "name-rng", "path", "file-text", "scenario-numpy"],
)
def test_every_way_of_building_it_gives_run_scenarios_result(
    build: object, reference: pd.DataFrame
) -> None:
    model = _drive(build())  # type: ignore[operator]
    assert model.steps == 14
    pd.testing.assert_frame_equal(model.timeseries(), reference)


def test_running_turns_false_after_the_last_month() -> None:
    model = PolicyModel("baseline", seed=0, months=3)
    flags = []
    for _ in range(3):
        assert model.running
        model.step()
        flags.append(model.running)
    assert flags == [True, True, False]


def test_the_datacollector_has_the_date_and_the_scenario_name() -> None:
    model = _drive(PolicyModel("thaw", seed=2, months=5))
    collected = model.datacollector.get_model_vars_dataframe()
    assert list(collected.columns[:2]) == ["date", "scenario"]
    assert set(collected["scenario"]) == {"thaw"}
    assert pd.api.types.is_datetime64_any_dtype(collected["date"])
    assert collected["date"].tolist() == model.timeseries()["date"].tolist()
    assert "scenario" not in model.timeseries().columns


def test_seed_and_rng_together_are_refused_as_mesa_refuses_them() -> None:
    with pytest.raises(ValueError, match="seed or rng, not both"):
        PolicyModel("baseline", seed=1, rng=1)


def test_an_unknown_keyword_is_a_scenario_error_naming_it() -> None:
    with pytest.raises(ScenarioError, match=r"overrides: regulators\.SAMR\.fine_rat: .*fine_rate"):
        PolicyModel("baseline", **{"regulators.SAMR.fine_rat": 0.1})


def test_a_scenario_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="scenario must be a Scenario, a scenario name"):
        PolicyModel(3)  # type: ignore[arg-type]


def test_without_arguments_it_is_the_baseline(tmp_path: Path) -> None:
    assert PolicyModel().scenario.name == "baseline"


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_shuffle_step_steps_in_the_order_of_shuffle_do(seed: int) -> None:
    model = PolicyModel("history_2020_2025", rng=seed)
    for kind, agents in ((Regulator, model.regulators), (Municipality, model.cities)):
        state = model.random.getstate()
        expected: list[str] = []
        model.agents_by_type[kind].shuffle_do(_record, expected)
        after = model.random.getstate()
        model.random.setstate(state)
        seen: list[str] = []
        shuffle_step(model.random, [_Named(a.name, seen) for a in agents])
        assert seen == expected and len(seen) == len(agents) > 1
        assert model.random.getstate() == after


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 6, 8, 9, 17, 33, 64, 65, 200])
def test_shuffle_step_orders_as_random_shuffle_and_leaves_the_same_state(n: int) -> None:
    class Seeded(random.Random):  # a subclass is shuffled by its own shuffle
        pass

    for make in (random.Random, Seeded):
        for seed in range(30):
            ours, theirs = make(seed), make(seed)
            seen: list[str] = []
            shuffle_step(ours, [_Named(str(i), seen) for i in range(n)])
            expected = [str(i) for i in range(n)]
            theirs.shuffle(expected)
            assert seen == expected
            assert ours.getstate() == theirs.getstate()


def _record(agent: Regulator | Municipality, seen: list[str]) -> None:
    seen.append(agent.name)


class _Named:
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name, self.seen = name, seen

    def step(self) -> None:
        self.seen.append(self.name)


@pytest.mark.parametrize("start", ["2020-01", "2019-07", "2021-12", "1999-12"])
def test_month_start_is_the_periods_own_timestamp(start: str) -> None:
    period = pd.Period(start, freq="M")
    for month in [*range(40), 119, 120, 121, 600, 1001]:
        built, converted = month_start(period, month), (period + month).to_timestamp()
        assert built == converted
        assert built.unit == converted.unit
        assert repr(built) == repr(converted)


def test_month_start_reaches_the_last_month_a_date_can_hold() -> None:
    period = pd.Period("2020-01", freq="M")
    last = (9999 - 2020) * 12 + 11
    assert month_start(period, last) == pd.Timestamp("9999-12-01")
    assert month_start(period, last - 5) == (period + last - 5).to_timestamp()
