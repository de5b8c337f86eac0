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
import os
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

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


def start_period(scenario: Scenario) -> pd.Period:
    """Return the scenario's first month as a period (``model.start``)."""
    return pd.Period(scenario.start, freq="M")


#: Each start period's months so far: the first day of month 0, 1, 2, ... (see :func:`month_start`).
_MONTHS: dict[pd.Period, tuple[pd.Timestamp, ...]] = {}
#: Months built at a time past the last one known.
_MONTHS_AT_ONCE = 120


def month_start(start: pd.Period, month: int) -> pd.Timestamp:
    """Return the first day of month ``month`` after ``start`` (``model.date``), memoized.

    Every run asks for the same few hundred months; a month not seen before is built with the
    next :data:`_MONTHS_AT_ONCE` (a timestamp costs tens of microseconds when pandas' code is not
    in cache, as between two model months).
    """
    return months_through(start, month)[month]


def months_through(start: pd.Period, month: int) -> tuple[pd.Timestamp, ...]:
    """Return the first days of ``start``'s months known so far, through month ``month`` at least.

    What :func:`month_start` indexes: a model stepped past its scenario's last month keeps the
    longer tuple, so that its later months' dates are read from it as its first months' are.
    """
    months = _MONTHS.get(start, ())
    if month >= len(months):
        months = _months_to(start, month, months)
    return months


def _months_to(
    start: pd.Period, month: int, known: tuple[pd.Timestamp, ...]
) -> tuple[pd.Timestamp, ...]:
    """Extend ``known``, the first days of ``start``'s months, past ``month``; keep and return it.

    Each is built from the calendar month's number, in the unit that the start period's own
    conversion gives: ``(start + k).to_timestamp()`` gives the same timestamp at several times
    the cost. The tuple is replaced whole, so a thread never sees one half built.
    """
    first = start.to_timestamp()
    # Up to the next multiple of the block, short of year 10,000 (beyond ``datetime``'s range).
    months_left = (datetime.MAXYEAR + 1 - first.year) * 12 - (first.month - 1)
    end = max(month + 1, min((month // _MONTHS_AT_ONCE + 1) * _MONTHS_AT_ONCE, months_left))
    added = []
    for k in range(len(known), end):
        year, month0 = divmod(first.year * 12 + first.month - 1 + k, 12)
        added.append(pd.Timestamp(datetime.datetime(year, month0 + 1, 1)).as_unit(first.unit))
    months = known + tuple(added)
    _MONTHS[start] = months
    return months


def month_starts(scenario: Scenario) -> tuple[pd.Timestamp, ...]:
    """Return the first days of a scenario's months (at least ``months`` of them), memoized.

    What :func:`month_start` gives for each month from the scenario's start, in one tuple (a
    model reads its month's date from it without hashing its start period).
    """
    return months_through(start_period(scenario), max(scenario.months - 1, 0))


def _date(model: PolicyModel) -> pd.Timestamp:
    return model.date


def _scenario_name(model: PolicyModel) -> str:
    return model.scenario.name


def collector_reporters() -> dict[str, Callable[[PolicyModel], Any]]:
    """Return the DataCollector's model reporters: ``date``, ``scenario`` and every metric."""
    return {"date": _date, "scenario": _scenario_name, **reporters()}


_Agent = TypeVar("_Agent")


class Stepper(Protocol):
    """An agent with a ``step`` method."""

    def step(self) -> None:
        """Act for one step."""


def shuffle_step(rng: random.Random, agents: Sequence[Stepper]) -> None:
    """Call ``step`` on each agent in a random order: ``AgentSet.shuffle_do("step")`` made plain.

    The order is :func:`shuffled`'s.

    Args:
        rng: The model's ``random`` (Mesa's ``AgentSet.random``).
        agents: The agents, in the order they were added to the model.
    """
    for agent in shuffled(rng, agents):
        agent.step()


def shuffled(rng: random.Random, agents: Sequence[_Agent]) -> list[_Agent]:
    """Return the agents in the order ``AgentSet.shuffle_do`` would step them.

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
    if type(rng) is random.Random:
        # random.Random.shuffle with its _randbelow (Random's own, by getrandbits) written out:
        # the same draws, the same swaps, without two Python calls a draw.
        getrandbits = rng.getrandbits
        for i in range(len(order) - 1, 0, -1):
            n = i + 1
            k = n.bit_length()
            j = getrandbits(k)
            while j >= n:
                j = getrandbits(k)
            order[i], order[j] = order[j], order[i]
    else:
        rng.shuffle(order)
    return order
