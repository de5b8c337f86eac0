"""One-at-a-time lever studies: each declared lever moved down and up on paired seeds.

:func:`plan_levers` resolves every lever of :data:`~sim.experiments.lever_table.LEVERS` against a
scenario (the fields its pattern matches, each moved by the lever's step and kept inside the
schema's bounds), and plans the scenario itself plus one variant per lever and direction, each
run on the same seeds (common random numbers: replicate ``k`` of every variant uses seed ``k``,
spawned from the master seed as in a batch). The plan runs like a batch
(:func:`sim.experiments.execution.run_plan`: any executor, streamed to a folder of kind
``levers``, resumed after an interruption); :mod:`sim.analysis.levers` turns the folder into the
paired changes of each headline outcome.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.experiments.execution import run_plan
from sim.experiments.lever_table import (
    DIRECTIONS,
    LEVERS,
    LEVERS_BY_NAME,
    OUTCOMES,
    Direction,
    Lever,
)
from sim.experiments.plan import Plan, check_counts, key_runs
from sim.experiments.seeds import spawn_seeds
from sim.results.load import Results
from sim.scenario.fields import suggest_path
from sim.scenario.limits import data_range, field_type
from sim.scenario.loader import load_scenario, scenario_dict, scenario_hash, with_overrides
from sim.scenario.overrides import format_override_value
from sim.scenario.schema import Scenario

VARIANT_COLUMNS = ("lever", "direction")
"""The columns that name a run's lever variant in ``runs.parquet`` and the time series."""

BASE = "base"
"""The ``lever`` and ``direction`` of the unmoved scenario's runs."""

MIN_SEEDS = 2
"""Fewest paired seeds of a study: a confidence interval needs two."""


@dataclass(frozen=True)
class Member:
    """One scenario field a lever moves.

    Attributes:
        path: The field's path, as for ``--set``.
        value: Its value in the scenario.
        low: Lowest value allowed (the schema's bound).
        high: Highest value allowed (the schema's bound, or the lever's cap).
        integer: Whether the field holds an integer.
    """

    path: str
    value: float
    low: float
    high: float
    integer: bool

    def moved(self, lever: Lever, direction: Direction) -> float | int:
        """Return the field's value one step down or up, inside its bounds."""
        new = min(max(lever.step.apply(self.value, direction), self.low), self.high)
        return int(round(new)) if self.integer else float(f"{new:.12g}")


def _matches(node: Any, parts: Sequence[str], prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], dict[str, Any]]]:  # fmt: skip
    """Yield each path matching the pattern ``parts`` and the mapping holding its last key."""
    if not isinstance(node, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    for key in list(node) if head == "*" else [head] if head in node else []:
        if rest:
            yield from _matches(node[key], rest, (*prefix, str(key)))
        else:
            yield (*prefix, str(key)), node


def lever_members(lever: Lever, scenario: Scenario | dict[str, Any]) -> list[Member]:
    """Return the numeric fields of a scenario that a lever moves.

    Args:
        lever: The lever.
        scenario: A validated scenario, or its data (see :func:`sim.scenario.scenario_dict`).

    Returns:
        The fields its pattern matches, in scenario order; empty when the scenario has none
        (the lever does not apply to it).
    """
    data = scenario_dict(scenario) if isinstance(scenario, Scenario) else scenario
    out = []
    for path, parent in _matches(data, lever.path.split(".")):
        value = parent[path[-1]]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if any(parent.get(k) != v for k, v in lever.where.items()):
            continue
        dotted = ".".join(path)
        low, high = data_range(data, dotted)  # the schema's bounds, cut by any cap
        out.append(Member(dotted, float(value), -math.inf if low is None else float(low),
                          math.inf if high is None else float(high),
                          field_type(data, dotted) is int))  # fmt: skip
    return out


def lever_overrides(
    lever: Lever, scenario: Scenario | dict[str, Any], direction: Direction
) -> list[str]:
    """Return the ``path=value`` overrides that move a lever one step down or up.

    Fields already at the bound the step goes toward are left out; the list is empty when the
    lever does not apply to the scenario or cannot move that way.

    Example:
        >>> from sim.scenario import load_scenario
        >>> from sim.experiments.lever_table import LEVERS_BY_NAME
        >>> lever_overrides(LEVERS_BY_NAME["samr_fine_rate"], load_scenario("crackdown"), "up")
        ['regulators.SAMR.fine_rate=0.0525']
    """
    out = []
    for member in lever_members(lever, scenario):
        new = member.moved(lever, direction)
        if new != member.value:
            out.append(f"{member.path}={format_override_value(new)}")
    return out


def select_levers(names: Sequence[str] | None) -> tuple[Lever, ...]:
    """Return the named levers in table order (all of them for None or an empty list).

    Raises:
        ScenarioError: On an unknown name; the message lists the allowed ones.
    """
    if not names:
        return LEVERS
    for name in names:
        if name not in LEVERS_BY_NAME:
            raise ScenarioError(
                f"--lever: unknown lever{suggest_path(name, list(LEVERS_BY_NAME))}; "
                f"allowed: {', '.join(LEVERS_BY_NAME)}"
            )
    return tuple(lever for lever in LEVERS if lever.name in set(names))


def describe_lever(lever: Lever, scenario: Scenario) -> dict[str, Any]:
    """Return a lever as the manifest records it: declaration and the fields it moves."""
    members = lever_members(lever, scenario)
    return {
        "name": lever.name,
        "label": lever.label,
        "path": lever.path,
        "where": dict(lever.where),
        "step": lever.step.describe(),
        "expect": dict(lever.expect),
        "home": lever.home,
        "fields": [
            {"path": m.path, "value": m.value,
             **{d: m.moved(lever, d) for d in DIRECTIONS}} for m in members
        ],
    }  # fmt: skip


def plan_levers(
    scenario: str | Path | Scenario,
    *,
    seeds: int = 10,
    seed: int = 0,
    levers: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    months: int | None = None,
) -> Plan:
    """Plan a one-at-a-time lever study: the scenario, then each lever down and up, on paired seeds.

    Args:
        scenario: A scenario name, file or loaded scenario.
        seeds: Paired seeds (replicates) per variant, at least 2.
        seed: The master seed (the per-replicate seeds are those of a batch with this seed).
        levers: Names of the levers to study (default: every declared lever).
        overrides: ``path=value`` overrides applied to the scenario before any lever moves.
        months: Months to simulate (overrides the scenario).

    Returns:
        The plan, of kind ``levers``: run parameters ``lever`` and ``direction`` (``base`` for
        the unmoved scenario), one design point per variant.

    Raises:
        ScenarioError: On a bad scenario, override, lever name or count, before anything runs.
    """
    check_counts(seeds, seed, option="seeds", minimum=MIN_SEEDS)
    chosen = select_levers(levers)
    extra = [*overrides, *([f"months={months}"] if months is not None else [])]
    if isinstance(scenario, Scenario):
        base = with_overrides(scenario, extra) if extra else scenario
    else:
        base = load_scenario(scenario, extra)
    data = scenario_dict(base)
    variants: list[tuple[str, str, tuple[str, ...]]] = [(BASE, BASE, ())]
    for lever in chosen:
        for direction in DIRECTIONS:
            moved = tuple(lever_overrides(lever, data, direction))
            if moved:
                variants.append((lever.name, direction, moved))
    check_counts(seeds, seed, len(variants), option="seeds", minimum=MIN_SEEDS)
    replicate_seeds = spawn_seeds(seed, seeds)
    rows = []
    for pid, (name, side, moved) in enumerate(variants):
        try:
            h = scenario_hash(with_overrides(base, moved)) if moved else scenario_hash(base)
        except ScenarioError as exc:
            raise ScenarioError(f"lever {name} {side} ({', '.join(moved)}): {exc.detail}") from None
        for k, s in enumerate(replicate_seeds):
            rows.append(dict(
                scenario=base.name, base=base, overrides=moved, scenario_hash=h, replicate=k,
                seed=s, point_id=pid, params=tuple(zip(VARIANT_COLUMNS, (name, side), strict=True)),
                detail=pid == 0 and k == 0,
            ))  # fmt: skip
    design = {
        "kind": "levers",
        "scenario": base.name,
        "replicates": seeds,
        "overrides": extra,
        "outcomes": list(OUTCOMES),
        "levers": [describe_lever(lever, base) for lever in chosen],
        "variants": [
            {"point_id": pid, "lever": name, "direction": direction, "overrides": list(moved)}
            for pid, (name, direction, moved) in enumerate(variants)
        ],
    }
    points = [{"lever": name, "direction": direction} for name, direction, _ in variants]
    return Plan(
        "levers",
        f"levers-{base.name}",
        key_runs(rows),
        {base.name: base},
        seed,
        replicate_seeds,
        design,
        dict.fromkeys(VARIANT_COLUMNS, "str"),
        points,
    )


def run_levers(
    scenario: str | Path | Scenario,
    *,
    seeds: int = 10,
    seed: int = 0,
    levers: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    months: int | None = None,
    **execution: Any,
) -> Results:
    """Run a lever study into a folder of kind ``levers`` and return its results.

    Args:
        scenario: A scenario name, file or loaded scenario.
        seeds: Paired seeds per variant, at least 2.
        seed: The master seed.
        levers: Names of the levers to study (default: all).
        overrides: ``path=value`` overrides applied to the scenario first.
        months: Months to simulate.
        **execution: ``out``, ``executor``, ``workers``, ``scheduler``, ``resume``, ``force``,
            ``fail_fast``, ``progress``: see :func:`sim.experiments.execution.run_plan`.

    Returns:
        The folder's results; :func:`sim.analysis.levers.lever_effects` computes the changes.
    """
    plan = plan_levers(
        scenario, seeds=seeds, seed=seed, levers=levers, overrides=overrides, months=months
    )
    return run_plan(plan, **execution)
