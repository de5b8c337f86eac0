"""The one pure entry point: run one scenario with one seed.

:func:`run_scenario` is what the CLI, batches, sweeps, tests and benchmarks call. It builds a
:class:`~sim.model.policy_model.PolicyModel` seeded with ``seed`` (through
``numpy.random.SeedSequence``), runs every month and returns a :class:`RunResult`; it touches no
file and no global state.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mesa
import pandas as pd

from sim.model.blas import one_blas_thread
from sim.model.metrics import summarize
from sim.model.observation import FineRecord, fines_frame, timeseries_frame
from sim.model.policy_model import PolicyModel
from sim.scenario.loader import scenario_hash
from sim.scenario.schema import Scenario

MAX_SEED = 2**63 - 1
#: ``pd.DataFrame()``, whose copies cost a third of building one again.
_EMPTY = pd.DataFrame()


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    ``timeseries`` and ``fines`` are DataFrames built when first read (from ``columns`` and
    ``fine_records``) and kept: a batch reads only ``columns`` and ``summary``, and building
    the frames would cost it about a millisecond a run.

    Attributes:
        scenario: The resolved scenario that was run.
        seed: The seed the run used.
        columns: The time series' columns as arrays (``date`` as a ``DatetimeIndex``), what
            ``timeseries`` is built from (read them, do not change them).
        summary: Run-level outcomes (see :func:`sim.model.metrics.summarize`).
        wall_s: Wall-clock seconds the run took.
        stakeholders: Each stakeholder's position per month (see
            :meth:`~sim.model.policy_model.PolicyModel.stakeholder_timeseries`).
        network: The influence matrix each December and in the last month.
        firm_timeseries: Per-firm state per month when requested, else ``None``.
        fine_records: One record per fine (:data:`~sim.model.observation.FineRecord`), what
            ``fines`` is built from; ``None`` when the result was built without them.
    """

    scenario: Scenario
    seed: int
    columns: Mapping[str, Any] = field(repr=False, compare=False)
    summary: dict[str, float | int | pd.Timestamp]
    wall_s: float
    stakeholders: pd.DataFrame = field(repr=False)
    network: pd.DataFrame = field(repr=False)
    firm_timeseries: pd.DataFrame | None = field(default=None, repr=False)
    fine_records: Sequence[FineRecord] | None = field(default=None, repr=False)

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per month: ``date`` and every declared metric (built when first read)."""
        return timeseries_frame(self.columns)

    @functools.cached_property
    def fines(self) -> pd.DataFrame | None:
        """One row per fine, built when first read (``None`` without ``fine_records``).

        See :meth:`~sim.model.policy_model.PolicyModel.fines_table`.
        """
        return None if self.fine_records is None else fines_frame(self.fine_records)

    @functools.cached_property
    def scenario_hash(self) -> str:
        """SHA-256 of the scenario's canonical form (computed when first asked for)."""
        return scenario_hash(self.scenario)


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int in ``[0, 2**63 - 1]`` or raise ``ValueError``.

    Args:
        seed: The proposed seed.

    Returns:
        The seed.

    Raises:
        ValueError: When it is not a non-negative integer in range.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, {MAX_SEED}], got {seed!r}")
    return seed


def run_scenario(
    scenario: Scenario,
    seed: int,
    *,
    collect_firms: bool = False,
    check: bool = False,
    detail: bool = True,
) -> RunResult:
    """Run ``scenario`` for its ``months`` with ``seed``.

    The model runs with BLAS on one thread (:func:`sim.model.blas.one_blas_thread`), so that its
    results are the same on every machine's core count and in every kind of worker.

    Args:
        scenario: A validated scenario (see :func:`sim.scenario.loader.load_scenario`).
        seed: Non-negative integer seed; the same seed gives identical results.
        collect_firms: Also return each named firm's monthly state.
        check: Check model invariants every month (slower); raise on a violation.
        detail: Build the stakeholder positions and the influence network tables (a batch keeps
            them for replicate 0 only); without, both are empty. The run is the same either way.

    Returns:
        The run's time series, summary and provenance.

    Example:
        >>> from sim import load_scenario, run_scenario
        >>> result = run_scenario(load_scenario("baseline", ["months=6"]), seed=1)
        >>> len(result.timeseries)
        6
    """
    seed = check_seed(seed)
    started = time.perf_counter()
    with one_blas_thread():
        model = PolicyModel(scenario=scenario, collect_firms=collect_firms, check=check, rng=seed)
        for _ in range(scenario.months):
            model.step()
    columns = model.timeseries_columns()
    result = RunResult(
        scenario=scenario,
        seed=seed,
        columns=columns,
        summary=summarize(columns),
        wall_s=time.perf_counter() - started,
        stakeholders=model.stakeholder_timeseries() if detail else _EMPTY.copy(),
        network=model.network_timeseries() if detail else _EMPTY.copy(),
        firm_timeseries=model.firm_timeseries() if collect_firms else None,
        fine_records=tuple(model.fine_records),
    )
    release_model(model)
    return result


def release_model(model: mesa.Model) -> None:
    """Let a finished model be freed at once, by reference counting.

    Mesa 3.3 keeps every model ever built as a key of the class attribute ``mesa.Agent._ids``
    (mesa/mesa#3179, fixed upstream by #3180), so a process running thousands of runs would grow
    without bound; the model's key is dropped here.

    A model is also a web of reference cycles: each agent and the model's collector refer to the
    model, and Mesa's model keeps its own bound ``step``. Left as it is, a finished model waits for
    Python's cyclic garbage collector, and having lived through the collections of its run it waits
    in the older generations, whose passes cost more (about 1% of a history run in all). Emptying
    the agents' and the model's attributes breaks every cycle, so the model and everything it
    held are freed when this returns. The model is unusable afterwards.

    Args:
        model: A model no longer needed.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
    for agent in list(model.agents):
        vars(agent).clear()
    vars(model).clear()
