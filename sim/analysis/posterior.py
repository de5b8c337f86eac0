"""What an ABC-SMC calibration found: the posterior, how narrow it is, and what it predicts.

:func:`posterior_frame` reads the last population of a pyabc history; :func:`posterior_table`
summarises each parameter (weighted median and 95% interval) and its identification (posterior
width over prior width); :func:`predictive_check` runs posterior draws, and the current values,
on held-out seeds and gives per target the share of held-out seeds meeting it with a Wilson 95%
interval. :func:`write_abc_folder` writes the folder ``sim calibrate`` leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.abc_smc import DB_FILE, STATE_FILE, AbcRun, AbcSettings
from sim.analysis.free_parameters import CalibrationSpec
from sim.analysis.holdout_comparison import (
    CANDIDATE_FILE,
    COMPARISON_FILE,
    CURRENT,
    MEDIANS,
    VERDICT_FILE,
)
from sim.analysis.targets import TargetSet
from sim.analysis.validation import SeedTask, run_checks, with_params
from sim.experiments.executors import RunExecutor
from sim.experiments.posterior_draws import MANIFEST_FILE, POSTERIOR_FILE, draw_particles
from sim.experiments.seeds import PREDICTIVE_STREAM, SAMPLER_STREAM, derived_seed
from sim.scenario.schema import Scenario

FOLDER_FILES = (MANIFEST_FILE, DB_FILE, STATE_FILE, POSTERIOR_FILE, "populations.parquet",
                "generations.parquet", COMPARISON_FILE, VERDICT_FILE, CANDIDATE_FILE,
                "predictive_checks.parquet", "posterior_summary.csv", "marginals.png",
                "pairs.png", "comparison.png")
"""Every file of a calibration folder (what ``sim calibrate --force`` deletes)."""


def _history(run: AbcRun) -> Any:
    """Open the run's pyabc history."""
    from pyabc import History

    return History(run.db, _id=run.abc_id)


def posterior_frame(run: AbcRun, spec: CalibrationSpec, t: int | None = None) -> pd.DataFrame:
    """Return a population's particles: ``particle``, a column per parameter, ``weight``.

    Args:
        run: The calibration.
        spec: The free parameters (column order).
        t: The generation (default: the last, the posterior).
    """
    history = _history(run)
    frame, weights = history.get_distribution(m=0, t=history.max_t if t is None else t)
    out = frame[spec.names].reset_index(drop=True).astype(float)
    out["weight"] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    out.insert(0, "particle", range(len(out)))
    return out


def all_populations(run: AbcRun, spec: CalibrationSpec) -> pd.DataFrame:
    """Return the particles of every generation, with a ``t`` column (the population history)."""
    frames = [posterior_frame(run, spec, t).assign(t=t) for t in run.generations["t"] if t >= 0]
    return pd.concat(frames, ignore_index=True)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> np.ndarray:
    """Return quantiles of weighted values (inverse of the weighted empirical distribution)."""
    from pyabc.weighted_statistics import weighted_quantile

    return np.array([weighted_quantile(values, weights, alpha=q) for q in qs])


def posterior_table(posterior: pd.DataFrame, spec: CalibrationSpec, current: np.ndarray
                    ) -> pd.DataFrame:  # fmt: skip
    """Summarise each parameter's posterior against its uniform prior.

    ``width_ratio`` is the posterior's central 95% interval over the prior's (0.95 x the bounds'
    span): near 1 the record does not pin the parameter down; the smaller, the more it does.

    Returns:
        One row per parameter: path, bounds, current value, weighted mean, median, 2.5% and
        97.5% quantiles, standard deviation, ``width_ratio`` and ``sd_ratio`` (posterior over
        prior standard deviation).
    """
    w = posterior["weight"].to_numpy(dtype=float)
    rows = []
    for (name, p), now in zip(spec.parameters.items(), current, strict=True):
        x = posterior[name].to_numpy(dtype=float)
        lo, hi = p.bounds
        q025, q50, q975 = weighted_quantiles(x, w, [0.025, 0.5, 0.975])
        mean = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        rows.append({"parameter": name, "path": p.path, "prior_low": lo, "prior_high": hi,
                     "current": float(now), "mean": mean, "median": float(q50),
                     "q025": float(q025), "q975": float(q975), "sd": sd,
                     "width_ratio": float((q975 - q025) / (0.95 * (hi - lo))),
                     "sd_ratio": sd / ((hi - lo) / np.sqrt(12.0))})  # fmt: skip
    return pd.DataFrame(rows)


@dataclass
class Predictive:
    """The held-out comparison: posterior predictive, medians and current values, held-out seeds.

    Attributes:
        table: Per target, each arm's share of held-out runs meeting it with a Wilson 95%
            interval (see :func:`sim.analysis.holdout_comparison.compare`).
        losses: Each arm's held-out loss (all, fitted and held-out targets).
        no_worse: Whether the posterior is no worse than the current values.
        reasons: Why.
        checks: Every check row (``tag``: the draw, :data:`MEDIANS` or :data:`CURRENT`).
        particles: The particle drawn for each draw.
        medians: The posterior medians (rounded to 4 significant digits) that were run.
        current: The current values that were run.
        model_runs: Scenario runs of the check.
    """

    table: pd.DataFrame
    losses: dict[str, dict[str, float]]
    no_worse: bool
    reasons: list[str]
    checks: pd.DataFrame
    particles: list[int]
    medians: np.ndarray
    current: np.ndarray
    model_runs: int


def predictive_check(
    posterior: pd.DataFrame, spec: CalibrationSpec, targets: TargetSet,
    scenarios: dict[str, Scenario], seeds: list[int], current: np.ndarray, *, draws: int,
    master: int, executor: RunExecutor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Predictive:  # fmt: skip
    """Run posterior draws, the posterior medians and the current values on held-out seeds.

    Args:
        posterior: The posterior particles (see :func:`posterior_frame`).
        spec: The free parameters and held-out targets.
        targets: The targets (fitted and held out: all are checked).
        scenarios: The scenarios the targets read.
        seeds: The held-out seeds.
        current: The current values of the free parameters.
        draws: Particles drawn by weight (seeded by ``derived_seed(master, PREDICTIVE_STREAM)``).
        master: The master seed.
        executor: Where the runs execute (default: in this process).
        progress: Called with 1 after each seed task.
    """
    from sim.analysis.calibration import round_sig
    from sim.analysis.holdout_comparison import compare, holdout_losses, verdict

    picks = draw_particles(posterior["weight"], draws, master, PREDICTIVE_STREAM).tolist()
    values = {k: posterior.loc[i, spec.names].to_numpy(dtype=float) for k, i in enumerate(picks)}
    w = posterior["weight"].to_numpy(dtype=float)
    medians = round_sig(np.array([weighted_quantiles(posterior[n].to_numpy(dtype=float), w,
                                                     [0.5])[0] for n in spec.names]))  # fmt: skip
    values[MEDIANS] = medians
    values[CURRENT] = np.asarray(current, dtype=float)
    tasks = [SeedTask(targets, with_params(scenarios, spec.overrides(x)), s, tag)
             for tag, x in values.items() for s in seeds]  # fmt: skip
    checks = run_checks(tasks, executor, progress)
    table = compare(checks, spec, targets)
    losses = holdout_losses(checks, spec, targets)
    no_worse, reasons = verdict(table, losses)
    return Predictive(table, losses, no_worse, reasons, checks, picks, medians,
                      values[CURRENT], len(tasks) * len(scenarios))  # fmt: skip


def write_abc_folder(
    out: Path, run: AbcRun, spec: CalibrationSpec, settings: AbcSettings,
    posterior: pd.DataFrame, table: pd.DataFrame, predictive: Predictive, wall_s: float,
) -> Path:  # fmt: skip
    """Write the calibration folder; ``manifest.json`` last (its presence marks it finished).

    Files: ``posterior.parquet``, ``populations.parquet`` (every generation's particles),
    ``generations.parquet`` (epsilon and evaluations per generation), ``posterior_summary.csv``,
    ``comparison.parquet`` (the held-out comparison per target), ``comparison.json`` (held-out
    losses and the no-worse verdict), ``calibration.yaml`` (the candidate: posterior medians with
    provenance), ``predictive_checks.parquet`` (every check) and ``manifest.json`` (seeds, budget,
    costs, library versions, git commit). The pyabc history ``history.db`` is already there.

    Returns:
        The path of ``manifest.json``.
    """
    from sim.analysis.calibration_files import write_comparison
    from sim.results.store import atomic_path, provenance, write_json, write_parquet

    (out / MANIFEST_FILE).unlink(missing_ok=True)
    write_parquet(out / POSTERIOR_FILE, posterior)
    write_parquet(out / "populations.parquet", all_populations(run, spec))
    write_parquet(out / "generations.parquet", run.generations)
    write_parquet(out / COMPARISON_FILE, predictive.table)
    write_parquet(out / "predictive_checks.parquet", predictive.checks)
    with atomic_path(out / "posterior_summary.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    prov = provenance()
    prov["versions"] = {**prov["versions"], "pyabc": metadata.version("pyabc")}
    generations = [int(t) for t in run.generations["t"] if t >= 0]
    manifest = {
        "kind": "abc-calibration", "method": "ABC-SMC (pyabc)", "settings": asdict(settings),
        "master_seed": settings.master_seed, "fit_seeds": run.fit_seeds,
        "holdout_seeds": run.holdout_seeds,
        "sampler_seeds": {t: derived_seed(settings.master_seed, SAMPLER_STREAM, t)
                          for t in generations},
        "predictive_seed": derived_seed(settings.master_seed, PREDICTIVE_STREAM),
        "predictive_particles": predictive.particles, "held_out_targets": spec.held_out,
        "parameters": {r["parameter"]: {k: v for k, v in r.items() if k != "parameter"}
                       for r in table.to_dict("records")},
        "evaluations": run.evaluations, "model_runs": {
            "abc": run.model_runs, "predictive": predictive.model_runs,
            "total": run.model_runs + predictive.model_runs},
        "wall_s": round(wall_s, 1), "resumed": run.resumed,
        "distance": "weighted 2-norm of target pass rates and relative errors, each "
                    "standardized by its RMS deviation from the record over the prior's "
                    "calibration sample (fitted once)",
        "scale_weights": run.scales, "no_worse": predictive.no_worse,
        **prov,
    }  # fmt: skip
    write_comparison(out, spec, predictive, manifest)
    target = out / MANIFEST_FILE
    write_json(target, manifest)
    return target


@dataclass
class AbcResult:
    """A finished ABC-SMC calibration and its folder.

    Attributes:
        run: The ABC-SMC run (history, seeds, cost).
        posterior: The posterior particles.
        table: The per-parameter summary (see :func:`posterior_table`).
        predictive: The posterior predictive check.
        manifest: Path of the folder's ``manifest.json``.
        wall_s: Wall time of this invocation, in seconds.
    """

    run: AbcRun
    posterior: pd.DataFrame
    table: pd.DataFrame
    predictive: Predictive
    manifest: Path
    wall_s: float


def calibrate_abc(
    spec: CalibrationSpec, targets: TargetSet, settings: AbcSettings, out: Path, *,
    executor: RunExecutor | None = None,
    on_generation: Callable[[int, dict[str, Any]], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> AbcResult:  # fmt: skip
    """Run (or resume) ABC-SMC, check the posterior on held-out seeds and write the folder.

    Args:
        spec: The free parameters, held-out targets and loss weights.
        targets: The validation targets.
        settings: The budget and master seed.
        out: The folder (resumed when it holds the same unfinished calibration).
        executor: Where the runs execute (default: in this process).
        on_generation: See :func:`sim.analysis.abc_smc.run_abc`.
        progress: Called with 1 after each seed task of the predictive check.

    Returns:
        The result; figures are drawn by :mod:`sim.plots.calibration`.
    """
    from sim.analysis.abc_smc import run_abc
    from sim.analysis.validation import resolve_scenarios

    started = time.perf_counter()
    scenarios = resolve_scenarios(targets)
    run = run_abc(spec, targets, scenarios, settings, out, executor=executor,
                  on_generation=on_generation)  # fmt: skip
    posterior = posterior_frame(run, spec)
    current = spec.current(targets)
    table = posterior_table(posterior, spec, current)
    predictive = predictive_check(posterior, spec, targets, scenarios, run.holdout_seeds, current,
                                  draws=settings.draws, master=settings.master_seed,
                                  executor=executor, progress=progress)  # fmt: skip
    wall_s = time.perf_counter() - started
    manifest = write_abc_folder(out, run, spec, settings, posterior, table, predictive, wall_s)
    return AbcResult(run, posterior, table, predictive, manifest, wall_s)
