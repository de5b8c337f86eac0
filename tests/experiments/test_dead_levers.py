"""No lever is dead: every declared lever moves each outcome it is expected to move.

For every lever of :data:`sim.experiments.lever_table.LEVERS` and every outcome it declares an
expected direction for, the lever's step-down and step-up variants of its home scenario run on the
same seeds; the outcome must differ between them on at least one paired seed. A field that
silently stops mattering leaves the outcome identical, bit for bit, and fails here.

The pairs that are dead in today's model are listed once, in :data:`KNOWN_DEAD`, each with the
reason; they are marked ``xfail(strict=True)``, so a model change that brings one to life fails
the suite until its entry is removed.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.experiments.lever_table import (
    DEALS,
    LEVERS,
    LEVERS_BY_NAME,
    Lever,
)
from sim.experiments.levers import lever_overrides
from sim.experiments.seeds import spawn_seeds
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario, with_overrides

SEEDS = spawn_seeds(0, 3)
MONTHS = {"crackdown": 48, "export_controls": 66, "history_2020_2025": 60}
"""Months run per home scenario: the crackdown to the end of 2023, export controls to mid-2025
(after the 2025 sourcing rule), history (the free centre's levers) to the end of 2024."""

KNOWN_DEAD: dict[tuple[str, str], str] = {
    ("city_budget", DEALS): "a city's budget never binds: its deals' subsidies stay far below it",
}
"""Lever and outcome pairs that do not move in today's model, and why."""


@functools.cache
def swing(name: str) -> dict[str, np.ndarray]:
    """Return each outcome's per-seed change from the lever's step down to its step up."""
    lever = LEVERS_BY_NAME[name]
    scenario = load_scenario(lever.home, [f"months={MONTHS[lever.home]}"])
    runs = {}
    for direction in ("down", "up"):
        variant = with_overrides(scenario, lever_overrides(lever, scenario, direction))
        runs[direction] = [run_scenario(variant, seed).summary for seed in SEEDS]
    return {outcome: np.array([float(u[outcome]) - float(d[outcome])
                               for d, u in zip(runs["down"], runs["up"], strict=True)])
            for outcome in lever.expect}  # fmt: skip


def _cases() -> list[object]:
    cases = []
    for lever in LEVERS:
        for outcome in lever.expect:
            reason = KNOWN_DEAD.get((lever.name, outcome))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(lever, outcome, id=f"{lever.name}-{outcome}", marks=marks))
    return cases


@pytest.mark.parametrize(("lever", "outcome"), _cases())
def test_lever_moves_its_outcome(lever: Lever, outcome: str) -> None:
    changes = swing(lever.name)[outcome]
    assert np.any(changes != 0.0), (
        f"{lever.name} ({lever.path}, {lever.step.describe()}) leaves {outcome} identical on "
        f"every paired seed of {lever.home}"
    )


def test_known_dead_names_declared_pairs() -> None:
    declared = {(lever.name, outcome) for lever in LEVERS for outcome in lever.expect}
    assert set(KNOWN_DEAD) <= declared, set(KNOWN_DEAD) - declared
