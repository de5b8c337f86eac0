"""Bad input on the command line: a clear one-line message, exit code 2, nothing half-written.

Covers unknown scenarios and sweeps, bad ``--set``, negative and absurd ``--replicates`` and
``--workers``, output folders that are files or cannot be created, results folders that are not
a batch, and corrupted manifests and Parquet parts. Most cases run in-process (typer's CliRunner);
one starts a real process to see exactly what a user sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import run_batch
from sim.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``sim ARGS`` in-process; return exit code, stdout and stderr."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an exception escaped the CLI: show it
    return result.exit_code, result.stdout, result.stderr


def refused(code: int, stdout: str, stderr: str, *texts: str) -> str:
    """Check a refusal by the project (one ``error:`` line) and return that line."""
    assert code == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for text in texts:
        assert text in lines[0], lines[0]
    return lines[0]


def usage_error(code: int, stdout: str, stderr: str, option: str) -> None:
    """Check a refusal by the option parser: the same one ``error:`` line, naming the option."""
    line = refused(code, stdout, stderr)
    assert line.startswith(f"error: {option}: "), line
    assert "Usage:" not in stdout + stderr


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished batch folder."""
    out = tmp_path_factory.mktemp("batch") / "b"
    return run_batch(["crackdown"], replicates=2, months=6, executor="serial", out=out).folder


@pytest.fixture
def copy_of(batch: Path, tmp_path: Path) -> Path:
    """A copy of the batch folder that a test may damage."""
    return Path(shutil.copytree(batch, tmp_path / "copy"))


# -- scenarios and overrides -----------------------------------------------------------------


def test_unknown_scenario(tmp_path: Path) -> None:
    refused(*invoke("run", "crackdwn", "--out", str(tmp_path / "o")), "unknown scenario",
            "did you mean 'crackdown'")  # fmt: skip
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("override", "texts"),
    [
        ("months=abc", ("months", "allowed: an integer in [1, 1200]", "'abc'")),
        ("months=12.0", ("months", "an integer")),
        ("months=true", ("months", "given: True")),
        ("regulators.SAMR.fine_rate=.nan", ("fine_rate", "finite")),
        ("regulators.SAMR.fine_rat=0.1", ("fine_rat", "did you mean 'fine_rate'")),
        ("firms.Alibaba.listed=maybe", ("listed", "true or false")),
        ("months", ("expected FIELD.PATH=VALUE",)),
        ("=3", ("empty field name",)),
        ("description=!!python/object/apply:os.system [ls]", ("tags", "not allowed")),
        ("months=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]", ("nesting deeper",)),
        ("extends=thaw", ("extends", "cannot be changed with --set")),
        ("timeline.x={type: fine, firm: Nobody, regulator: SAMR, amount_cny_bn: 1, date: 2020-02}",
         ("timeline.x.firm", "unknown firm 'Nobody'", "allowed:")),
    ],
)  # fmt: skip
def test_bad_set(override: str, texts: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "o"
    refused(*invoke("run", "baseline", "--set", override, "--out", str(out)), "--set", *texts)
    assert not out.exists()  # refused before anything was written


def test_bad_scenario_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nextends: baseline\nmonths: 12\nregulators:\n  SAMR:\n"
                    "    fine_rate: 2.0\n", encoding="utf-8")  # fmt: skip
    refused(*invoke("show", str(path)), f"{path}:6", "regulators.SAMR.fine_rate",
            "allowed: a number in [0.0, 0.5]", "given: 2.0")  # fmt: skip


def test_bad_sweep_file(tmp_path: Path) -> None:
    path = tmp_path / "sw.yaml"
    text = ("name: sw\nbase: crackdown\nparameters:\n  p: {path: months, levels: [0]}\n"
            "design: {kind: grid}\noutcomes: [max_drawdown]\n")  # fmt: skip
    path.write_text(text, encoding="utf-8")
    refused(*invoke("sweep", str(path), "--out", str(tmp_path / "o")), "parameters.p.levels",
            "value 0 is not allowed")  # fmt: skip
    assert not (tmp_path / "o").exists()


# -- counts and workers ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_negative_or_zero_replicates(value: str, tmp_path: Path) -> None:
    usage_error(*invoke("batch", "baseline", "--replicates", value, "--out", str(tmp_path / "o")),
                "--replicates")  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_absurd_replicates(tmp_path: Path) -> None:
    refused(*invoke("batch", "baseline", "thaw", "--replicates", str(10**12), "--out",
                    str(tmp_path / "o")), "--replicates", "allowed: at most")  # fmt: skip
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (("--workers", "0"), "usage"),
        (("--workers", "-3"), "usage"),
        (("--workers", str(10**6)), "refused"),
        (("--executor", "threads"), "refused"),
        (("--scheduler", "tcp://127.0.0.1:1", "--executor", "serial"), "refused"),
    ],
)
def test_bad_workers_and_executors(args: tuple[str, ...], check: str, tmp_path: Path) -> None:
    result = invoke("batch", "baseline", "--replicates", "1", "--months", "2", *args,
                    "--out", str(tmp_path / "o"))  # fmt: skip
    if check == "usage":
        usage_error(*result, "--workers")
    else:
        refused(*result)
    assert not (tmp_path / "o").exists()


# -- output folders --------------------------------------------------------------------------


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("mine", encoding="utf-8")
    refused(*invoke("run", "baseline", "--months", "2", "--out", str(target)), "not a folder")
    refused(*invoke("batch", "baseline", "--replicates", "1", "--months", "2", "--workers", "1",
                    "--out", str(target)), "not a folder")  # fmt: skip
    assert target.read_text(encoding="utf-8") == "mine"


def test_output_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    refused(*invoke("run", "baseline", "--months", "2", "--out", str(tmp_path / "file" / "sub")),
            "cannot create output folder")  # fmt: skip


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_output_folder_that_is_not_writable(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    refused(*invoke("run", "baseline", "--months", "2", "--out", str(locked)), "not writable")
    assert not any(locked.iterdir())


def test_output_folder_holding_something_else(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    refused(*invoke("batch", "baseline", "--replicates", "1", "--months", "2", "--workers", "1",
                    "--out", str(out)), "not empty")  # fmt: skip
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


# -- results folders -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["verify", "plot", "report", "rerun"])
def test_results_folder_that_is_not_a_batch(command: str, tmp_path: Path) -> None:
    extra = ["--run-id", "0123456789abcdef"] if command == "rerun" else []
    single = tmp_path / "single"
    assert invoke("run", "baseline", "--months", "2", "--out", str(single), "-q")[0] == 0
    for folder in (tmp_path / "missing", tmp_path, single):
        line = refused(*invoke(command, str(folder), *extra))
        assert str(folder) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["single"]


def test_corrupted_manifest(copy_of: Path) -> None:
    (copy_of / "manifest.json").write_text('{"kind": "batch", "sta', encoding="utf-8")
    for command in ("verify", "plot"):
        refused(*invoke(command, str(copy_of)), "manifest")


def test_corrupted_parquet_part(copy_of: Path) -> None:
    part = sorted((copy_of / "timeseries").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:-40] + b"\x00" * 40)
    code, stdout, stderr = invoke("verify", str(copy_of))
    assert code == 1 and f"timeseries/{part.name}: checksum mismatch" in stderr
    refused(*invoke("plot", str(copy_of), "-q"), part.name, "corrupted or unreadable Parquet",
            "sim verify")  # fmt: skip
    assert not (copy_of / "figures").exists() or not any((copy_of / "figures").iterdir())


def test_unknown_run_id(batch: Path) -> None:
    refused(*invoke("rerun", str(batch), "--run-id", "ffffffffffffffff"), "no run", "allowed:")
    refused(*invoke("rerun", str(batch), "--run-id", "../../x"), "not a run id")


def test_a_real_process_shows_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "verify", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    refused(proc.returncode, proc.stdout, proc.stderr, "nowhere", "not a folder")
