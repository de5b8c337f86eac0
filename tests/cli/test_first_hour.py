"""What a new user meets in the first hour of the command line.

One-line errors, output paths checked first, honest help, tables that fit an 80-column terminal,
labelled run summaries and one scenario name everywhere.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "option"),
    [(("--replicates", "-1"), "--replicates"), (("--workers", "0"), "--workers")],
)
def test_option_parser_errors_are_one_error_line(args: tuple[str, ...], option: str,
                                                 tmp_path: Path) -> None:  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "sim", "batch", "crackdown", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {option}: ") and "sim batch --help" in lines[0]


@pytest.mark.parametrize(("command", "work"), [
    ("validate", "sim.analysis.validation.run_validation"),
    ("calibrate", "sim.analysis.calibration.calibrate"),
])  # fmt: skip
def test_validate_and_calibrate_refuse_a_bad_output_path_before_any_work(
    command: str, work: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{work} ran before the output path was checked")

    monkeypatch.setattr(work, no_work)
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    result = runner.invoke(app, [command, "--out", str(target), "--workers", "1", "-q"])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr == f"error: {target}: output path exists and is not a folder\n"


def test_calibrate_help_states_the_real_lower_bound_of_the_budget() -> None:
    result = runner.invoke(app, ["calibrate", "--help"], terminal_width=200)
    budget = next(line for line in result.stdout.splitlines() if "--budget" in line)
    assert "x>=1" not in budget
    assert "at least one population" in budget
    refused = runner.invoke(
        app, ["calibrate", "--method", "de", "--budget", "5", "--out", "unused"]
    )
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: --budget 5: must be at least the population")


class _Report:
    """A validation report's pass rates: two targets, met together on fewer seeds than alone."""

    all_targets_rate = 0.89

    @staticmethod
    def pass_rates() -> pd.DataFrame:
        return pd.DataFrame({"target": ["crackdown_loss", "fines_rare"], "pass_rate": [0.95, 0.99]})


def test_validate_says_how_often_each_target_and_all_together_are_met() -> None:
    from sim.cli.analysis import pass_rate_line

    line = pass_rate_line(_Report())  # type: ignore[arg-type]
    assert line == ("each target met on at least 95% of seeds (lowest: crackdown_loss); "
                    "every target together on 89%")  # fmt: skip


def test_sim_list_and_sim_run_use_one_name(
    scenario_dir: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario_dir("my_crackdown", "name: crackdown\nextends: crackdown\nmonths: 2\n")
    scenario_dir("mine", "name: mine\nextends: crackdown\nmonths: 2\n")
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "error: " in lines["my_crackdown"] and "given 'crackdown'" in lines["my_crackdown"]
    monkeypatch.chdir(tmp_path)
    run = runner.invoke(app, ["run", "mine", "-q"])
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == str(Path("results") / "mine" / "seed-0")
    refused = runner.invoke(app, ["run", "my_crackdown"])
    assert refused.exit_code == 2
    assert "name: must be the file's name, 'my_crackdown'" in refused.stderr
    assert not (tmp_path / "results" / "crackdown").exists()


def test_sim_list_shows_a_broken_file_with_its_error(
    scenario_dir: Callable[[str, str], Path]
) -> None:
    path = scenario_dir("broken", "name: broken\nextends: baseline\nmonths: [1\n")
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    line = next(line for line in listed.stdout.splitlines() if line.startswith("broken "))
    assert f"error: {path}:" in line and "malformed YAML" in line
    assert any(line.startswith("crackdown ") and "error" not in line
               for line in listed.stdout.splitlines())  # fmt: skip


def test_sim_run_summary_uses_the_report_labels_and_units(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "crackdown", "--months", "6", "--out", str(tmp_path / "r")],
                           terminal_width=100)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in result.stdout.splitlines() if line.count("│") == 3}  # fmt: skip
    assert "final_mean_compliance" not in result.stdout
    assert rows["Mean compliance, end"].endswith("%")
    assert rows["Market value, end"].startswith("US$")
    assert rows["Freezes active, end"].isdigit()
    assert rows["Peak date"][:4].isdigit()


def _rendered(table: object, width: int = 80) -> str:
    """Return a rich table as an 80-column terminal shows it."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_the_validation_table_fits_80_columns() -> None:
    from sim.analysis.targets import load_targets
    from sim.analysis.validation import resolve_scenarios, run_validation
    from sim.cli.analysis import validation_table
    from sim.experiments.executors import make_executor
    from sim.experiments.seeds import spawn_seeds

    targets = load_targets(None)
    with make_executor("serial") as ex:
        report = run_validation(targets, spawn_seeds(0, 2), executor=ex,
                                scenarios=resolve_scenarios(targets, []))  # fmt: skip
    text = _rendered(validation_table(report, 80))
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for name in targets.targets:
        assert f" {name} " in text
    assert "pass rate" in text and "observed" in text


def test_the_batch_and_sweep_tables_fit_80_columns(tmp_path: Path) -> None:
    from sim import run_batch, run_sweep
    from sim.cli.experiments import _batch_table, _sweep_table

    batch = run_batch(["history_2020_2025", "export_controls"], replicates=1, months=3,
                      executor="serial", out=tmp_path / "b")  # fmt: skip
    text = _rendered(_batch_table(batch))
    assert "…" not in text
    assert " history_2020_2025 " in text and " export_controls " in text
    sweep = run_sweep("chip_controls", replicates=1, months=2, executor="serial",
                      out=tmp_path / "s")  # fmt: skip
    text = _rendered(_sweep_table(sweep))
    assert "…" not in text and "Domestic compute share, end" in text and "%" in text
