"""The model's own collector keeps a row a month and gives what a collector of each month gives."""

from __future__ import annotations

import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model.mesa_interface import collector_reporters
from sim.model.metric_rows import N_ROW, ROW, RunCollector, metric_columns, row_values
from sim.model.metrics import METRIC_NAMES, month_values
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers import SHIPPED


def _plain(model: PolicyModel) -> PolicyModel:
    """Give ``model`` Mesa's own collector of the same reporters (metrics computed each month)."""
    model.datacollector = mesa.DataCollector(model_reporters=collector_reporters())
    return model


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Assert two frames hold the same columns, types and bits."""
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        left, right = a[name].to_numpy(), b[name].to_numpy()
        assert left.dtype == right.dtype, name
        if left.dtype.kind == "f":
            assert left.tobytes() == right.tobytes(), name
        else:
            assert left.tolist() == right.tolist(), name


def test_a_row_holds_the_firm_sums_the_flows_and_the_centre() -> None:
    assert len(ROW) == len(set(ROW)) == N_ROW
    assert ROW[:3] == ("compliance", "alignment", "expansion_revenue")
    assert ROW[-1] == "pull_stakeholders"


@pytest.mark.parametrize("name", SHIPPED)
def test_rows_give_the_values_a_collector_of_each_month_gives(name: str) -> None:
    scenario = load_scenario(name, ["months=30"])
    kept, plain = PolicyModel(scenario=scenario, rng=4), _plain(PolicyModel(scenario, rng=4))
    assert type(kept.datacollector) is RunCollector
    for month in range(30):
        kept.step()
        plain.step()
        if month in (0, 7, 8):  # read between months: the months so far, then on from there
            _same(kept.datacollector.get_model_vars_dataframe(),
                  plain.datacollector.get_model_vars_dataframe())  # fmt: skip
    _same(kept.datacollector.get_model_vars_dataframe(),
          plain.datacollector.get_model_vars_dataframe())  # fmt: skip
    _same(kept.timeseries(), plain.timeseries())
    assert kept.datacollector.months_kept == 30 and plain.datacollector.model_vars["date"]


def test_a_run_past_its_months_keeps_every_row() -> None:
    kept = PolicyModel("crackdown", seed=2, months=3)
    plain = _plain(PolicyModel("crackdown", seed=2, months=3))
    for _ in range(11):
        kept.step()
        plain.step()
    _same(kept.timeseries(), plain.timeseries())
    assert len(kept.datacollector.model_vars["hhi"]) == 11


def test_a_collector_set_during_a_run_collects_from_then_on() -> None:
    model = PolicyModel("thaw", seed=5, months=12)
    for _ in range(4):
        model.step()
    first = model.datacollector
    model.datacollector = RunCollector(model, model_reporters=collector_reporters())
    plain = mesa.DataCollector(model_reporters=collector_reporters())
    for _ in range(5):
        model.step()
        plain.collect(model)
    assert len(first.model_vars["hhi"]) == 4
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5 and len(model.timeseries()) == 5
    _same(frame.drop(columns=["date"]), plain.get_model_vars_dataframe().drop(columns=["date"]))


def test_one_row_and_many_give_the_same_values() -> None:
    model = PolicyModel("history_2020_2025", seed=1, months=20)
    for _ in range(20):
        model.step()
    rows = model.datacollector._rows[:20]
    columns = metric_columns(model, rows)
    assert tuple(columns) == METRIC_NAMES
    for i in (0, 9, 19):
        one = row_values(model, rows[i])
        assert tuple(one) == METRIC_NAMES
        for name, value in one.items():
            column = columns[name]
            assert type(value) is (int if column.dtype.kind == "i" else float), name
            assert np.array([value], dtype=column.dtype).tobytes() == column[i : i + 1].tobytes()
    assert month_values(model) == row_values(model, rows[19])


def test_a_runs_result_still_pickles() -> None:
    result = run_scenario(load_scenario("baseline", ["months=2"]), seed=0)
    _same(pickle.loads(pickle.dumps(result)).timeseries, result.timeseries)
