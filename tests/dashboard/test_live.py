"""The model the dashboard steps, and what its components read from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.dashboard.live import (
    DashboardModel,
    baseline_timeseries,
    default_folder,
    firms_table,
    marked_events,
    network_snapshot,
    save_run,
)
from sim.errors import ResultsError
from sim.model.runner import run_scenario
from tests.helpers import scenario


def _model(source: str = "crackdown", **values: object) -> DashboardModel:
    return DashboardModel(source=source, **{"months": "12", **values})


def test_steps_month_by_month_and_stops_at_the_end() -> None:
    model = _model()
    assert "not started" in model.view.date_text and model.view.date is None
    for month in range(1, 13):
        assert model.running
        model.step()
        assert model.months_done == month == model.steps == model.view.months_done
        assert len(model.view.timeseries) == month
    assert not model.running
    assert model.view.date_text.startswith("2020-12 · month 12 of 12")
    model.step()  # Mesa's controller may ask once more: nothing happens
    assert model.months_done == 12 == model.steps == len(model.timeseries())


def test_the_same_seed_gives_the_same_run_as_the_runner() -> None:
    model = _model(seed="4")
    for _ in range(12):
        model.step()
    expected = run_scenario(model.scenario, 4).timeseries
    pd.testing.assert_frame_equal(model.timeseries(), expected)


def test_an_invalid_value_keeps_the_scenario_and_does_not_step() -> None:
    model = _model(**{"regulators.SAMR.fine_rate": 0.4})
    assert model.error is not None and "legal_cap" in model.error
    assert (
        model.scenario.regulators["SAMR"].fine_rate
        == scenario("crackdown").regulators["SAMR"].fine_rate
    )
    model.step()
    assert model.months_done == 0 == model.steps and not model.running


def test_the_baseline_runs_with_the_same_seed_and_overrides() -> None:
    model = _model(seed="2", show_baseline=True, **{"params.cities.deal_rate": 1.5})
    assert model.baseline is not None
    expected = baseline_timeseries(["months=12", "params.cities.deal_rate=1.5"], 2)
    assert expected is not None
    pd.testing.assert_frame_equal(model.baseline, expected)
    assert len(model.baseline) == 12
    assert _model(source="baseline", show_baseline=True).baseline is None
    assert _model(show_baseline=False).baseline is None


def test_the_baseline_is_left_out_when_the_overrides_do_not_apply_to_it() -> None:
    assert baseline_timeseries(["regulators.NoSuchRegulator.fine_rate=0.01"], 0) is None


def test_marked_events_are_the_timeline_events_to_mark_in_date_order() -> None:
    sc = scenario("history_2020_2025")
    events = marked_events(sc)
    assert len(events) == sum(e.mark for e in sc.timeline.values()) > 0
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert all(e.label for e in events)


def test_the_firms_table_has_every_named_firm_largest_first() -> None:
    model = _model()
    for _ in range(3):
        model.step()
    table = firms_table(model)
    assert sorted(table["firm"]) == sorted(model.scenario.firms)
    values = table["value US$bn"].to_numpy()
    assert np.all(values[:-1] >= values[1:])
    for column in ("compliance %", "alignment %", "domestic chips %"):
        assert table[column].between(0, 100).all(), column
    assert set(table["golden share"]) <= {"yes", "no"}


def test_the_network_snapshot_is_the_current_influence_state() -> None:
    model = _model()
    model.step()
    snap = network_snapshot(model)
    n = len(snap.names)
    assert snap.position.shape == (n, 2) and snap.weights.shape == (n, n)
    assert len(snap.kinds) == n == len(snap.clout)
    np.testing.assert_allclose(snap.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(snap.policy, model.policy)
    snap.position[:] = -1  # a snapshot is a copy
    assert (model.influence.position >= 0).all()


def test_nothing_to_save_before_the_first_step(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="step the model first"):
        save_run(_model(), tmp_path / "out")
    with pytest.raises(ResultsError, match="nothing to save"):
        save_run(_model(**{"months": "0"}), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_save_writes_what_sim_run_writes_for_the_months_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model = _model(seed="9", **{"regulators.SAMR.fine_rate": 0.05})
    for _ in range(5):
        model.step()
    out = save_run(model)
    assert out == default_folder(model) == Path("results/crackdown/seed-9")
    names = {p.name for p in out.iterdir()}
    assert {"timeseries.parquet", "firms.parquet", "stakeholders.parquet", "network.parquet",
            "summary.json", "manifest.json"} <= names  # fmt: skip
    saved = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(saved, model.timeseries(), check_dtype=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["months"] == 5 and manifest["seed"] == 9
    assert manifest["resolved_scenario"]["regulators"]["SAMR"]["fine_rate"] == 0.05


def test_save_refuses_a_folder_that_is_a_file(tmp_path: Path) -> None:
    model = _model()
    model.step()
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(ResultsError, match="not a folder"):
        save_run(model, target)
