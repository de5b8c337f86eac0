"""Validation over seeds: the history scenario meets every target, reports and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.targets import load_targets
from sim.analysis.validation import (
    ValidationReport,
    run_validation,
    wilson_interval,
    write_validation,
)
from sim.cli import app
from sim.experiments.executors import ProcessExecutor
from sim.experiments.seeds import spawn_seeds
from sim.plots.validation import plot_validation

N_SEEDS = 20


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    """Validation of the shipped targets on the first 20 seeds of master seed 0."""
    return run_validation(load_targets(), spawn_seeds(0, N_SEEDS))


def test_history_meets_every_target_on_at_least_the_threshold_of_seeds(
    report: ValidationReport,
) -> None:
    rates = report.pass_rates()
    low = rates.loc[~rates["ok"], ["target", "pass_rate"]]
    assert report.passed, f"under {report.threshold:.0%}: {low.to_dict('records')}"
    assert report.failing == []


def test_the_report_has_one_row_per_seed_and_check(report: ValidationReport) -> None:
    n_checks = sum(len(t.checks) for t in report.targets.targets.values())
    assert len(report.checks) == N_SEEDS * n_checks
    assert list(report.checks.columns) == [
        "seed", "target", "check", "value", "reference", "text", "passed",
    ]  # fmt: skip
    table = report.per_seed()
    assert table.shape == (N_SEEDS, len(report.targets.targets))
    rates = report.pass_rates()
    assert (rates["pass_rate"] == table.mean().to_numpy()).all()
    assert (
        (rates["ci_low"] <= rates["pass_rate"]) & (rates["pass_rate"] <= rates["ci_high"])
    ).all()
    assert report.all_targets_rate == table.all(axis=1).mean()


def test_wilson_interval_brackets_the_rate() -> None:
    low, high = wilson_interval(18, 20)
    assert 0.6 < low < 0.9 < high < 1.0
    assert wilson_interval(20, 20)[1] == pytest.approx(1.0)


def test_processes_give_the_same_checks_as_serial() -> None:
    targets = load_targets()
    seeds = spawn_seeds(7, 2)
    serial = run_validation(targets, seeds).checks
    with ProcessExecutor(2) as ex:
        parallel = run_validation(targets, seeds, executor=ex).checks
    pd.testing.assert_frame_equal(serial, parallel)


def test_written_report_holds_rates_checks_and_figure(
    report: ValidationReport, tmp_path: Path
) -> None:
    path = write_validation(report, tmp_path / "v")
    plot_validation(report, tmp_path / "v")
    data = json.loads(path.read_text())
    assert data["passed"] is True and data["n_seeds"] == N_SEEDS
    assert [t["name"] for t in data["targets"]] == list(report.targets.targets)
    assert all(0 <= t["pass_rate"] <= 1 and t["source"] for t in data["targets"])
    assert data["provenance"]["versions"]["policysim"]
    assert len(pd.read_parquet(tmp_path / "v" / "checks.parquet")) == len(report.checks)
    assert (tmp_path / "v" / "validation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def short_targets(
    tmp_path: Path, scenario_dir: Callable[[str, str], Path]
) -> Callable[[str], Path]:
    """Return a writer of a targets file over a 12-month baseline (fast to run)."""
    scenario_dir("short", "name: short\nextends: baseline\nmonths: 12\n")

    def write(check: str) -> Path:
        path = tmp_path / "targets.yaml"
        path.write_text(
            "scenario: short\nthreshold: 0.5\ntargets:\n  deals:\n    fact: 4\n"
            "    description: d\n    observed: some\n    tolerance: t\n    source: s\n"
            f"    checks:\n      - {check}\n",
            encoding="utf-8",
        )
        return path

    return write


def test_cli_validate_exits_1_when_a_target_misses_the_threshold(
    short_targets: Callable[[str], Path], tmp_path: Path
) -> None:
    easy = short_targets("{kind: range, value: {summary: total_deals_signed}, min: 0}")
    out = tmp_path / "ok"
    args = ["validate", "--targets", str(easy), "--seeds", "2", "--workers", "1", "-q"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "deals" in result.output
    assert json.loads((out / "validation.json").read_text())["passed"] is True

    short_targets("{kind: range, value: {summary: total_deals_signed}, min: 1.0e6}")
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "no")])
    assert result.exit_code == 1
    assert "under the 50% threshold: deals" in result.output
    assert not json.loads((tmp_path / "no" / "validation.json").read_text())["passed"]


def test_cli_validate_rejects_a_bad_targets_file_in_one_line(
    short_targets: Callable[[str], Path], tmp_path: Path
) -> None:
    bad = short_targets("{kind: range, value: {summary: nope}, min: 0}")
    result = CliRunner().invoke(
        app, ["validate", "--targets", str(bad), "--seeds", "1", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "unknown outcome 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()
