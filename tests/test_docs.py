"""Documented examples run: docstring examples in ``sim/`` and the README's code blocks."""

from __future__ import annotations

import doctest
import importlib
import re
import shlex
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


@pytest.mark.skipif(not _blocks("python"), reason="the README has no Python examples")
@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_examples_run(index: int, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[index]
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "readme"})


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
