"""Run specs sent to workers: one scenario object per worker and per design point, the same runs."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim import run_scenario, run_sweep
from sim.experiments import chunks, shipped
from sim.experiments.plan import plan_batch, plan_sweep
from sim.model import initial_state, start_cache
from sim.scenario.loader import with_overrides


def test_pickled_specs_share_one_equal_scenario_and_keep_every_field() -> None:
    specs = plan_batch(["crackdown", "export_controls"], replicates=3).specs
    first = pickle.loads(pickle.dumps(specs[:3]))  # noqa: S301
    later = pickle.loads(pickle.dumps(specs))  # noqa: S301
    assert later == specs
    for spec, again in zip(first, later[:3], strict=True):
        assert again.base is spec.base  # rebuilt once, then reused
    assert later[0].base is not later[3].base
    assert later[0].base == specs[0].base
    assert later[3].base == specs[3].base


def test_encoded_pickles_each_scenario_object_once() -> None:
    spec = plan_batch(["crackdown"], replicates=1).specs[0]
    digest, data = shipped.encoded(spec.base)
    assert shipped.encoded(spec.base)[1] is data
    assert shipped.received(digest, data) is shipped.received(digest, data)
    assert shipped.received(digest, data) == spec.base


def test_replicates_of_a_point_share_one_scenario_and_one_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sweep of 2 points x 3 replicates validates each point's scenario once and solves its
    # start once; every run is the run of a freshly built scenario, bit for bit.
    (tmp_path / "pts.csv").write_text("fine\n0.02\n0.05\n")
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "t", "base": "crackdown", "replicates": 3, "outcomes": ["final_market_value_usd"],
        "parameters": {"fine": {"path": "regulators.SAMR.fine_rate"}},
        "design": {"kind": "csv", "file": "pts.csv"},
    }))  # fmt: skip
    built, solved = Counter[tuple[str, ...]](), [0]
    solve = initial_state._solve_rest

    def counted_solve(model: Any) -> None:
        solved[0] += 1
        solve(model)

    def counted_with(base: Any, overrides: tuple[str, ...]) -> Any:
        built[overrides] += 1
        return with_overrides(base, overrides)

    plan = plan_sweep(path, months=6, seed=4)
    monkeypatch.setattr(chunks, "with_overrides", counted_with)
    monkeypatch.setattr(initial_state, "_solve_rest", counted_solve)
    start_cache.clear()
    res = run_sweep(path, months=6, seed=4, executor="serial", out=tmp_path / "out")
    assert res.complete
    assert sorted(built.values()) == [1, 1] and solved[0] == 2
    stored = res.timeseries
    for spec in plan.specs:
        start_cache.clear()
        fresh = run_scenario(with_overrides(spec.base, spec.overrides), spec.seed).timeseries
        metrics = [c for c in fresh.columns if c not in ("date", "scenario")]
        got = stored.loc[stored["run_id"] == spec.run_id, metrics].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, fresh[metrics].reset_index(drop=True), check_exact=True)
