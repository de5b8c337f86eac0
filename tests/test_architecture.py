"""The package's architecture holds: stages import only earlier stages, and the public API is there.

The stages and their order are declared once, in ``pyproject.toml``'s import-linter contract; this
test runs the contract, so an import that points the wrong way fails the suite.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]


def test_every_stage_imports_only_earlier_stages() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_contract_names_every_stage_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    packages = {f"sim.{p.name}" for p in (ROOT / "sim").iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(layers), f"stages missing from the contract: {packages - set(layers)}"


def test_only_a_handful_of_modules_sit_directly_in_sim() -> None:
    top = sorted(p.name for p in (ROOT / "sim").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "errors.py"]


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "sim").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}  # fmt: skip
    assert not long, long


def readme_names() -> list[str]:
    """Names the README imports from ``sim``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set()
    for match in re.finditer(r"^from sim import ([\w, ]+)$", text, re.M):
        names.update(n.strip() for n in match.group(1).split(","))
    return sorted(names)


@pytest.mark.parametrize("name", readme_names())
def test_the_names_the_readme_documents_are_exported(name: str) -> None:
    assert name in sim.__all__
    assert getattr(sim, name) is not None


def test_each_stage_names_its_public_face() -> None:
    import importlib

    for layer in ("scenario", "model", "results", "experiments", "analysis", "plots", "dashboard",
                  "cli"):
        package = importlib.import_module(f"sim.{layer}")
        assert package.__all__, layer
        for name in package.__all__:
            assert hasattr(package, name), f"sim.{layer}.{name}"


def dotted_references() -> list[str]:
    """Every ``sim.…`` name cited in backticks in the code's docstrings, the README and docs/."""
    files = [*(ROOT / "sim").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    pattern = re.compile(r"`~?(sim(?:\.[A-Za-z_]\w*)+)`")
    return sorted({m.group(1) for f in files for m in pattern.finditer(f.read_text("utf-8"))})


def resolves(reference: str) -> bool:
    """Whether a dotted name is a module, or an attribute chain below the longest module in it."""
    import importlib

    parts = reference.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_cited_name_exists_where_the_text_says() -> None:
    missing = [ref for ref in dotted_references() if not resolves(ref)]
    assert not missing, f"cited but not found: {missing}"
