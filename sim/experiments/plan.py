"""Batches and sweeps: many runs of many scenarios, seeded once, streamed to one folder.

:func:`plan_batch` plans scenarios x replicates; :func:`plan_sweep` plans the points of a sweep
file's design x replicates. Both plan every run up front (a :class:`RunSpec` each, in canonical
order), skip the runs a previous, interrupted attempt already finished, execute the rest on an
executor (:mod:`sim.experiments.executors`) and write each run as it lands
(:mod:`sim.results.folder`).

Seeds (:mod:`sim.experiments.seeds`): one master seed; ``SeedSequence(master).spawn(replicates)``
gives one seed per replicate, and replicate ``k`` of every scenario (or design point) uses the
same seed (common random numbers), so differences between scenarios are not noise. A run is keyed
by the content hash of (scenario hash, seed, policysim version): that key drives resume.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sim import __version__
from sim.errors import ScenarioError
from sim.experiments import shipped
from sim.experiments.seeds import POSTERIOR_STREAM, derived_seed, spawn_seeds
from sim.experiments.sweep_schema import MAX_RUNS
from sim.scenario.loader import (
    list_scenarios,
    load_scenario,
    scenario_dict,
    scenario_hash,
    with_overrides,
)
from sim.scenario.schema import Scenario

PROGRESS_EVERY = 64
"""Design points a sweep's plan checks between two calls of its progress callback."""


def run_key(scenario_hash: str, seed: int, version: str = __version__) -> str:
    """Return a run's content key: a short hash of (scenario hash, seed, policysim version)."""
    return hashlib.sha256(f"{scenario_hash}:{seed}:{version}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One planned run: what to run, with which seed, and where it goes in the results.

    Attributes:
        index: Place in the canonical order.
        run_id: Content key (see :func:`run_key`).
        scenario: The scenario's name (a sweep's base scenario for every point).
        base: The scenario to run, before ``overrides``.
        overrides: ``path=value`` overrides of a sweep point (empty in a batch).
        scenario_hash: Hash of the scenario actually run.
        replicate: Replicate number ``k``; seed ``k`` is shared by every scenario or point.
        seed: The run's seed.
        point_id: The sweep's design point, or None in a batch.
        params: The swept parameters' values, as ``(name, value)`` pairs.
        detail: Keep stakeholder positions and the influence network (replicate 0).
    """

    index: int
    run_id: str
    scenario: str
    base: Scenario = field(repr=False)
    overrides: tuple[str, ...]
    scenario_hash: str
    replicate: int
    seed: int
    point_id: int | None = None
    params: tuple[tuple[str, Any], ...] = ()
    detail: bool = False

    def ids(self) -> dict[str, Any]:
        """Return the identifying columns added to every table row of this run."""
        out: dict[str, Any] = {"run_id": self.run_id, "scenario": self.scenario}
        if self.point_id is not None:
            out["point_id"] = self.point_id
        return {**out, "replicate": self.replicate, "seed": self.seed}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the scenario once per scenario object, rebuilt once per worker (see shipped)."""
        rest = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "base"}
        return _unpickled_spec, (*shipped.encoded(self.base), rest)


def _unpickled_spec(digest: str, data: bytes, rest: dict[str, Any]) -> RunSpec:
    """Rebuild a pickled :class:`RunSpec`, its scenario shared with the runs sent before it."""
    return RunSpec(base=shipped.received(digest, data), **rest)


@dataclass
class Plan:
    """Every run of a batch or sweep, in canonical order, with what the manifest records."""

    kind: str
    name: str
    specs: list[RunSpec]
    scenarios: dict[str, Scenario]
    master_seed: int
    seeds: list[int]
    design: dict[str, Any]
    param_types: dict[str, str] = field(default_factory=dict)
    points: list[dict[str, Any]] | None = None

    @property
    def spec_hash(self) -> str:
        """Fingerprint of the runs (their keys, in order): equal plans resume each other.

        A sweep that keeps no stakeholder or network tables (its design's ``detail`` false) has a
        fingerprint of its own, so that a folder never mixes runs kept with and without them.
        """
        parts: list[Any] = [self.kind, list(self.param_types), [s.run_id for s in self.specs]]
        if self.design.get("detail") is False:
            parts.append({"detail": False})
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    @functools.cached_property
    def scenario_hashes(self) -> dict[str, str]:
        """Each scenario's hash (see :func:`~sim.scenario.loader.scenario_hash`), by name."""
        return {n: scenario_hash(s) for n, s in self.scenarios.items()}

    @functools.cached_property
    def resolved_scenarios(self) -> dict[str, dict[str, Any]]:
        """Each scenario as plain JSON-compatible data, by name."""
        return {n: scenario_dict(s) for n, s in self.scenarios.items()}

    @property
    def width(self) -> int:
        """Digits of the run index in file names."""
        return max(6, len(str(len(self.specs))))


def key_runs(specs: list[dict[str, Any]]) -> list[RunSpec]:
    """Number the runs and give each its key (repeated content gets an occurrence suffix)."""
    seen: dict[str, int] = {}
    out = []
    for i, s in enumerate(specs):
        key = run_key(s["scenario_hash"], s["seed"])
        seen[key] = seen.get(key, 0) + 1
        run_id = key if seen[key] == 1 else run_key(f"{s['scenario_hash']}#{seen[key]}", s["seed"])
        out.append(RunSpec(index=i, run_id=run_id, **s))
    return out


def plan_batch(
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    replicates: int = 10,
    seed: int = 0,
    overrides: Sequence[str] = (),
    months: int | None = None,
    posterior: str | Path | None = None,
) -> Plan:
    """Plan scenarios x replicates.

    Args:
        scenarios: Names, files or loaded scenarios; None for every scenario on the search path.
        replicates: Runs per scenario (at least 1).
        seed: The master seed.
        overrides: ``path=value`` overrides applied to every scenario.
        months: Months to simulate (overrides every scenario).
        posterior: A ``sim calibrate`` folder: replicate ``k`` of every scenario runs with the
            free parameters of one posterior particle, drawn by weight from the master seed
            (see :mod:`sim.experiments.posterior_draws`); ``runs.parquet`` records the particle
            and its values.

    Returns:
        The plan.

    Raises:
        ScenarioError: On a bad scenario, override or count, before anything runs.
    """
    check_counts(replicates, seed)
    extra = [*overrides, *([f"months={months}"] if months is not None else [])]
    chosen = list(scenarios) if scenarios is not None else [i.name for i in list_scenarios()]
    if not chosen:
        raise ScenarioError("no scenarios given and none found on the search path")
    resolved: dict[str, Scenario] = {}
    for item in chosen:
        try:
            if isinstance(item, Scenario):
                sc = with_overrides(item, extra) if extra else item
            else:
                sc = load_scenario(item, extra)
        except ScenarioError as exc:
            raise ScenarioError(f"scenario {getattr(item, 'name', item)}: {exc}") from None
        if sc.name in resolved:
            raise ScenarioError(f"scenario {sc.name!r} is given twice; give each scenario once")
        resolved[sc.name] = sc
    check_counts(replicates, seed, len(resolved))
    seeds = spawn_seeds(seed, replicates)
    draws = []
    if posterior is not None:
        from sim.experiments.posterior_draws import replicate_draws

        draws = replicate_draws(posterior, replicates, seed)
    rows = []
    for sc in resolved.values():
        base_hash = scenario_hash(sc)  # the hash of every replicate without overrides
        for k, s in enumerate(seeds):
            ov, params = draws[k] if draws else ((), ())
            rows.append(
                dict(
                    scenario=sc.name,
                    base=sc,
                    overrides=ov,
                    scenario_hash=scenario_hash(with_overrides(sc, ov)) if ov else base_hash,
                    replicate=k,
                    seed=s,
                    params=params,
                    detail=k == 0,
                )
            )
    name = "all" if scenarios is None else "-".join(resolved)[:60]
    design = {
        "kind": "batch",
        "scenarios": list(resolved),
        "replicates": replicates,
        "overrides": extra,
    }
    types: dict[str, str] = {}
    if draws:
        design["posterior"] = str(posterior)
        design["posterior_seed"] = derived_seed(seed, POSTERIOR_STREAM)
        types = {name: "int" if name == "particle" else "float" for name, _ in draws[0][1]}
    return Plan("batch", name, key_runs(rows), resolved, seed, seeds, design, types)


def plan_sweep(
    sweep: str | Path | Any,
    *,
    replicates: int | None = None,
    seed: int = 0,
    overrides: Sequence[str] = (),
    months: int | None = None,
    detail: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Plan a sweep's design points x replicates.

    Args:
        sweep: A sweep file or name (see :mod:`sim.experiments.sweep`), or a loaded
            :class:`~sim.experiments.sweep.Sweep`.
        replicates: Runs per design point (default: the sweep file's ``replicates``).
        seed: The master seed.
        overrides: ``path=value`` overrides applied to the base scenario.
        months: Months to simulate (overrides the base scenario).
        detail: Keep the stakeholder positions and the influence network of replicate 0 of
            every design point; without, the sweep keeps its time series and summaries only
            (building and storing those tables costs about a quarter of a run's time).
        progress: Called with (points checked, points) as the points are validated and hashed.

    Returns:
        The plan.

    Raises:
        ScenarioError: On a bad sweep file or a design point the scenario schema refuses.
    """
    from sim.experiments.sweep import Sweep, load_sweep
    from sim.experiments.sweep_schema import design_size

    sw = sweep if isinstance(sweep, Sweep) else load_sweep(sweep, list(overrides), months)
    n_rep = replicates if replicates is not None else sw.spec.replicates
    check_counts(n_rep, seed, design_size(sw.spec) or 1)
    points = sw.points()
    seeds = spawn_seeds(seed, n_rep)
    rows = []
    for pid, point in enumerate(points):
        if progress and pid % PROGRESS_EVERY == 0:
            progress(pid, len(points))
        ov = sw.overrides(point)
        try:
            h = scenario_hash(with_overrides(sw.base, ov))
        except ScenarioError as exc:
            raise ScenarioError(
                f"design point {pid} ({', '.join(ov)}): {exc.detail}",
                file=str(sw.file),
                field="design",
            ) from None
        for k, s in enumerate(seeds):
            rows.append(
                dict(
                    scenario=sw.base.name,
                    base=sw.base,
                    overrides=tuple(ov),
                    scenario_hash=h,
                    replicate=k,
                    seed=s,
                    point_id=pid,
                    params=tuple(point.items()),
                    detail=detail and k == 0,
                )
            )
    if progress:
        progress(len(points), len(points))
    d = sw.spec.design
    design = {
        "sweep_file": str(sw.file),
        "sweep": sw.raw,
        "base": sw.base.name,
        "kind": d.kind,
        "samples": d.samples,
        "design_seed": d.seed,
        "n_points": len(points),
        "replicates": n_rep,
        "parameters": {p.name: p.describe() for p in sw.parameters},
        "problem": sw.problem(),
        "outcomes": list(sw.spec.outcomes),
        "detail": detail,
    }
    types = {p.name: p.type for p in sw.parameters}
    return Plan(
        "sweep",
        sw.spec.name,
        key_runs(rows),
        {sw.base.name: sw.base},
        seed,
        seeds,
        design,
        types,
        points,
    )


def check_counts(
    count: int, seed: int, units: int = 1, *, option: str = "replicates", minimum: int = 1
) -> None:
    """Refuse a bad run count per unit or master seed, or more than ``MAX_RUNS`` runs.

    Args:
        count: Runs per scenario, design point or lever variant.
        seed: The master seed.
        units: Scenarios, design points or variants.
        option: The argument that gives ``count`` (``replicates``, ``seeds``), for messages.
        minimum: The smallest ``count`` allowed.

    Raises:
        ScenarioError: Naming the argument as the caller spelled it (``replicates=0`` from
            Python, ``--replicates 0`` on the command line), and what is allowed.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < minimum:
        raise ScenarioError.about(lambda a: f"{a(option, count)}: must be an integer >= {minimum}")
    if units * count > MAX_RUNS:
        raise ScenarioError.about(
            lambda a: f"{a(option, count)}: {units} x {count} is {units * count} runs; "
            f"allowed: at most {MAX_RUNS} runs in one results folder"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError.about(lambda a: f"{a('seed', seed)}: must be a non-negative integer")
