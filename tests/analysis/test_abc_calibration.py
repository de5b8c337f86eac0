"""ABC-SMC calibration end to end through the CLI: the folder, resume, and posterior batches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.abc_smc import observed_statistics, statistic_weights, statistics
from sim.analysis.free_parameters import load_free_parameters
from sim.analysis.targets import load_targets
from sim.cli import app
from sim.scenario.loader import ENV_PATH
from tests.analysis.test_calibrate import FREE as ONE_PARAMETER
from tests.analysis.test_calibrate import TARGETS

pytest.importorskip("pyabc")

FREE = ONE_PARAMETER.replace("held_out:", """\
  adjust_speed:
    path: valuation.adjust_speed
    bounds: [0.05, 0.35]
    rationale: how fast prices move
held_out:""")
"""The free parameters of the calibration tests, plus a second one (for the pair plot)."""

SMALL = ["--population", "4", "--seeds", "1", "--holdout-seeds", "2", "--draws", "2",
         "--workers", "1", "-q"]  # fmt: skip


def _files(folder: Path) -> tuple[Path, Path, Path]:
    """Write a 12-month scenario folder, a targets file and a two-parameter free file."""
    scenarios = folder / "scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    (scenarios / "short.yaml").write_text("name: short\nextends: baseline\nmonths: 12\n")
    (folder / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    (folder / "free.yaml").write_text(FREE, encoding="utf-8")
    return scenarios, folder / "targets.yaml", folder / "free.yaml"


def _calibrate(files: tuple[Path, Path, Path], out: Path, *extra: str) -> str:
    args = ["calibrate", "--targets", str(files[1]), "--free", str(files[2]), *SMALL,
            "--out", str(out), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Path, Path, Path], Path]:
    """A two-generation calibration of two parameters (computed once)."""
    root = tmp_path_factory.mktemp("abc")
    files = _files(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_PATH, str(files[0]))
        output = _calibrate(files, root / "cal", "--generations", "2")
    (root / "output.txt").write_text(output)
    return files, root / "cal"


@pytest.fixture
def env(calibrated: tuple[tuple[Path, Path, Path], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PATH, str(calibrated[0][0]))


def test_the_folder_holds_a_weighted_posterior_within_the_priors(
    calibrated: tuple[tuple[Path, Path, Path], Path],
) -> None:
    _, out = calibrated
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == ["particle", "deal_rate", "adjust_speed", "weight"]
    assert len(post) == 4
    assert post["weight"].sum() == pytest.approx(1.0)
    assert post["deal_rate"].between(0.1, 2.0).all()
    assert post["adjust_speed"].between(0.05, 0.35).all()
    populations = pd.read_parquet(out / "populations.parquet")
    assert sorted(populations["t"].unique()) == [0, 1]
    generations = pd.read_parquet(out / "generations.parquet")
    assert generations["samples"].sum() >= 4 * 3  # calibration sample and two generations


def test_the_manifest_records_seeds_budget_versions_and_runs(
    calibrated: tuple[tuple[Path, Path, Path], Path],
) -> None:
    _, out = calibrated
    m = json.loads((out / "manifest.json").read_text())
    assert m["settings"]["population"] == 4 and m["settings"]["generations"] == 2
    assert m["master_seed"] == 3 and len(m["fit_seeds"]) == 1 and len(m["holdout_seeds"]) == 2
    assert set(m["sampler_seeds"]) == {"0", "1"}
    assert m["versions"]["pyabc"] != "not installed" and "git_commit" in m
    runs = m["model_runs"]
    assert runs["abc"] == m["evaluations"]  # one fit seed, one scenario
    assert runs["predictive"] == (2 + 2) * 2  # (draws + medians + current) x held-out seeds
    output = (out.parent / "output.txt").read_text()
    assert f"model runs: {runs['total']}" in output


def test_the_figures_and_the_predictive_check_are_written(
    calibrated: tuple[tuple[Path, Path, Path], Path],
) -> None:
    _, out = calibrated
    for name in ("marginals.png", "pairs.png", "comparison.png"):
        assert (out / name).stat().st_size > 10_000
    table = pd.read_parquet(out / "comparison.parquet").set_index("target")
    assert list(table.index) == ["deals", "value_up"]
    assert bool(table.loc["value_up", "held_out"]) and not bool(table.loc["deals", "held_out"])
    assert (table["posterior_n"] == 4).all()  # 2 draws x 2 held-out seeds
    assert (table["medians_n"] == 2).all() and (table["current_n"] == 2).all()
    for arm in ("posterior", "medians", "current"):
        assert (table[f"{arm}_low"] <= table[f"{arm}_rate"]).all()
        assert (table[f"{arm}_rate"] <= table[f"{arm}_high"]).all()


def test_the_comparison_gives_losses_a_verdict_and_a_candidate_with_provenance(
    calibrated: tuple[tuple[Path, Path, Path], Path],
) -> None:
    _, out = calibrated
    verdict = json.loads((out / "comparison.json").read_text())
    m = json.loads((out / "manifest.json").read_text())
    assert set(verdict["losses"]) == {"posterior", "medians", "current"}
    for losses in verdict["losses"].values():
        assert losses["all"] == pytest.approx(losses["fitted"] + losses["held_out"])
    assert verdict["fitted_targets"] == ["deals"] and verdict["held_out_targets"] == ["value_up"]
    assert verdict["holdout_seeds"] == m["holdout_seeds"]
    assert not set(verdict["holdout_seeds"]) & set(verdict["fit_seeds"])
    assert verdict["no_worse"] == m["no_worse"]
    line = (out.parent / "output.txt").read_text()
    assert "posterior no worse than the current values on held-out seeds: " in line
    text = (out / "calibration.yaml").read_text()
    assert m["git_commit"] in text and str(out) in text and "master seed 3" in text
    assert "population 4, 2 generations, 1 fit seeds" in text
    median = pd.read_csv(out / "posterior_summary.csv").set_index("parameter")["median"]
    params = yaml.safe_load(text)["params"]
    assert params["cities"]["deal_rate"] == pytest.approx(median["deal_rate"], rel=1e-3)
    assert params["valuation"]["adjust_speed"] == pytest.approx(median["adjust_speed"], rel=1e-3)


def _with_verdict(folder: Path, tmp_path: Path, no_worse: bool) -> Path:
    """Copy a calibration folder with its comparison's verdict set to ``no_worse``."""
    copy = tmp_path / f"cal-{no_worse}"
    shutil.copytree(folder, copy)
    verdict = json.loads((copy / "comparison.json").read_text())
    verdict.update(no_worse=no_worse, reasons=["set by the test"])
    (copy / "comparison.json").write_text(json.dumps(verdict))
    return copy


def _ship(files: tuple[Path, Path, Path], folder: Path) -> Any:
    args = ["calibrate", "--ship", "--targets", str(files[1]), "--free", str(files[2]),
            "--out", str(folder)]  # fmt: skip
    return CliRunner().invoke(app, args)


@pytest.fixture
def ship_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ``--ship`` writes in these tests: a temporary file in place of the data file.

    The tests' tiny budget is made shippable (the default budget is the least that ships).
    """
    import sim.analysis.abc_smc as abc_smc
    from sim.scenario import layers

    target = tmp_path / "calibration.yaml"
    monkeypatch.setattr(layers, "CALIBRATION_FILE", target)
    tiny = abc_smc.AbcSettings(population=4, generations=1, fit_seeds=1, holdout_seeds=2, draws=2)
    monkeypatch.setattr(abc_smc, "AbcSettings", lambda: tiny)
    return target


def test_ship_is_refused_unless_the_comparison_says_no_worse(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path,
    ship_target: Path,
) -> None:
    files, out = calibrated
    target = ship_target
    result = _ship(files, _with_verdict(out, tmp_path, no_worse=False))
    assert result.exit_code == 2
    assert "refused" in result.output and "set by the test" in result.output
    assert not target.exists()
    result = _ship(files, tmp_path / "nothing")
    assert result.exit_code == 2 and "no finished ABC-SMC calibration" in result.output
    fewer = FREE.split("  adjust_speed:")[0] + "held_out:" + FREE.split("held_out:")[1]
    (tmp_path / "fewer.yaml").write_text(fewer)
    result = _ship((files[0], files[1], tmp_path / "fewer.yaml"),
                   _with_verdict(out, tmp_path, no_worse=True))  # fmt: skip
    assert result.exit_code == 2 and "the free parameters are now deal_rate" in result.output
    assert not target.exists()


def test_a_calibration_below_the_default_budget_never_ships(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sim.scenario import layers

    files, out = calibrated
    monkeypatch.setattr(layers, "CALIBRATION_FILE", tmp_path / "calibration.yaml")
    result = _ship(files, _with_verdict(out, tmp_path, no_worse=True))
    assert result.exit_code == 2
    assert "less than the default budget (population 4 < 40" in result.output
    assert not (tmp_path / "calibration.yaml").exists()


def test_a_shipped_calibration_is_what_every_scenario_then_runs(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path,
    ship_target: Path,
) -> None:
    from sim.scenario.loader import load_scenario

    files, out = calibrated
    target = ship_target
    before = load_scenario("short").params
    folder = _with_verdict(out, tmp_path, no_worse=True)
    result = _ship(files, folder)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (folder / "calibration.yaml").read_bytes()
    shipped = yaml.safe_load(target.read_text())["params"]
    for name in ("short", "baseline"):
        params = load_scenario(name).params
        assert params.cities.deal_rate == shipped["cities"]["deal_rate"]
        assert params.valuation.adjust_speed == shipped["valuation"]["adjust_speed"]
    assert before.cities.deal_rate != shipped["cities"]["deal_rate"]
    targets = load_targets(files[1])
    spec = load_free_parameters(files[2], targets)
    assert list(spec.current(targets)) == [shipped["cities"]["deal_rate"],
                                           shipped["valuation"]["adjust_speed"]]


def test_a_stopped_calibration_resumes_to_the_same_posterior(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path
) -> None:
    files, full = calibrated
    _calibrate(files, tmp_path / "cal", "--generations", "1")  # stopped after one generation
    output = _calibrate(files, tmp_path / "cal", "--generations", "2")
    assert "(resumed)" in output
    a = pd.read_parquet(full / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)  # serial, same master seed: bitwise the same


def test_a_calibration_interrupted_mid_generation_resumes_to_the_same_posterior(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sim.analysis.abc_smc as abc_smc

    files, full = calibrated
    generations = pd.read_parquet(full / "generations.parquet").set_index("t")["samples"]
    stop_at = int(generations.loc[-1] + generations.loc[0]) + 2  # inside generation 1
    calls = {"n": 0}
    real = abc_smc.evaluate_seed

    def interrupted(task: object) -> object:
        calls["n"] += 1
        if calls["n"] == stop_at:
            raise KeyboardInterrupt
        return real(task)  # type: ignore[arg-type]

    monkeypatch.setattr(abc_smc, "evaluate_seed", interrupted)
    args = ["calibrate", "--targets", str(files[1]), "--free", str(files[2]), *SMALL,
            "--generations", "2", "--out", str(tmp_path / "cal")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130
    assert not (tmp_path / "cal" / "manifest.json").exists()
    monkeypatch.setattr(abc_smc, "evaluate_seed", real)
    assert "(resumed)" in _calibrate(files, tmp_path / "cal", "--generations", "2")
    pd.testing.assert_frame_equal(pd.read_parquet(full / "posterior.parquet"),
                                  pd.read_parquet(tmp_path / "cal" / "posterior.parquet"))


def test_a_folder_with_another_calibration_is_refused(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path
) -> None:
    files, _ = calibrated
    _calibrate(files, tmp_path / "cal", "--generations", "1")
    args = ["calibrate", "--targets", str(files[1]), "--free", str(files[2]), *SMALL,
            "--seed", "9", "--generations", "1", "--out", str(tmp_path / "cal")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "holds a calibration with other settings" in result.output
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0


def test_batch_draws_each_replicate_from_the_posterior(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path
) -> None:
    _, cal = calibrated
    post = pd.read_parquet(cal / "posterior.parquet").set_index("particle")
    folders = []
    for name in ("a", "b"):
        args = ["batch", "short", "baseline", "--replicates", "3", "--months", "3", "--posterior",
                str(cal), "--workers", "1", "-q", "--out", str(tmp_path / name)]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        folders.append(pd.read_parquet(tmp_path / name / "runs.parquet"))
    runs = folders[0]
    for _, r in runs.iterrows():
        assert r["deal_rate"] == post.loc[r["particle"], "deal_rate"]
        assert r["adjust_speed"] == post.loc[r["particle"], "adjust_speed"]
    by_rep = runs.groupby("replicate")["particle"].nunique()
    assert (by_rep == 1).all()  # replicate k of every scenario runs the same particle
    pd.testing.assert_frame_equal(runs[["particle", "deal_rate"]],
                                  folders[1][["particle", "deal_rate"]])  # fmt: skip
    summary = pd.read_parquet(tmp_path / "a" / "summary.parquet")
    assert {"particle", "deal_rate", "adjust_speed"} <= set(summary.columns)


def test_batch_refuses_a_folder_without_a_posterior(tmp_path: Path) -> None:
    args = ["batch", "baseline", "--replicates", "2", "--posterior", str(tmp_path), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--posterior" in result.output and "no finished calibration" in result.output


def test_the_record_is_at_distance_zero_and_weights_follow_the_targets(
    calibrated: tuple[tuple[Path, Path, Path], Path],
) -> None:
    files, _ = calibrated
    targets = load_targets(files[1])
    spec = load_free_parameters(files[2], targets)
    observed = observed_statistics(targets, ["deals"])
    assert observed == {"pass.deals": 1.0, "error.deals": 0.0}
    assert statistic_weights(spec, targets, ["deals"]) == {"pass.deals": 1.0, "error.deals": 0.5}
    checks = pd.DataFrame({"tag": 0, "seed": [1, 2], "target": "deals", "check": 0,
                           "value": [3.0, 6.0], "reference": np.nan, "text": "",
                           "passed": [True, False]})  # fmt: skip
    stats = statistics(checks, targets, ["deals"])
    assert stats == {"pass.deals": 0.5, "error.deals": pytest.approx((4.5 - 3.0) / 3.0)}


def test_particles_run_on_worker_processes(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path
) -> None:
    files, _ = calibrated
    args = ["calibrate", "--targets", str(files[1]), "--free", str(files[2]), "--population", "3",
            "--generations", "1", "--seeds", "1", "--holdout-seeds", "1", "--draws", "1",
            "--workers", "2", "-q", "--out", str(tmp_path / "cal")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    post = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    assert len(post) == 3 and post["weight"].sum() == pytest.approx(1.0)


def test_particles_run_on_a_dask_cluster(
    calibrated: tuple[tuple[Path, Path, Path], Path], env: None, tmp_path: Path
) -> None:
    pytest.importorskip("dask.distributed")
    files, _ = calibrated
    args = ["calibrate", "--targets", str(files[1]), "--free", str(files[2]), "--population", "3",
            "--generations", "2", "--seeds", "1", "--holdout-seeds", "1", "--draws", "1",
            "--executor", "dask", "--workers", "2", "-q",
            "--out", str(tmp_path / "cal")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    m = json.loads((tmp_path / "cal" / "manifest.json").read_text())
    assert m["settings"]["generations"] == 2
    post = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    assert len(post) == 3 and post["weight"].sum() == pytest.approx(1.0)
    assert post["deal_rate"].between(0.1, 2.0).all()


def test_worse_means_a_significantly_lower_share_not_a_lower_point() -> None:
    from sim.analysis.holdout_comparison import difference_upper, verdict

    # 143 of 144 against 12 of 12: lower, but well within the noise of 12 seeds
    assert difference_upper((143 / 144, 0.9962), (1.0, 0.7575)) > 0
    # 106 of 144 against 12 of 12: significantly lower
    assert difference_upper((106 / 144, 0.80), (1.0, 0.7575)) < 0
    table = pd.DataFrame({"target": ["a", "b"], "worse": [False, True], "posterior_rate": 0.7,
                          "medians_rate": 0.8, "current_rate": 1.0})  # fmt: skip
    losses = {"posterior": {"all": 0.5}, "medians": {"all": 0.9}, "current": {"all": 0.6}}
    ok, reasons = verdict(table, losses)
    assert not ok
    assert reasons[0].startswith("medians: held-out loss 0.9")
    assert reasons[1].startswith("b: significantly lower share")
    ok, _ = verdict(table.assign(worse=False), {**losses, "medians": {"all": 0.6}})
    assert ok
