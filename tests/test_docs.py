"""Documented examples run: docstring examples in ``sim/`` and the README's code blocks."""

from __future__ import annotations

import doctest
import importlib
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SIM_COMMANDS_RUN = {"list", "show", "run"}
"""CLI commands the README test runs in full; for others it checks that they exist."""


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            rel = path.relative_to(ROOT).with_suffix("")
            names.append(".".join(rel.parts))
    return names


MODULES = _modules_with_examples()


def test_the_core_modules_have_examples() -> None:
    assert {"sim.scenario.loader", "sim.model.runner"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module}"


def _blocks(language: str) -> list[str]:
    if not README.is_file():
        return []
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def _sim_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("bash") + _blocks("console") + _blocks("sh"):
        for line in block.splitlines():
            for part in line.split("&&"):
                text = part.split(" #")[0].strip().removeprefix("$ ")
                if text.startswith("sim "):
                    commands.append(shlex.split(text)[1:])
                elif text.startswith("python -m sim "):
                    commands.append(shlex.split(text)[3:])
    return commands


def _run_script(code: str, folder: Path) -> str:
    """Save ``code`` as a script in ``folder`` and run it as a user would; return its stdout."""
    script = folder / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.skipif(not _blocks("python"), reason="the README has no Python examples")
@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_examples_run(index: int, tmp_path: Path) -> None:
    code = _blocks("python")[index]
    if "run_batch" in code:
        pytest.skip("run by test_readme_batch_example_shows_a_difference")
    _run_script(code, tmp_path)


def _batch_example() -> str:
    return next(block for block in _blocks("python") if "run_batch" in block)


def test_readme_batch_example_shows_a_difference(tmp_path: Path) -> None:
    stdout = _run_script(_batch_example(), tmp_path)
    means = dict(re.findall(r"^(crackdown|thaw)\s+(\S+)$", stdout, flags=re.M))
    assert set(means) == {"crackdown", "thaw"}, stdout
    crackdown, thaw = float(means["crackdown"]), float(means["thaw"])
    assert abs(thaw - crackdown) > 0.1 * crackdown, stdout


def test_readme_cli_and_python_batches_write_different_folders() -> None:
    cli = {args[args.index("--out") + 1] for args in _sim_commands()
           if args[0] in ("batch", "sweep") and "--out" in args}  # fmt: skip
    python = set(re.findall(r"""out=["']([^"']+)["']""", _batch_example()))
    assert cli and python and not cli & python


def test_readme_gives_both_validation_rates() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert re.search(r"meets each target on at least \d+% of seeds", text)
    assert re.search(r"every target together on \d+%", text)


@pytest.mark.skipif(not _blocks("yaml"), reason="the README has no YAML examples")
@pytest.mark.parametrize("index", range(len(_blocks("yaml"))))
def test_readme_scenario_examples_load(index: int, tmp_path: Path) -> None:
    text = _blocks("yaml")[index]
    if not re.search(r"^(name|extends):", text, flags=re.M):
        pytest.skip("not a scenario")
    named = re.search(r"^name: (\S+)", text, flags=re.M)
    path = tmp_path / f"{named.group(1) if named else 'readme_example'}.yaml"
    path.write_text(text, encoding="utf-8")
    load_scenario(path)


@pytest.mark.skipif(not _sim_commands(), reason="the README has no sim commands")
@pytest.mark.parametrize("args", _sim_commands(), ids=lambda a: " ".join(a))
def test_readme_commands_work(args: list[str], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    if args and args[0] in SIM_COMMANDS_RUN:
        result = runner.invoke(app, args)
    else:
        result = runner.invoke(app, [*args[:1], "--help"])
    assert result.exit_code == 0, result.stdout + result.stderr
