"""Calibration with uncertainty: ABC-SMC (pyabc) over the free parameters.

The free parameters of ``sim/data/free_parameters.yaml`` get uniform priors over their bounds.
A particle (one value of every free parameter) runs every scenario the validation targets read
on the fit seeds and is summarised by the scores ``sim validate`` and the loss compute
(:func:`sim.analysis.calibration.score`): per fitted target, the share of fit seeds that meet it
(observed: 1) and, for targets with a recorded number, the relative error of the median value
(observed: 0). The distance is pyabc's weighted 2-norm: each statistic is standardized by its
root-mean-square deviation from the record over the calibration sample drawn from the prior (the
prior predictive), fitted once before the first generation and kept for every later one (stored
in ``abc_state.json``), then weighted by its target's weight and the loss's term weight. A
statistic the prior predictive always puts on the record carries no information and gets weight 0.

Seeds: one master seed. ``SeedSequence(master).spawn`` gives the fit seeds and then the held-out
seeds (the validation convention, :func:`sim.experiments.seeds.spawn_seeds`); every particle runs
the same fit seeds (common random numbers). The sampler's seed of generation ``t`` is
``derived_seed(master, SAMPLER_STREAM, t)``.

Generations run one at a time, each by a fresh :class:`pyabc.ABCSMC` loaded from the history
database: the state a generation starts from is the database alone, so a calibration stopped
anywhere resumes at the generation it was in, and (serially) ends exactly as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.calibration import score
from sim.analysis.free_parameters import CalibrationSpec, LossSpec
from sim.analysis.target_checks import relative_error
from sim.analysis.targets import TargetSet
from sim.analysis.validation import CHECK_COLUMNS, SeedTask, evaluate_seed, with_params
from sim.errors import PolicysimError, ScenarioError
from sim.experiments.executors import RunExecutor
from sim.experiments.seeds import SAMPLER_STREAM, derived_seed
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

DB_FILE = "history.db"
STATE_FILE = "abc_state.json"


@dataclass(frozen=True)
class AbcSettings:
    """The budget of an ABC-SMC calibration.

    Attributes:
        population: Accepted particles per generation.
        generations: Generations (populations) to run.
        fit_seeds: Seeds each particle runs.
        holdout_seeds: Further seeds of the posterior predictive check.
        draws: Posterior particles the predictive check runs on the held-out seeds.
        master_seed: The master seed (model seeds, sampler seeds, predictive draws).
    """

    population: int = 40
    generations: int = 5
    fit_seeds: int = 3
    holdout_seeds: int = 12
    draws: int = 12
    master_seed: int = 0


QUICK = AbcSettings(population=10, generations=2, fit_seeds=2, holdout_seeds=5, draws=5)
"""The ``--quick`` budget: a check that the machinery works, not a posterior to report."""


def fitted_names(spec: CalibrationSpec, targets: TargetSet) -> list[str]:
    """Return the targets the distance uses: all but the held-out ones."""
    return [n for n in targets.targets if n not in spec.held_out]


def statistics(checks: pd.DataFrame, targets: TargetSet, names: list[str]) -> dict[str, float]:
    """Return a particle's summary statistics from its check rows over the fit seeds.

    Args:
        checks: Check rows (see :mod:`sim.analysis.validation`) of one particle.
        targets: The targets.
        names: The fitted targets.

    Returns:
        ``pass.<target>`` (share of seeds meeting it) for every target, and ``error.<target>``
        (relative error of the median value) for targets with a recorded number.
    """
    s = score(checks, targets, names, LossSpec())
    out = {f"pass.{n}": float(s["pass_rates"].get(n, 0.0)) for n in names}
    for n in names:
        err = relative_error(targets.targets[n], float(s["medians"].get(n, np.nan)))
        if err is not None:
            out[f"error.{n}"] = float(err)
    return out


def observed_statistics(targets: TargetSet, names: list[str]) -> dict[str, float]:
    """Return the statistics of the record: every target met, no relative error."""
    out = {f"pass.{n}": 1.0 for n in names}
    out.update({f"error.{n}": 0.0 for n in names
                if relative_error(targets.targets[n], 0.0) is not None})  # fmt: skip
    return out


def statistic_weights(spec: CalibrationSpec, targets: TargetSet, names: list[str]
                      ) -> dict[str, float]:  # fmt: skip
    """Return each statistic's fixed weight: its target's weight times its loss term's weight."""
    out = {}
    for key in observed_statistics(targets, names):
        kind, name = key.split(".", 1)
        term = spec.loss.pass_weight if kind == "pass" else spec.loss.magnitude_weight
        out[key] = float(targets.targets[name].weight * term)
    return out


@dataclass(frozen=True)
class TargetModel:
    """The model pyabc calls: one particle's runs on the fit seeds, summarised (picklable).

    Attributes:
        spec: The free parameters.
        targets: The targets.
        scenarios: The scenarios the targets read, before the particle's values.
        seeds: The fit seeds.
        names: The fitted targets.
    """

    spec: CalibrationSpec
    targets: TargetSet
    scenarios: dict[str, Scenario]
    seeds: tuple[int, ...]
    names: tuple[str, ...]

    def __call__(self, par: Any) -> dict[str, float]:
        """Run the particle ``par`` (a mapping of parameter name to value) on every fit seed."""
        x = [float(par[n]) for n in self.spec.names]
        scenarios = with_params(self.scenarios, self.spec.overrides(x))
        rows = []
        for seed in self.seeds:
            rows += evaluate_seed(SeedTask(self.targets, scenarios, seed))
        checks = pd.DataFrame(rows, columns=["tag", *CHECK_COLUMNS])
        return statistics(checks, self.targets, list(self.names))


def quiet_pyabc() -> None:
    """Route pyabc's log records through the project's logging only, at warnings unless verbose.

    pyabc adds its own stream handler to its ``ABC`` logger, which would print every record
    twice and report each generation at INFO level.

    Raises:
        PolicysimError: When pyabc (the optional extra ``calibrate``) is not installed.
    """
    try:
        import pyabc  # noqa: F401  (its import adds the handler)
    except ImportError:
        raise PolicysimError("ABC-SMC needs pyabc: pip install 'policysim[calibrate]' (or use "
                             "--method de)") from None
    logger = logging.getLogger("ABC")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.INFO if log.isEnabledFor(logging.INFO) else logging.WARNING)


def make_sampler(executor: RunExecutor | None) -> Any:
    """Return pyabc's sampler for an executor.

    Serial: :class:`pyabc.sampler.SingleCoreSampler` (draws from NumPy's global generator, which
    :func:`run_abc` seeds, hence reproducible). Processes or Dask: the project's executor behind
    :class:`pyabc.sampler.ConcurrentFutureSampler`, one particle per task; its workers reseed
    themselves from the operating system, so parallel calibrations are not reproducible.
    """
    from pyabc.sampler import ConcurrentFutureSampler, SingleCoreSampler

    if executor is None or executor.kind == "serial":
        return SingleCoreSampler()
    return ConcurrentFutureSampler(executor, client_max_jobs=executor.n_workers)


def _abcsmc(model: Callable[[Any], dict[str, float]], spec: CalibrationSpec,
            weights: dict[str, float], settings: AbcSettings, sampler: Any,
            scales: dict[str, float] | None) -> Any:  # fmt: skip
    """Build the pyabc ABC-SMC object: priors, distance, population size and sampler.

    The distance's scale weights are fitted on the prior's calibration sample (generation 0,
    ``scales`` None) and then given (``scales``, the weights fitted then) for later generations,
    so every generation measures distance in the same units and no weight is refitted on a
    population that acceptance has already narrowed.
    """
    import pyabc
    from pyabc.distance import AdaptivePNormDistance
    from pyabc.distance.scale import root_mean_square_deviation

    priors = pyabc.Distribution(**{
        name: pyabc.RV("uniform", p.bounds[0], p.bounds[1] - p.bounds[0])
        for name, p in spec.parameters.items()
    })  # fmt: skip
    distance = AdaptivePNormDistance(p=2, fixed_weights=weights, initial_scale_weights=scales,
                                     scale_function=root_mean_square_deviation,
                                     fit_scale_ixs={0})  # fmt: skip
    return pyabc.ABCSMC(model, priors, distance, population_size=settings.population,
                        sampler=sampler)  # fmt: skip


def fitted_scales(abc: Any) -> dict[str, float]:
    """Return the scale weights the distance of ``abc`` fitted on the prior's calibration sample."""
    distance = abc.distance_function
    return dict(zip(distance.sumstat.get_ids(), map(float, distance.scale_weights[0]),
                    strict=True))  # fmt: skip


def fingerprint(spec: CalibrationSpec, targets: TargetSet, scenarios: dict[str, Scenario],
                settings: AbcSettings) -> dict[str, Any]:  # fmt: skip
    """Return what must match for a folder's calibration to be resumed or extended.

    The population, fit seeds and master seed shape the history; the number of generations,
    held-out seeds and draws do not, so a finished calibration can be run on for more
    generations, or checked on more held-out seeds, from the same folder.
    """
    from sim.scenario.loader import scenario_hash

    kept = {k: v for k, v in asdict(settings).items()
            if k in ("population", "fit_seeds", "master_seed")}  # fmt: skip
    return {"settings": kept, "free_parameters": spec.model_dump(mode="json"),
            "targets": targets.model_dump(mode="json"),
            "scenario_hashes": {n: scenario_hash(s) for n, s in scenarios.items()}}  # fmt: skip


@dataclass
class AbcRun:
    """A finished ABC-SMC calibration: where its history is and what it cost.

    Attributes:
        db: The pyabc history database URL.
        abc_id: The run's id in it.
        fit_seeds: The fit seeds.
        holdout_seeds: The held-out seeds.
        generations: One row per generation (``t``, ``epsilon``, ``samples``, ...).
        evaluations: Particles evaluated (calibration sample included).
        model_runs: Scenario runs of those evaluations.
        resumed: Whether the run continued an interrupted one.
        scales: The distance's scale weight of each statistic (fitted on the prior's sample).
    """

    db: str
    abc_id: int
    fit_seeds: list[int]
    holdout_seeds: list[int]
    generations: pd.DataFrame
    evaluations: int
    model_runs: int
    resumed: bool
    scales: dict[str, float]


def run_abc(
    spec: CalibrationSpec,
    targets: TargetSet,
    scenarios: dict[str, Scenario],
    settings: AbcSettings,
    folder: Path,
    *,
    executor: RunExecutor | None = None,
    on_generation: Callable[[int, dict[str, Any]], None] | None = None,
) -> AbcRun:
    """Run (or resume) ABC-SMC into ``folder``, one generation at a time.

    Args:
        spec: The free parameters (priors from their bounds), held-out targets and loss weights.
        targets: The validation targets.
        scenarios: The scenarios the targets read.
        settings: Population, generations, seeds.
        folder: Where ``history.db`` and ``abc_state.json`` are kept (created if needed).
        executor: Where particles run (default: in this process).
        on_generation: Called with ``(t, info)`` before the first generation to run (``t`` of
            it, empty info) and after each (epsilon, samples, acceptance).

    Returns:
        The run.

    Raises:
        ScenarioError: When ``folder`` holds another calibration.
    """
    from sim.experiments.seeds import spawn_seeds
    from sim.results.store import write_json

    folder.mkdir(parents=True, exist_ok=True)
    quiet_pyabc()
    seeds = spawn_seeds(settings.master_seed, settings.fit_seeds + settings.holdout_seeds)
    fit, hold = seeds[: settings.fit_seeds], seeds[settings.fit_seeds:]
    names = fitted_names(spec, targets)
    model = TargetModel(spec, targets, scenarios, tuple(fit), tuple(names))
    weights = statistic_weights(spec, targets, names)
    db = f"sqlite:///{(folder / DB_FILE).resolve()}"
    prints = fingerprint(spec, targets, scenarios, settings)
    state_path = folder / STATE_FILE
    state = json.loads(state_path.read_text(encoding="utf-8")) if state_path.exists() else None
    if state is not None and state.get("fingerprint") != prints:
        raise ScenarioError(f"{folder}: holds a calibration with other settings, parameters, "
                            "targets or scenarios; give another --out or --force")  # fmt: skip
    resumed = state is not None
    abc_id = state["abc_id"] if state else None
    scales = state.get("scale_weights") if state else None
    t = 0
    while True:
        abc = _abcsmc(model, spec, weights, settings, make_sampler(executor), scales)
        if abc_id is None:
            history = abc.new(db, observed_statistics(targets, names))
            abc_id = int(history.id)
            write_json(state_path, {"abc_id": abc_id, "fingerprint": prints})
        else:
            history = abc.load(db, abc_id)
        t = history.max_t + 1
        if t >= settings.generations:
            break
        if t > 0 and scales is None:
            raise ScenarioError(f"{folder}: the distance's scales of generation 0 were not "
                                "recorded; start over with --force")  # fmt: skip
        if on_generation is not None:
            on_generation(t, {})
        sampler_seed = derived_seed(settings.master_seed, SAMPLER_STREAM, t)
        np.random.seed(sampler_seed)
        random.seed(sampler_seed)
        abc.run(max_nr_populations=1)
        if scales is None:
            scales = fitted_scales(abc)
            write_json(state_path, {"abc_id": abc_id, "fingerprint": prints,
                                    "scale_weights": scales})  # fmt: skip
        if on_generation is not None:
            row = history.get_all_populations().iloc[-1]
            on_generation(t, {"epsilon": float(row["epsilon"]), "samples": int(row["samples"])})
    table = history.get_all_populations()
    evaluations = int(table["samples"].sum())
    return AbcRun(db, abc_id, fit, hold, table, evaluations,
                  evaluations * len(fit) * len(scenarios), resumed, scales or {})  # fmt: skip
