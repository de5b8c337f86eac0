"""docs/calibration.md stays current: its priors table matches ``sim/data/free_parameters.yaml``.

The result sections are computed from a calibration folder by
``python docs/generate_calibration.py FOLDER``; the priors table needs none and is checked here.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import load_script

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(DOCS))  # it imports generate_tables from its own folder
    return load_script(DOCS / "generate_calibration.py")


def test_priors_table_is_current(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0, (
        "run python docs/generate_calibration.py --priors-only")


def test_identification_follows_the_width_ratio(generator: ModuleType) -> None:
    assert generator.identification(0.3) == "identified"
    assert generator.identification(0.6) == "partly"
    assert generator.identification(0.95) == "not identified"
