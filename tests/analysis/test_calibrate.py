"""Calibration: the free-parameters file, the loss, a short fit and what gets written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.calibration import CalibrationResult, calibrate, score
from sim.analysis.calibration_files import (
    calibration_yaml,
    write_calibration_file,
    write_calibration_report,
)
from sim.analysis.free_parameters import LossSpec, load_free_parameters, schema_bounds
from sim.analysis.targets import load_targets
from sim.cli import app
from sim.errors import ScenarioError
from sim.scenario.loader import deep_merge, load_scenario
from sim.scenario.search import ENV_PATH

TARGETS = """\
scenario: short
threshold: 0.5
targets:
  deals:
    fact: 4
    description: Some deals are signed in 2020.
    observed: 3.0
    tolerance: at least one
    source: test
    checks:
      - {kind: range, value: {metric: deals_signed, window: [2020-01, 2020-12], stat: sum}, min: 1}
  value_up:
    fact: 1
    description: Market value ends above where it started.
    observed: rises
    tolerance: any rise
    source: test
    checks:
      - {kind: compare, op: '>', left: {summary: final_market_value_usd},
         right: {metric: market_value_usd, window: [2020-01, 2020-01], stat: first}}
"""

FREE = """\
parameters:
  deal_rate:
    path: cities.deal_rate
    bounds: [0.1, 2.0]
    rationale: deals per month
held_out: [value_up]
seeds: {master: 3, fit: 2, holdout: 2}
loss: {pass_weight: 1.0, magnitude_weight: 0.5}
"""


def write_files(folder: Path) -> tuple[Path, Path, Path]:
    """Write a 12-month scenario folder, a targets file over it and a free-parameters file."""
    scenarios = folder / "scenarios"
    scenarios.mkdir(parents=True, exist_ok=True)
    (scenarios / "short.yaml").write_text("name: short\nextends: baseline\nmonths: 12\n")
    targets = folder / "targets.yaml"
    targets.write_text(TARGETS, encoding="utf-8")
    free = folder / "free.yaml"
    free.write_text(FREE, encoding="utf-8")
    return scenarios, targets, free


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The targets and free-parameters files, with the short scenario on the search path."""
    scenarios, targets, free = write_files(tmp_path)
    monkeypatch.setenv(ENV_PATH, str(scenarios))
    return targets, free


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CalibrationResult:
    """A fit with a budget of two generations of five candidates (computed once)."""
    scenarios, targets_file, free = write_files(tmp_path_factory.mktemp("cal"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_PATH, str(scenarios))
        targets = load_targets(targets_file)
        spec = load_free_parameters(free, targets)
        return calibrate(spec, targets, budget=10, population=5, seed=1)


def test_shipped_free_parameters_lie_within_the_schema_bounds() -> None:
    targets = load_targets()
    spec = load_free_parameters(targets=targets)
    assert len(spec.parameters) >= 3
    for p in spec.parameters.values():
        lo, hi = schema_bounds(p.path)
        assert lo <= p.bounds[0] < p.bounds[1] <= hi
        assert p.rationale.strip()
    assert set(spec.held_out) < set(targets.targets)
    start = spec.current(targets)
    assert all(lo <= x <= hi for x, (lo, hi) in zip(start, spec.bounds, strict=True))


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("bounds: [0.1, 2.0]", "bounds: [0.1, 20.0]"), "within the schema's [0.0, 10.0]"),
        (("bounds: [0.1, 2.0]", "bounds: [2.0, 0.1]"), "low < high"),
        (("cities.deal_rate", "cities.deal_rat"), "cities has no float parameter 'deal_rat'"),
        (("cities.deal_rate", "town.deal_rate"), "GROUP one of"),
        (("held_out: [value_up]", "held_out: [value_down]"), "unknown target 'value_down'"),
        (("seeds: {master: 3", "seeds: {master: -3"), "greater than or equal to 0"),
    ],
)
def test_a_bad_free_parameters_file_names_the_file_and_field(
    files: tuple[Path, Path], replace: tuple[str, str], message: str
) -> None:
    targets, free = files
    free.write_text(FREE.replace(*replace), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_free_parameters(free, load_targets(targets))
    assert message in str(err.value)
    assert str(err.value).startswith(str(free))


def test_the_loss_adds_pass_shortfalls_and_relative_magnitude_errors(
    files: tuple[Path, Path],
) -> None:
    targets = load_targets(files[0])
    checks = pd.DataFrame({
        "seed": [1, 1, 2, 2], "target": ["deals", "value_up"] * 2, "check": [0, 0, 0, 0],
        "value": [6.0, 1.0, 0.0, 1.0], "reference": np.nan, "text": "", "passed": [True, True,
                                                                                 False, True],
    })  # fmt: skip
    s = score(checks, targets, ["deals"], LossSpec(pass_weight=2.0, magnitude_weight=3.0))
    assert s["pass_rates"] == {"deals": 0.5, "value_up": 1.0}
    assert s["pass_term"] == pytest.approx(0.5)
    assert s["magnitude_term"] == pytest.approx(0.0)  # median of 6 and 0 is the observed 3
    assert s["loss"] == pytest.approx(1.0)
    both = score(checks, targets, ["deals", "value_up"], LossSpec())
    assert both["loss"] == pytest.approx(0.5)


def test_a_fit_keeps_every_evaluation_and_checks_held_out_seeds(
    result: CalibrationResult,
) -> None:
    assert result.settings["evaluations"] == len(result.history) >= 10
    assert result.settings["generations"] == 1
    assert set(result.settings["fit_seeds"]).isdisjoint(result.settings["holdout_seeds"])
    assert 0.1 <= result.fitted[0] <= 2.0
    assert result.history["loss"].min() <= result.fit_loss["start"] + 1e-12
    assert set(result.holdout) == {"start", "fitted"}
    assert all(len(r.seeds) == 2 for r in result.holdout.values())
    assert result.reasons
    assert result.values("start") == {"cities": {"deal_rate": pytest.approx(result.start[0])}}


def test_only_an_accepted_fit_is_written_and_it_loads_as_a_layer(
    result: CalibrationResult, tmp_path: Path
) -> None:
    target = tmp_path / "calibration.yaml"
    rejected = dataclasses.replace(result, accepted=False, reasons=["test"])
    with pytest.raises(ScenarioError, match="not accepted"):
        write_calibration_file(rejected, target)
    assert not target.exists()
    accepted = dataclasses.replace(result, accepted=True)
    write_calibration_file(accepted, target)
    layer = yaml.safe_load(target.read_text())
    assert layer == {"params": {"cities": {"deal_rate": float(result.fitted[0])}}}
    assert calibration_yaml(accepted).startswith("# Fitted behavioural parameters")
    merged = deep_merge({"params": {"cities": {"deal_rate": 0.6, "gap_scale": 0.02}}}, layer)
    assert merged["params"]["cities"]["gap_scale"] == 0.02
    sc = load_scenario("baseline", [f"params.cities.deal_rate={result.fitted[0]}"])
    assert sc.params.cities.deal_rate == result.fitted[0]


def test_the_report_records_the_fit(result: CalibrationResult, tmp_path: Path) -> None:
    path = write_calibration_report(result, tmp_path / "cal")
    data = json.loads(path.read_text())
    assert data["parameters"]["deal_rate"]["path"] == "cities.deal_rate"
    assert data["held_out_targets"] == ["value_up"]
    assert set(data["holdout_pass_rates"]["fitted"]) == {"deals", "value_up"}
    assert len(pd.read_parquet(tmp_path / "cal" / "evaluations.parquet")) == len(result.history)


def test_a_budget_below_one_population_is_refused(files: tuple[Path, Path]) -> None:
    targets = load_targets(files[0])
    with pytest.raises(ScenarioError, match="budget=.*: must be at least the population"):
        calibrate(load_free_parameters(files[1], targets), targets, budget=3, population=5)


def test_cli_calibrate_without_write_leaves_the_data_file_alone(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    from sim.scenario.loader import CALIBRATION_FILE

    before = CALIBRATION_FILE.read_bytes() if CALIBRATION_FILE.exists() else None
    args = ["calibrate", "--method", "de", "--targets", str(files[0]), "--free", str(files[1]),
            "--budget", "5",
            "--population", "5", "--workers", "1", "--no-write", "-q", "--out",
            str(tmp_path / "c")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "calibration file left as it is" in result.output
    assert (tmp_path / "c" / "calibration.json").exists()
    after = CALIBRATION_FILE.read_bytes() if CALIBRATION_FILE.exists() else None
    assert before == after
