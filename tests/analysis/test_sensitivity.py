"""Sensitivity analysis of sweep folders: Sobol and Morris indices, seed noise, errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim import run_sweep
from sim.analysis.sensitivity import analyze_sweep, seed_noise, write_sensitivity
from sim.cli import app
from sim.errors import ResultsError

PARAMETERS = {
    "deal_rate": {"path": "params.cities.deal_rate", "range": [0.2, 2.0]},
    "b_uncertainty": {"path": "params.valuation.b_uncertainty", "range": [0.02, 0.3]},
}
OUTCOMES = ["final_market_value_usd", "total_deals_signed"]


def sweep(folder: Path, design: dict) -> Path:
    """Run a small 12-month sweep of the baseline with ``design`` into ``folder / 'out'``."""
    spec = {"name": "t", "base": "baseline", "parameters": PARAMETERS, "design": design,
            "replicates": 2, "outcomes": OUTCOMES}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = folder / "out"
    run_sweep(path, months=12, executor="serial", out=out)
    return out


@pytest.fixture(scope="module")
def sobol_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Sobol sweep: 4 x (2 + 2) points x 2 replicates."""
    return sweep(tmp_path_factory.mktemp("sobol"), {"kind": "sobol", "samples": 4})


def test_sobol_indices_per_outcome_from_point_means(sobol_folder: Path) -> None:
    report = analyze_sweep(sobol_folder)
    assert report.method == "sobol" and report.scenario == "baseline"
    assert report.n_points == 16 and report.replicates == 2
    assert [o.outcome for o in report.outcomes] == OUTCOMES
    table = report.table()
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(table) == len(OUTCOMES) * len(PARAMETERS)
    assert table[["S1", "ST", "S1_conf", "ST_conf"]].notna().all().all()
    for o in report.outcomes:
        assert 0.0 <= o.noise.seed_noise_share <= 1.0
        assert o.noise.replicates == 2
    assert report.options["calc_second_order"] is False


def test_the_intervals_are_reproducible(sobol_folder: Path) -> None:
    first = analyze_sweep(sobol_folder, ["final_market_value_usd"], seed=3).table()
    again = analyze_sweep(sobol_folder, ["final_market_value_usd"], seed=3).table()
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(ResultsError, match="seed=0: must be an integer >= 1"):
        analyze_sweep(sobol_folder, seed=0)


def test_one_outcome_can_be_chosen_and_unknown_ones_are_named(sobol_folder: Path) -> None:
    report = analyze_sweep(sobol_folder, ["final_hhi"])
    assert [o.outcome for o in report.outcomes] == ["final_hhi"]
    with pytest.raises(ResultsError, match="unknown outcome 'final_hh'.*did you mean"):
        analyze_sweep(sobol_folder, ["final_hh"])


def test_seed_noise_splits_variance_within_and_between_points() -> None:
    runs = pd.DataFrame({"run_id": list("abcd"), "point_id": [0, 0, 1, 1], "status": "ok"})
    summary = pd.DataFrame({"run_id": list("abcd"), "y": [1.0, 3.0, 5.0, 7.0]})
    noise = seed_noise(runs, summary, "y")
    assert noise.within_var == pytest.approx(2.0)
    assert noise.total_var == pytest.approx(pd.Series([1.0, 3.0, 5.0, 7.0]).var())
    assert noise.means_var == pytest.approx(8.0)
    assert noise.between_var == pytest.approx(8.0 - 2.0 / 2)
    assert noise.seed_noise_share == pytest.approx(2.0 / (2.0 + 7.0))
    assert noise.noise_in_means_share == pytest.approx(2.0 / 2 / 8.0)
    same = pd.DataFrame({"run_id": list("abcd"), "y": [1.0, 3.0, 1.0, 3.0]})
    assert seed_noise(runs, same, "y").seed_noise_share == 1.0


def test_morris_indices(tmp_path: Path) -> None:
    folder = sweep(tmp_path, {"kind": "morris", "samples": 3, "num_levels": 4})
    report = analyze_sweep(folder, ["total_deals_signed"])
    assert report.method == "morris" and report.options["num_levels"] == 4
    table = report.table()
    assert {"mu_star", "mu_star_conf", "sigma", "mu"} <= set(table.columns)
    assert (table["mu_star"] >= 0).all()


def test_a_folder_without_a_sobol_or_morris_design_is_refused(tmp_path: Path) -> None:
    folder = sweep(tmp_path, {"kind": "lhs", "samples": 2})
    with pytest.raises(ResultsError, match="need a sobol or morris sweep.*'lhs'"):
        analyze_sweep(folder)
    with pytest.raises(ResultsError, match="not a batch or sweep folder"):
        analyze_sweep(tmp_path)


def test_written_tables_and_cli(sobol_folder: Path, tmp_path: Path) -> None:
    report = analyze_sweep(sobol_folder)
    csv_path, json_path = write_sensitivity(report, tmp_path / "s")
    assert len(pd.read_csv(csv_path)) == len(report.table())
    data = json.loads(json_path.read_text())
    assert data["method"] == "sobol" and len(data["outcomes"]) == len(OUTCOMES)
    assert "seed_noise_share" in data["outcomes"][0]["noise"]

    result = CliRunner().invoke(app, ["analyze", str(sobol_folder), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "Sobol indices of final_market_value_usd" in result.output
    assert (tmp_path / "c" / "sensitivity.csv").exists()
    bad = CliRunner().invoke(app, ["analyze", str(tmp_path / "missing")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
