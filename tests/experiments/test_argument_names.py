"""Errors name arguments as the caller spelled them: ``out=`` from Python, ``--out`` in the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import run_batch
from sim.cli import app
from sim.errors import ResultsError, ScenarioError
from sim.experiments.executors import ExecutorError

SMALL = {"replicates": 1, "months": 3, "executor": "serial"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a finished one-run batch of the crackdown."""
    out = tmp_path_factory.mktemp("names") / "cmp"
    run_batch(["crackdown"], out=out, **SMALL)
    return out


def test_the_python_api_names_its_parameters(folder: Path) -> None:
    with pytest.raises(ResultsError) as info:
        run_batch(["thaw"], out=folder, **SMALL)
    text = str(info.value)
    assert "choose another out=, or pass force=True to replace it" in text
    assert "--" not in text
    with pytest.raises(ScenarioError, match=r"^replicates=0: must be an integer >= 1$"):
        run_batch(["thaw"], replicates=0, out=folder / "x")
    with pytest.raises(ExecutorError, match=r"^workers=0: must be at least 1$"):
        run_batch(["thaw"], replicates=1, workers=0, out=folder / "x")


def test_the_command_line_names_its_options(folder: Path) -> None:
    result = CliRunner().invoke(app, ["batch", "thaw", "--replicates", "1", "--months", "3",
                                      "--workers", "1", "--out", str(folder)])  # fmt: skip
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert "choose another --out, or pass --force to replace it" in line
    assert "force=" not in line and "out=" not in line
