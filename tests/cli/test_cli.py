"""The command line end to end: ``sim list``, ``sim show``, ``sim run`` and its errors.

A few tests start a real process (``python -m sim``) to check what a user sees; the rest use
typer's CliRunner in-process, which is faster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.model.metrics import METRIC_NAMES, summarize, summary_types
from sim.model.runner import run_scenario
from sim.scenario.loader import scenario_hash
from sim.scenario.search import ENV_PATH
from tests.helpers import SHIPPED, scenario, short

runner = CliRunner()


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_PATH}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def assert_clean_error(code: int, stdout: str, stderr: str, *texts: str) -> str:
    assert code == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for text in texts:
        assert text in lines[0], lines[0]
    return lines[0]


# -- through a real process ------------------------------------------------------------------


def test_sim_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = sim("run", "baseline", "--months", "6", "--seed", "3", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in "".join(proc.stdout.split())  # rich may fold a long path
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 6
    assert list(ts.columns) == ["date", *METRIC_NAMES]
    assert pd.api.types.is_datetime64_any_dtype(ts["date"])
    expected = run_scenario(short("baseline", months=6), 3)
    pd.testing.assert_frame_equal(ts, expected.timeseries, check_dtype=False, check_exact=True)
    summary = json.loads((out / "summary.json").read_text())
    dates = [k for k, kind in summary_types().items() if kind == "timestamp"]
    for key in dates:  # dates are ISO text in JSON
        assert summary[key] == f"{expected.summary[key]:%Y-%m-%d}"
        summary[key] = pd.Timestamp(summary[key])
    assert summary == expected.summary == summarize(expected.timeseries)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "baseline"
    assert manifest["seed"] == 3
    assert manifest["months"] == 6
    assert manifest["scenario_hash"] == scenario_hash(short("baseline", months=6))
    for package in ("python", "policysim", "mesa", "numpy", "pandas"):
        assert manifest["versions"][package], package
    assert manifest["resolved_scenario"]["months"] == 6
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind
    assert not (tmp_path / "results").exists()


def test_python_m_sim_runs_thaw(tmp_path: Path) -> None:
    out = tmp_path / "thaw"
    proc = sim("run", "thaw", "--months", "3", "--out", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "".join(proc.stdout.split()) == str(out)
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 3
    assert json.loads((out / "manifest.json").read_text())["scenario"] == "thaw"


def test_an_unknown_scenario_fails_cleanly_in_a_real_process(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = sim("run", "crackdwn", "--out", str(out), cwd=tmp_path)
    assert_clean_error(proc.returncode, proc.stdout, proc.stderr, "did you mean 'crackdown'?")
    assert not out.exists()


# -- in process ------------------------------------------------------------------------------


def test_sim_list_shows_every_shipped_scenario(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert set(rows) == set(SHIPPED)
    for name in SHIPPED:
        description = " ".join(scenario(name).description.split())
        assert rows[name].split(None, 1)[1].strip() == description


def test_sim_show_prints_the_resolved_scenario() -> None:
    result = runner.invoke(app, ["show", "crackdown"])
    assert result.exit_code == 0, result.stderr
    first, _, body = result.stdout.partition("\n")
    assert first == f"# sha256: {scenario_hash(scenario('crackdown'))}"
    assert body.startswith("# resolved from: baseline\n")  # a comment: merged already
    data = yaml.safe_load(body)
    assert data["name"] == "crackdown"
    assert "extends" not in data
    assert {"ant_ipo", "macro_2021", "alibaba_fine", "ant_ipo_halt"} <= set(data["timeline"])
    assert set(data["firms"]) == set(scenario("crackdown").firms)
    assert "SAMR" in data["regulators"]


def test_sim_show_applies_overrides() -> None:
    result = runner.invoke(app, ["show", "thaw", "--set", "months=12",
                                 "--set", "regulators.SAMR.fine_rate=0.05"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["months"] == 12
    assert data["regulators"]["SAMR"]["fine_rate"] == 0.05


def test_sim_run_prints_a_summary_and_can_check_and_collect_firms(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "crackdown", "--months", "14", "--seed", "2", "--check",
                                 "--firms", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Market value, end" in result.stdout
    assert "US$" in result.stdout
    firms = pd.read_parquet(out / "firms.parquet")
    assert len(firms) == 14 * len(scenario("crackdown").firms)
    assert (out / "stakeholders.parquet").is_file() and (out / "network.parquet").is_file()


def test_sim_run_applies_set_overrides(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "baseline", "--months", "4", "--out", str(out),
                                 "--set", "params.valuation.horizon_years=12"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resolved_scenario"]["params"]["valuation"]["horizon_years"] == 12


def test_rerunning_into_the_same_folder_replaces_the_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    for seed in ("1", "2"):
        result = runner.invoke(app, ["run", "baseline", "--months", "3", "--seed", seed,
                                     "--out", str(out), "-q"])  # fmt: skip
        assert result.exit_code == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2


BAD_RUNS = [
    (["run", "nope"], ["unknown scenario 'nope'"]),
    (["run", "baseline", "--set", "regulators.SAMR.fine_rat=0.1"],
     ["--set", "regulators.SAMR.fine_rat", "did you mean 'fine_rate'?"]),
    (["run", "baseline", "--set", "months=abc"], ["--set", "months", "given: 'abc'"]),
    (["run", "baseline", "--set", "params.valuation.horizon_years=100"],
     ["[1.0, 40.0]", "given: 100"]),
    (["run", "baseline", "--set", "novalue"], ["expected FIELD.PATH=VALUE"]),
    (["show", "crackdwn"], ["did you mean 'crackdown'?"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "texts"), BAD_RUNS, ids=[" ".join(a[:3]) for a, _ in BAD_RUNS])
def test_user_errors_exit_2_with_one_line_and_write_nothing(args: list[str], texts: list[str],
                                                            tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "out"
    extra = ["--out", str(out)] if args[0] == "run" else []
    result = runner.invoke(app, [*args, *extra])
    assert_clean_error(result.exit_code, result.stdout, result.stderr, *texts)
    assert result.stdout == ""
    assert not out.exists()


def test_a_malformed_scenario_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: baseline\nmonths: [1\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    line = assert_clean_error(result.exit_code, result.stdout, result.stderr, "malformed YAML")
    assert str(bad) in line
    assert not out.exists()


def test_an_invalid_scenario_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: baseline\nregulators: {SAMR: {p_fine: 2}}\n")
    result = runner.invoke(app, ["show", str(bad)])
    assert_clean_error(result.exit_code, result.stdout, result.stderr, f"{bad}:3",
                       "regulators.SAMR.p_fine", "[0.0, 1.0]")  # fmt: skip


def test_an_output_path_that_is_a_file_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.write_text("not a folder")
    result = runner.invoke(app, ["run", "baseline", "--months", "2", "--out", str(out)])
    assert_clean_error(result.exit_code, result.stdout, result.stderr, "not a folder")
    assert out.read_text() == "not a folder"


def test_a_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "baseline", "--seed", "-1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("error: --seed: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_sim_without_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "list" in result.stdout + result.stderr
    assert "run" in result.stdout + result.stderr


def test_the_batch_bar_stops_at_the_last_count() -> None:
    # Its refresh thread ends before the batch leaves its executor: a process with no other
    # thread then leaves BLAS's threads stopped after forking workers (sim.model.blas).
    from sim.cli.experiments import _Bar

    with _Bar("b", enabled=True) as bar:
        bar(0, 0, 3)
        assert bar.progress.live.is_started
        bar(2, 0, 3)
        assert bar.progress.live.is_started
        bar(3, 1, 3)
        assert not bar.progress.live.is_started
        assert bar.progress.tasks[0].completed == 3
