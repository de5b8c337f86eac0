"""Suite-wide pytest options and fixtures.

``--update-golden`` rewrites the golden regression files in ``tests/model/golden/`` from the current
model instead of comparing against them; nothing else ever writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sim.scenario.search import ENV_PATH


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--update-golden``."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/model/golden/*.json from the current model instead of comparing.",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether the golden files are to be rewritten (``--update-golden``)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """Return a writer of scenario files into a folder put first on the scenario search path.

    The writer takes a scenario name and the file's text and returns the file's path.
    """
    folder = tmp_path / "scenarios"
    folder.mkdir()
    monkeypatch.setenv(ENV_PATH, str(folder))

    def write(name: str, text: str) -> Path:
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _no_user_scenario_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a user's ``POLICYSIM_SCENARIO_PATH`` out of the tests."""
    monkeypatch.delenv(ENV_PATH, raising=False)
