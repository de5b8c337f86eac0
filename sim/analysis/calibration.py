"""Calibration: fit the free behavioural parameters to the validation targets.

``sim/data/free_parameters.yaml`` declares which parameters are free (see
:mod:`sim.analysis.free_parameters`), which targets are held out, the seeds and the loss.
:func:`calibrate` minimises that loss with :func:`scipy.optimize.differential_evolution` over common
random numbers: every candidate runs the same fit seeds, so the loss is a deterministic function of
the parameters and candidates differ by their parameters only. The initial population is a Latin
hypercube with the current values as its first member; the number of loss evaluations is the
``budget``.

The fitted values are then checked, with the current ones, on held-out seeds and against every
target (including the held-out ones). :func:`write_calibration_file` writes them into
``sim/data/calibration.yaml`` (merged under every scenario) only when the result is accepted:
every target meets the threshold on the held-out seeds, the held-out loss is lower and the
held-out targets' pass rate did not fall.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.free_parameters import CalibrationSpec, LossSpec
from sim.analysis.target_checks import relative_error
from sim.analysis.targets import TargetSet
from sim.analysis.validation import (
    SeedTask,
    ValidationReport,
    resolve_scenarios,
    run_checks,
    run_validation,
    with_params,
)
from sim.errors import ScenarioError
from sim.experiments.executors import RunExecutor

log = logging.getLogger(__name__)


# -- the loss -------------------------------------------------------------------------------------


def score(checks: pd.DataFrame, targets: TargetSet, names: list[str], loss: LossSpec
          ) -> dict[str, Any]:  # fmt: skip
    """Score one candidate's checks: the declared loss over the targets ``names``.

    Args:
        checks: Check rows of one candidate over its seeds (see :mod:`sim.analysis.validation`).
        targets: The targets.
        names: The targets the loss sums over.
        loss: The weights.

    Returns:
        ``loss``, ``pass_term``, ``magnitude_term``, and ``pass_rates`` and ``medians`` per target.
    """
    passed = checks.groupby(["seed", "target"], sort=False)["passed"].all()
    rates = passed.groupby(level="target", sort=False).mean()
    first = checks[checks["check"] == 0].groupby("target", sort=False)["value"].median()
    pass_term = magnitude_term = 0.0
    for name in names:
        t = targets.targets[name]
        pass_term += t.weight * (1.0 - float(rates.get(name, 0.0)))
        rel = relative_error(t, float(first.get(name, np.nan)))
        if rel is not None:
            magnitude_term += t.weight * rel**2
    total = loss.pass_weight * pass_term + loss.magnitude_weight * magnitude_term
    return {"loss": total, "pass_term": pass_term, "magnitude_term": magnitude_term,
            "pass_rates": {k: float(v) for k, v in rates.items()},
            "medians": {k: float(v) for k, v in first.items()}}  # fmt: skip


@dataclass
class Objective:
    """The loss of candidates on the fit seeds, evaluated in parallel; keeps every evaluation.

    Called by differential evolution with ``x`` of shape ``(n_params, n_candidates)``.
    """

    spec: CalibrationSpec
    targets: TargetSet
    scenarios: dict[str, Any]
    seeds: list[int]
    executor: RunExecutor | None = None
    progress: Callable[[int], None] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fitted_targets(self) -> list[str]:
        """The targets in the loss (all but the held-out ones)."""
        return [n for n in self.targets.targets if n not in self.spec.held_out]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return the loss of each candidate column of ``x``."""
        xs = np.atleast_2d(np.asarray(x, dtype=float).T)
        tasks = [SeedTask(self.targets, with_params(self.scenarios, self.spec.overrides(c)), s, i)
                 for i, c in enumerate(xs) for s in self.seeds]  # fmt: skip
        checks = run_checks(tasks, self.executor, self.progress)
        out = np.empty(len(xs))
        for i, c in enumerate(xs):
            s = score(checks[checks["tag"] == i], self.targets, self.fitted_targets, self.spec.loss)
            out[i] = s["loss"]
            self.history.append({"evaluation": len(self.history), **dict(zip(self.spec.names, c,
                                 strict=True)), "loss": s["loss"], "pass_term": s["pass_term"],
                                 "magnitude_term": s["magnitude_term"]})  # fmt: skip
        return out


@dataclass
class CalibrationResult:
    """What a calibration found and how it was checked.

    Attributes:
        spec: The free parameters and settings.
        start: Current values the fit started from.
        fitted: Best values found (rounded to 4 significant digits).
        fit_loss: Loss on the fit seeds of ``start`` and of ``fitted``.
        holdout: Validation on the held-out seeds of ``start`` and of ``fitted``.
        holdout_loss: Loss over every target on the held-out seeds, of ``start`` and ``fitted``.
        accepted: Whether the fitted values pass the acceptance rule.
        reasons: Why they were or were not accepted.
        history: Every evaluation of the fit (values, loss and its terms).
        settings: Budget, population, generations, seeds, wall time.
    """

    spec: CalibrationSpec
    start: np.ndarray
    fitted: np.ndarray
    fit_loss: dict[str, float]
    holdout: dict[str, ValidationReport]
    holdout_loss: dict[str, float]
    accepted: bool
    reasons: list[str]
    history: pd.DataFrame
    settings: dict[str, Any]

    def values(self, which: str = "fitted") -> dict[str, dict[str, float]]:
        """Return ``{group: {name: value}}`` of the start or fitted values."""
        x = self.fitted if which == "fitted" else self.start
        out: dict[str, dict[str, float]] = {}
        for p, v in zip(self.spec.parameters.values(), x, strict=True):
            group, name = p.path.split(".")
            out.setdefault(group, {})[name] = float(v)
        return out


def round_sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round each value to ``digits`` significant digits."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(x, dtype=float)])


def _initial_population(spec: CalibrationSpec, start: np.ndarray, size: int, seed: int
                        ) -> np.ndarray:  # fmt: skip
    """Return a Latin-hypercube population within the bounds, the start values first."""
    from scipy.stats import qmc

    lo, hi = np.array(spec.bounds).T
    unit = qmc.LatinHypercube(d=len(lo), rng=seed).random(size)
    pop = lo + unit * (hi - lo)
    pop[0] = np.clip(start, lo, hi)
    return pop


def _holdout_loss(report: ValidationReport, targets: TargetSet, loss: LossSpec) -> float:
    """Return the loss over every target of a held-out validation."""
    return float(score(report.checks, targets, list(targets.targets), loss)["loss"])


def check_budget(spec: CalibrationSpec, budget: int, population: int | None = None) -> int:
    """Return the population size, refusing a budget smaller than one population."""
    pop_size = population or max(5, 2 * len(spec.parameters))
    if budget < pop_size:
        raise ScenarioError.about(
            lambda a: f"{a('budget', budget)}: must be at least the population ({pop_size} "
            f"candidates, {a.population}), so that one generation can be evaluated"
        )
    return pop_size


def calibrate(
    spec: CalibrationSpec,
    targets: TargetSet,
    *,
    budget: int = 40,
    population: int | None = None,
    fit_seeds: list[int] | None = None,
    holdout_seeds: list[int] | None = None,
    executor: RunExecutor | None = None,
    progress: Callable[[int], None] | None = None,
    seed: int = 0,
) -> CalibrationResult:
    """Fit the free parameters to the targets, then check the fit on held-out seeds.

    Args:
        spec: The free parameters, held-out targets, seeds and loss.
        targets: The validation targets.
        budget: Loss evaluations the optimiser may use (population x generations).
        population: Candidates per generation (default: ``max(5, 2 x parameters)``).
        fit_seeds: Seeds of the loss (default: the first ``spec.seeds.fit`` spawned seeds).
        holdout_seeds: Seeds of the check (default: the next ``spec.seeds.holdout``).
        executor: Where the runs execute (default: in this process).
        progress: Called with 1 after each seed task (fit and check).
        seed: Seed of the optimiser (initial population, mutation).

    Returns:
        The result, accepted or not. Nothing is written.

    Raises:
        ScenarioError: When the budget is smaller than one population.
    """
    from scipy.optimize import differential_evolution

    from sim.experiments.seeds import spawn_seeds

    started = time.perf_counter()
    n_fit, n_hold = spec.seeds.fit, spec.seeds.holdout
    if fit_seeds is None or holdout_seeds is None:
        spawned = spawn_seeds(spec.seeds.master, n_fit + n_hold)
        fit_seeds = fit_seeds if fit_seeds is not None else spawned[:n_fit]
        holdout_seeds = holdout_seeds if holdout_seeds is not None else spawned[n_fit:]
    pop_size = check_budget(spec, budget, population)
    generations = budget // pop_size - 1
    scenarios = resolve_scenarios(targets)
    start = spec.current(targets)
    objective = Objective(spec, targets, scenarios, list(fit_seeds), executor, progress)
    init = _initial_population(spec, start, pop_size, seed)
    if generations > 0:
        result = differential_evolution(
            objective, spec.bounds, maxiter=generations, init=init, rng=seed, polish=False,
            tol=0.0, atol=0.0, vectorized=True, updating="deferred",
        )  # fmt: skip
        best = result.x
    else:
        best = init[int(np.argmin(objective(init.T)))]
    fitted = round_sig(best)
    history = pd.DataFrame(objective.history)
    fit_loss = {"start": float(objective(start[:, None])[0]),
                "fitted": float(objective(fitted[:, None])[0])}  # fmt: skip
    holdout = {
        which: run_validation(targets, holdout_seeds, overrides=spec.overrides(x),
                              executor=executor, progress=progress, scenarios=scenarios)
        for which, x in (("start", start), ("fitted", fitted))
    }  # fmt: skip
    holdout_loss = {k: _holdout_loss(r, targets, spec.loss) for k, r in holdout.items()}
    accepted, reasons = _accept(spec, holdout, holdout_loss, start, fitted)
    settings = {
        "budget": budget, "population": pop_size, "generations": max(generations, 0),
        "evaluations": len(history), "optimizer_seed": seed, "master_seed": spec.seeds.master,
        "fit_seeds": list(fit_seeds), "holdout_seeds": list(holdout_seeds),
        "wall_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return CalibrationResult(spec, start, fitted, fit_loss, holdout, holdout_loss, accepted,
                             reasons, history, settings)  # fmt: skip


def _accept(
    spec: CalibrationSpec, holdout: dict[str, ValidationReport], loss: dict[str, float],
    start: np.ndarray, fitted: np.ndarray,
) -> tuple[bool, list[str]]:  # fmt: skip
    """Apply the acceptance rule; return the verdict and its reasons."""
    reasons = []
    ok = True
    if np.allclose(start, fitted):
        return False, ["the fit kept the current values"]
    failing = holdout["fitted"].failing
    if failing:
        ok = False
        reasons.append(f"targets under the threshold on held-out seeds: {', '.join(failing)}")
    if loss["fitted"] >= loss["start"]:
        ok = False
        reasons.append(f"held-out loss not lower: {loss['fitted']:.4g} vs {loss['start']:.4g}")
    rates = {k: r.pass_rates().set_index("target")["pass_rate"] for k, r in holdout.items()}
    if spec.held_out:
        before = float(rates["start"][spec.held_out].mean())
        after = float(rates["fitted"][spec.held_out].mean())
        if after < before:
            ok = False
            reasons.append(f"held-out targets' pass rate fell: {after:.3f} vs {before:.3f}")
    if ok:
        reasons.append(f"held-out loss {loss['start']:.4g} -> {loss['fitted']:.4g} and every "
                       "target meets the threshold on held-out seeds")  # fmt: skip
    return ok, reasons
