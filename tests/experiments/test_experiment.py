"""Batches: seeds, run keys, planning, a serial batch end to end, failures and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim.experiments.chunks
from sim import load_results, run_batch
from sim.cli import app
from sim.errors import ScenarioError
from sim.experiments.plan import plan_batch, run_key
from sim.experiments.seeds import spawn_seeds
from sim.model.metrics import METRIC_NAMES
from sim.model.runner import MAX_SEED

SHORT = 6  # months: the tests check the machinery, not the model


@settings(max_examples=30, deadline=None)
@given(master=st.integers(0, 2**64), n=st.integers(1, 40), m=st.integers(1, 40))
def test_seeds_in_range_and_stable_under_extension(master: int, n: int, m: int) -> None:
    seeds = spawn_seeds(master, n)
    assert all(0 <= s <= MAX_SEED for s in seeds)
    assert len(set(seeds)) == n
    k = min(n, m)
    assert spawn_seeds(master, m)[:k] == seeds[:k]


def test_seeds_come_from_seed_sequence() -> None:
    child = np.random.SeedSequence(7).spawn(3)[2]
    assert spawn_seeds(7, 3)[2] == int(child.generate_state(1, dtype=np.uint64)[0] >> 1)


def test_run_key_changes_with_each_part() -> None:
    key = run_key("abc", 1, "0.1.0")
    assert len(key) == 16 and key == run_key("abc", 1, "0.1.0")
    assert (
        len(
            {
                key,
                run_key("abd", 1, "0.1.0"),
                run_key("abc", 2, "0.1.0"),
                run_key("abc", 1, "0.2.0"),
            }
        )
        == 4
    )


def test_plan_uses_common_random_numbers_in_canonical_order() -> None:
    plan = plan_batch(["crackdown", "baseline"], replicates=3, seed=5, months=SHORT)
    specs = plan.specs
    assert [(s.scenario, s.replicate) for s in specs] == [
        (name, k) for name in ("crackdown", "baseline") for k in range(3)
    ]
    assert [s.index for s in specs] == list(range(6))
    by_rep = {k: {s.seed for s in specs if s.replicate == k} for k in range(3)}
    assert all(len(seeds) == 1 for seeds in by_rep.values())  # same seed in every scenario
    assert [next(iter(by_rep[k])) for k in range(3)] == spawn_seeds(5, 3) == plan.seeds
    assert len({s.run_id for s in specs}) == 6
    assert [s.detail for s in specs] == [True, False, False] * 2
    again = plan_batch(["crackdown", "baseline"], replicates=3, seed=5, months=SHORT)
    assert again.spec_hash == plan.spec_hash
    other = plan_batch(["crackdown", "baseline"], replicates=3, seed=6, months=SHORT)
    assert other.spec_hash != plan.spec_hash


def test_plan_applies_overrides_to_every_scenario() -> None:
    plan = plan_batch(
        ["baseline", "thaw"],
        replicates=1,
        overrides=["regulators.SAMR.fine_rate=0.07"],
        months=SHORT,
    )
    assert all(sc.regulators["SAMR"].fine_rate == 0.07 for sc in plan.scenarios.values())
    assert all(sc.months == SHORT for sc in plan.scenarios.values())


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"scenarios": ["thaw", "thaw"]}, "given twice"),
        ({"scenarios": ["thaw"], "replicates": 0}, "replicates=0"),
        ({"scenarios": ["thaw"], "seed": -1}, "seed=-1"),
        ({"scenarios": ["nosuch"]}, "scenario nosuch: unknown scenario"),
        (
            {
                "scenarios": ["baseline"],
                "overrides": ["timeline.stance_peak.platform_stringency=1"],
            },
            "scenario baseline",
        ),
    ],
)
def test_bad_batches_are_refused_before_running(kwargs: dict, needle: str) -> None:
    with pytest.raises(ScenarioError, match=needle):
        plan_batch(**kwargs)


def test_serial_batch_writes_the_layout(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = run_batch(
        ["crackdown", "thaw"], replicates=2, seed=1, months=SHORT, executor="serial", out=out
    )
    assert res.complete and res.kind == "batch"
    runs = res.runs
    assert runs.columns.tolist() == [
        "run_id",
        "scenario",
        "scenario_hash",
        "replicate",
        "seed",
        "status",
        "error",
        "wall_s",
    ]
    assert runs["scenario"].tolist() == ["crackdown"] * 2 + ["thaw"] * 2
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    assert runs["seed"].tolist() == spawn_seeds(1, 2) * 2
    ts = res.timeseries
    assert ts.columns.tolist()[:6] == [
        "run_id",
        "scenario",
        "replicate",
        "seed",
        "date",
        METRIC_NAMES[0],
    ]
    assert set(METRIC_NAMES) <= set(ts.columns)
    assert len(ts) == 4 * SHORT
    assert ts["run_id"].drop_duplicates().tolist() == runs["run_id"].tolist()  # canonical order
    assert res.summary["run_id"].tolist() == runs["run_id"].tolist()
    assert {"peak_to_trough_loss_usd", "final_market_value_usd"} <= set(res.summary.columns)
    for detail in (res.stakeholders, res.network):  # replicate 0 of each scenario only
        assert sorted(detail["run_id"].unique()) == sorted(runs.loc[runs.replicate == 0, "run_id"])
        assert {"run_id", "scenario"} <= set(detail.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"total": 4, "done": 4, "failed": 0}
    assert manifest["status"] == "complete" and manifest["finished"]
    assert manifest["master_seed"] == 1 and manifest["replicates"] == 2
    assert set(manifest["resolved_scenarios"]) == {"crackdown", "thaw"}
    assert set(manifest["scenario_descriptions"]) == {"crackdown", "thaw"}
    assert [m["name"] for m in manifest["metrics"]] == list(METRIC_NAMES)
    assert {"versions", "git_commit", "command", "executor", "spec_hash"} <= set(manifest)
    assert not list(out.rglob(".*.tmp"))


@pytest.fixture
def failing_seed(monkeypatch: pytest.MonkeyPatch) -> int:
    """Make runs with one seed raise (in this process: the serial executor)."""
    bad = spawn_seeds(0, 3)[1]
    real = sim.experiments.chunks.run_scenario

    def run(scenario, seed, **kwargs):  # type: ignore[no-untyped-def]
        if seed == bad:
            raise RuntimeError("injected failure")
        return real(scenario, seed, **kwargs)

    monkeypatch.setattr(sim.experiments.chunks, "run_scenario", run)
    return bad


def test_failed_run_is_recorded_and_the_batch_goes_on(tmp_path: Path, failing_seed: int) -> None:
    res = run_batch(
        ["baseline", "thaw"], replicates=3, months=SHORT, executor="serial", out=tmp_path / "b"
    )
    assert res.manifest["status"] == "failed"
    assert res.manifest["counts"] == {"total": 6, "done": 6, "failed": 2}
    failed = res.failed
    assert failed["seed"].tolist() == [failing_seed] * 2
    assert failed["error"].str.contains("RuntimeError: injected failure").all()
    assert len(res.summary) == 4 and res.timeseries["run_id"].nunique() == 4


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path, failing_seed: int) -> None:
    res = run_batch(
        ["baseline", "thaw"],
        replicates=3,
        months=SHORT,
        executor="serial",
        out=tmp_path / "b",
        fail_fast=True,
    )
    assert res.manifest["status"] == "failed"
    assert res.manifest["counts"] == {"total": 6, "done": 2, "failed": 1}


def test_cli_exit_codes(tmp_path: Path, failing_seed: int) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "batch",
            "thaw",
            "--replicates",
            "1",
            "--months",
            str(SHORT),
            "--workers",
            "1",
            "--out",
            str(tmp_path / "ok"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "1/1 runs done, 0 failed" in ok.output
    bad = runner.invoke(
        app,
        [
            "batch",
            "thaw",
            "--replicates",
            "2",
            "--months",
            str(SHORT),
            "--workers",
            "1",
            "--out",
            str(tmp_path / "bad"),
            "-q",
        ],
    )
    assert bad.exit_code == 1
    assert "1 failed" in bad.output and "RuntimeError" in bad.output
    for args in (
        ["batch"],
        ["batch", "thaw", "--all"],
        ["batch", "thaw", "--replicates", "0"],
        ["batch", "thaw", "--executor", "threads", "--out", str(tmp_path / "x")],
        ["batch", "thaw", "--set", "nosuch=1"],
        ["sweep", "nosuch"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "x").exists()  # bad options fail before the folder is made


def test_load_results_refuses_other_folders(tmp_path: Path) -> None:
    from sim.errors import ResultsError

    with pytest.raises(ResultsError, match="no manifest.json"):
        load_results(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(ResultsError, match="kind is 'run'"):
        load_results(tmp_path)


def test_mesa_batch_run_works_on_the_model_and_agrees(tmp_path: Path) -> None:
    """PolicyModel keeps Mesa's conventions, so mesa.batch_run runs it with the same numbers."""
    from mesa.batchrunner import batch_run

    from sim.model.policy_model import PolicyModel

    plan = plan_batch(["crackdown"], replicates=2, months=SHORT)
    sc = plan.scenarios["crackdown"]
    rows = batch_run(
        PolicyModel,
        {"scenario": [sc], "rng": plan.seeds},
        number_processes=1,
        max_steps=SHORT - 1,
        data_collection_period=1,
        display_progress=False,
    )
    mesa = pd.DataFrame(rows)
    ours = run_batch([sc], replicates=2, executor="serial", out=tmp_path / "b").timeseries
    for k, seed in enumerate(plan.seeds):
        theirs = mesa[mesa["rng"] == seed].sort_values("Step")
        mine = ours[ours["replicate"] == k]
        np.testing.assert_array_equal(
            theirs["market_value_usd"].to_numpy(), mine["market_value_usd"].to_numpy()
        )
