"""Shared helpers of the test suite: cached scenarios and runs, small models, quiet overrides.

Scenarios are frozen, so loading each (name, overrides) once per session is safe; run results are
cached the same way and must not be mutated by tests. Models are mutable and always built fresh.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

from sim.model.policy_model import PolicyModel
from sim.model.runner import RunResult, run_scenario
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.scenario.search import PACKAGE_SCENARIOS

SIM_A_RUN_A_CHUNK: list[str] = [
    sys.executable, "-c",
    "import sim.experiments.chunking as c; c.TARGET_S = 0.0; from sim.cli import main; main()",
]  # fmt: skip
"""``python -m sim`` with every chunk of a batch one run, so that a test can stop it mid-way."""

SHIPPED: tuple[str, ...] = tuple(sorted(p.stem for p in PACKAGE_SCENARIOS.glob("*.yaml")))
"""The scenarios shipped in the project's ``scenarios/`` folder."""


@functools.cache
def scenario(name: str = "baseline", *overrides: str) -> Scenario:
    """Return a shipped scenario with ``--set`` style overrides (cached)."""
    return load_scenario(name, list(overrides))


def short(name: str = "baseline", *overrides: str, months: int = 12) -> Scenario:
    """Return a shipped scenario cut to ``months`` months, with overrides (cached)."""
    return scenario(name, f"months={months}", *overrides)


def model(name: str = "baseline", *overrides: str, months: int = 12, seed: int = 0) -> PolicyModel:
    """Return a fresh, unstepped model of a short scenario."""
    return PolicyModel(scenario=short(name, *overrides, months=months), rng=seed)


@functools.cache
def run(name: str, seed: int = 0, *overrides: str, collect_firms: bool = False) -> RunResult:
    """Return the (cached) run of a shipped scenario at full length unless overridden."""
    return run_scenario(scenario(name, *overrides), seed, collect_firms=collect_firms)


def quiet(name: str = "baseline") -> tuple[str, ...]:
    """Overrides that switch off random enforcement, deals and golden shares.

    With them only the timeline imposes sanctions, signs deals or takes stakes, so a test can
    attribute every flow to the event it scheduled.
    """
    sc = scenario(name)
    out = [f"regulators.{r}.capacity=0" for r in sc.regulators]
    out += [
        f"funds.{f}.stake_propensity=0" for f, s in sc.funds.items() if s.kind == "golden_share"
    ]
    out.append("params.cities.deal_rate=0")
    return tuple(out)


def year_total(ts: pd.DataFrame, column: str, year: int) -> float:
    """Return the sum of ``column`` over the months of ``year``."""
    return float(ts.loc[ts["date"].dt.year == year, column].sum())


def step(m: PolicyModel, months: int) -> PolicyModel:
    """Advance ``m`` by ``months`` months and return it."""
    for _ in range(months):
        m.step()
    return m


def load_script(path: Path) -> ModuleType:
    """Import a script that is not part of a package (such as a docs generator) by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
