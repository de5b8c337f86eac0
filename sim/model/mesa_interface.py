"""What Mesa's own tools need of :class:`~sim.model.PolicyModel`.

Mesa's ``batch_run`` and ``SolaraViz`` build a model from keyword arguments and read its
``DataCollector``. :func:`model_inputs` turns those keyword arguments (a scenario's name, file or
object, any schema path with a value, Mesa's ``seed`` or ``rng``) into the validated scenario and
the random source the model is built from; :func:`collector_reporters` adds the run's ``date`` and
the scenario's name to the declared metrics, so that every row ``batch_run`` returns says when and
what it is, in plain values that ``DataFrame.to_parquet`` writes. :func:`shuffle_step` steps a
model's agents of one kind in the random order Mesa's ``AgentSet.shuffle_do("step")`` gives.
"""

from __future__ import annotations

import datetime
import functools
import os
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from sim.model.metrics import reporters
from sim.scenario.loader import load_scenario, with_overrides
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

#: What a model is built from: a validated scenario, a scenario name or a YAML file.
ScenarioSource = Scenario | str | os.PathLike[str]
#: Random sources Mesa accepts as ``seed`` or ``rng``.
RandomSource = int | np.random.Generator | np.random.SeedSequence | None
#: The DataCollector's columns that are not metrics: the month's date and the scenario's name.
RUN_COLUMNS: tuple[str, ...] = ("date", "scenario")


def model_inputs(
    scenario: ScenarioSource,
    overrides: Mapping[str, Any],
    *,
    seed: RandomSource = None,
    rng: RandomSource = None,
) -> tuple[Scenario, RandomSource]:
    """Return the scenario and the random source a model is built from.

    Args:
        scenario: A validated scenario, a scenario name (``crackdown``) or a YAML file.
        overrides: Field path to value (``{"regulators.SAMR.fine_rate": 0.06}``), applied to the
            scenario and validated as ``--set`` overrides are; numpy scalars are accepted.
        seed: Mesa's ``seed``: the same seed gives the same run as ``rng=seed`` and as
            ``run_scenario(scenario, seed)``.
        rng: Mesa's ``rng``: a seed, a ``numpy.random.SeedSequence`` or a ``Generator``.

    Returns:
        The validated scenario and the random source (``seed`` or ``rng``).

    Raises:
        ValueError: When both ``seed`` and ``rng`` are given (as Mesa refuses them).
        TypeError: When ``scenario`` is none of the above.
        ScenarioError: When the scenario or an override is invalid (a ``ValueError``).
    """
    if seed is not None and rng is not None:
        raise ValueError("give seed or rng, not both (they set the same random source)")
    if isinstance(scenario, Scenario):
        resolved = with_overrides(scenario, overrides) if overrides else scenario
    elif isinstance(scenario, str | os.PathLike):
        source = scenario if isinstance(scenario, str) else Path(scenario)
        resolved = load_scenario(source, overrides)
    else:
        raise TypeError(
            f"scenario must be a Scenario, a scenario name or a YAML file, "
            f"given {type(scenario).__name__}"
        )
    return resolved, seed if seed is not None else rng


@functools.lru_cache(maxsize=4096)
def month_start(start: pd.Period, month: int) -> pd.Timestamp:
    """Return the first day of month ``month`` after ``start`` (``model.date``), memoized.

    The timestamp is built from the calendar month's number, in the unit that the start period's
    own conversion gives: ``(start + month).to_timestamp()`` gives the same timestamp, at several
    times the cost (tens of microseconds when its code is not in cache).
    """
    first = _first_day(start)
    year, month0 = divmod(first.year * 12 + first.month - 1 + month, 12)
    return pd.Timestamp(datetime.datetime(year, month0 + 1, 1)).as_unit(first.unit)


@functools.lru_cache(maxsize=64)
def _first_day(start: pd.Period) -> pd.Timestamp:
    """Return the first day of the period ``start``, memoized."""
    return start.to_timestamp()


def _date(model: PolicyModel) -> pd.Timestamp:
    return month_start(model.start, max(model.month, 0))


def _scenario_name(model: PolicyModel) -> str:
    return model.scenario.name


def collector_reporters() -> dict[str, Callable[[PolicyModel], Any]]:
    """Return the DataCollector's model reporters: ``date``, ``scenario`` and every metric."""
    return {"date": _date, "scenario": _scenario_name, **reporters()}


class Stepper(Protocol):
    """An agent with a ``step`` method."""

    def step(self) -> None:
        """Act for one step."""


def shuffle_step(rng: random.Random, agents: Sequence[Stepper]) -> None:
    """Call ``step`` on each agent in a random order: ``AgentSet.shuffle_do("step")`` made plain.

    The order is the one ``model.agents_by_type[kind].shuffle_do("step")`` gives, from the same
    draws of the model's ``random``: Mesa shuffles a list of the set's members in the order they
    were added, with ``model.random.shuffle``, and a shuffle's draws and permutation depend only
    on the list's length. ``agents`` must be those members in that order (every agent of the kind,
    in the order they were built, none removed); no weak references are made or followed.

    Args:
        rng: The model's ``random`` (Mesa's ``AgentSet.random``).
        agents: The agents, in the order they were added to the model.
    """
    order = list(agents)
    rng.shuffle(order)
    for agent in order:
        agent.step()
