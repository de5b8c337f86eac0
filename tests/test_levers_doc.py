"""docs/levers.md stays current: its declared-lever table matches the code's lever table.

The measured tables need two full lever studies and are refreshed by running
``python docs/generate_levers.py``; the declared table is checked here, and every declared lever
must appear in each measured table.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sim.experiments.lever_table import LEVERS

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(DOCS))  # it imports generate_tables from its own folder
    spec = importlib.util.spec_from_file_location("generate_levers", DOCS / "generate_levers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generate_levers", module)
    spec.loader.exec_module(module)
    return module


def test_declared_table_is_current(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0, "run python docs/generate_levers.py"


@pytest.mark.parametrize(
    "block", ["levers-crackdown", "levers-export-controls", "levers-history-2020-2025"]
)
def test_every_lever_is_measured(block: str) -> None:
    text = (DOCS / "levers.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- generated:{block} -->\n(.*?)<!-- /generated:{block} -->", text, re.S)
    assert found is not None, block
    for lever in LEVERS:
        assert f"| `{lever.name}` |" in found.group(1), f"{lever.name} missing from {block}"
