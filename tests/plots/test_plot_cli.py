"""``sim plot`` and ``sim report`` on the command line, and their errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from tests.plots.conftest import copy_folder, mark_failed

runner = CliRunner()


def assert_clean_error(result: object, *texts: str) -> None:
    """Exit code 2, one line on stderr starting with ``error:``, no traceback."""
    out, err = result.stdout, result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, out + err  # type: ignore[attr-defined]
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for text in texts:
        assert text in lines[0], lines[0]


def test_sim_plot_writes_the_chosen_metrics_in_the_chosen_format(
    batch_dir: Path, tmp_path: Path
) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    args = ["plot", str(folder), "--metric", "market_value_usd", "--metric",
            "domestic_compute_share", "--format", "svg", "--quiet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    listed = [Path(line) for line in result.stdout.split()]
    assert {p.name for p in listed} >= {"timeseries_market_value_usd.svg",
                                        "timeseries_domestic_compute_share.svg"}  # fmt: skip
    assert all(p.is_file() and p.suffix == ".svg" for p in listed)
    assert not list((folder / "figures").glob("timeseries_mean_compliance.*"))


def test_sim_report_writes_report_html(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    result = runner.invoke(app, ["report", str(folder), "-m", "market_value_usd"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(folder / "report.html")
    assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("command", ["plot", "report"])
def test_errors_exit_2_with_one_line(command: str, batch_dir: Path, tmp_path: Path) -> None:
    assert_clean_error(runner.invoke(app, [command, str(tmp_path / "nope")]), "no such folder")
    (tmp_path / "empty").mkdir()
    assert_clean_error(runner.invoke(app, [command, str(tmp_path / "empty")]),
                       "not a batch or sweep folder")  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"kind": "run"}))
    assert_clean_error(runner.invoke(app, [command, str(run)]), "allowed: batch, sweep")
    result = runner.invoke(app, [command, str(batch_dir), "--metric", "domestic_compute"])
    assert_clean_error(result, "unknown metric", "did you mean 'domestic_compute_share'?")
    failed = copy_folder(batch_dir, tmp_path / "failed")
    mark_failed(failed)
    assert_clean_error(runner.invoke(app, [command, str(failed)]), "no completed runs",
                       "RuntimeError: model diverged")  # fmt: skip


def test_a_bad_format_is_a_usage_error(batch_dir: Path) -> None:
    result = runner.invoke(app, ["plot", str(batch_dir), "--format", "jpg"])
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr


def test_batch_report_shows_its_progress_while_drawing(tmp_path: Path) -> None:
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "120", "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "sim", "batch", "baseline", "--replicates", "1", "--months", "3",
         "--workers", "1", "--report", "--out", str(tmp_path / "b")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    total = len(list((tmp_path / "b" / "figures").glob("*.png")))
    assert "drawing figures" in result.stdout
    assert re.search(rf"{total}/{total}", result.stdout)  # counted figure by figure
    assert "report written" in result.stdout
    assert result.stdout.rstrip().endswith(f"report written to {tmp_path / 'b' / 'report.html'}")
