"""Global sensitivity analysis of a Sobol or Morris sweep folder, with replicates handled.

:func:`analyze_sweep` reads a sweep folder written by ``sim sweep`` (its ``manifest.json`` holds
the design kind and the SALib problem, ``design.parquet`` the points in sampler order,
``runs.parquet`` and ``summary.parquet`` each run's point and outcomes). For each outcome it

1. averages the replicates of each design point (the indices are computed from those means);
2. computes Sobol first-order and total indices with their 95% bootstrap half-widths
   (``SALib.analyze.sobol``) or Morris mu*, its interval and sigma (``SALib.analyze.morris``),
   through :func:`sim.analysis.stats.sobol_indices` and :func:`sim.analysis.stats.morris_indices`,
   the same code the sweep figures use;
3. splits the outcome's variance into the part due to the parameters (between design points) and
   seed noise (within points), as a one-way random-effects model: ``seed_noise_share`` is the
   noise's share of the two, and ``noise_in_means_share`` the share of the variance of the point
   means (what the indices decompose) that is still noise, i.e. within-point variance over the
   replicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import morris_indices, point_means, sobol_indices
from sim.errors import ResultsError
from sim.results.load import Results, load_results
from sim.scenario.fields import suggest_path

METHODS = ("sobol", "morris")


@dataclass(frozen=True)
class SeedNoise:
    """How much of an outcome's variance is seed noise rather than the parameters.

    A one-way random-effects split: ``within_var`` estimates the seed variance at a point and
    ``between_var = max(0, means_var - within_var / replicates)`` the variance the parameters
    cause.

    Attributes:
        total_var: Variance of the outcome over all runs.
        within_var: Mean variance over replicates within a design point (seed noise).
        means_var: Variance of the per-point means.
        between_var: Variance due to the parameters (see above).
        replicates: Mean number of replicates per point.
        seed_noise_share: ``within_var / (within_var + between_var)``, from 0 (no noise) to 1
            (the parameters explain nothing); NaN with one replicate.
        noise_in_means_share: ``within_var / replicates / means_var`` capped at 1: the share of
            the point means' variance (what the indices decompose) that is still noise.
    """

    total_var: float
    within_var: float
    means_var: float
    between_var: float
    replicates: float
    seed_noise_share: float
    noise_in_means_share: float


@dataclass(frozen=True)
class OutcomeSensitivity:
    """The indices of one outcome.

    Attributes:
        outcome: The run-level outcome (a ``summary.parquet`` column).
        indices: One row per parameter (Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``;
            Morris: ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``).
        noise: The seed-noise split of its variance.
        mean: Mean of the outcome over all runs.
    """

    outcome: str
    indices: pd.DataFrame
    noise: SeedNoise
    mean: float


@dataclass
class SensitivityReport:
    """Sensitivity indices of a sweep's outcomes.

    Attributes:
        folder: The sweep folder.
        method: ``sobol`` or ``morris``.
        scenario: The sweep's base scenario.
        problem: The SALib problem (names and bounds).
        n_points: Design points.
        replicates: Replicates per point.
        outcomes: One entry per analysed outcome.
        options: Settings of the analysis (second order, levels, bootstrap seed).
    """

    folder: Path
    method: str
    scenario: str
    problem: dict[str, Any]
    n_points: int
    replicates: int
    outcomes: list[OutcomeSensitivity] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """Return every outcome's indices in one long table (``outcome`` first)."""
        frames = [o.indices.assign(outcome=o.outcome) for o in self.outcomes]
        table = pd.concat(frames, ignore_index=True)
        return table[["outcome", *[c for c in table.columns if c != "outcome"]]]

    def noise_table(self) -> pd.DataFrame:
        """Return the seed-noise split, one row per outcome."""
        return pd.DataFrame(
            [{"outcome": o.outcome, "mean": o.mean, **o.noise.__dict__} for o in self.outcomes]
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (what ``sensitivity.json`` holds)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float | np.floating):
                return float(value) if math.isfinite(float(value)) else None
            return value

        return {
            "kind": "sensitivity",
            "folder": str(self.folder),
            "method": self.method,
            "scenario": self.scenario,
            "problem": self.problem,
            "n_points": self.n_points,
            "replicates": self.replicates,
            **self.options,
            "outcomes": [
                {
                    "outcome": o.outcome,
                    "mean": clean(o.mean),
                    "noise": {k: clean(v) for k, v in o.noise.__dict__.items()},
                    "indices": [
                        {k: clean(v) for k, v in row.items()}
                        for row in o.indices.to_dict(orient="records")
                    ],
                }  # fmt: skip
                for o in self.outcomes
            ],
        }


def seed_noise(runs: pd.DataFrame, summary: pd.DataFrame, outcome: str) -> SeedNoise:
    """Split an outcome's variance over runs into between-point and within-point (seed) parts.

    Args:
        runs: The sweep's runs (``run_id``, ``point_id``, ``status``).
        summary: Per-run outcomes with ``run_id``.
        outcome: The outcome column.

    Returns:
        The split (variances with ``ddof=1``; the within part pools points with 2+ replicates).
    """
    ok = runs.loc[runs["status"] == "ok", ["run_id", "point_id"]]
    y = ok.merge(summary[["run_id", outcome]], on="run_id", how="inner")
    y = y[np.isfinite(y[outcome].astype(float))]
    groups = y.groupby("point_id")[outcome]
    total = float(y[outcome].var(ddof=1)) if len(y) > 1 else float("nan")
    var = groups.var(ddof=1).dropna()
    within = float(var.mean()) if len(var) else float("nan")
    means_var = float(groups.mean().var(ddof=1)) if groups.ngroups > 1 else float("nan")
    reps = float(groups.size().mean()) if groups.ngroups else float("nan")

    nan = float("nan")
    noise_in_means = within / reps if reps else nan
    between = max(0.0, means_var - noise_in_means) if math.isfinite(means_var) else nan

    def ratio(a: float, b: float) -> float:
        if not (math.isfinite(a) and math.isfinite(b)) or a == b == 0:
            return nan
        return min(1.0, a / b) if b > 0 else 1.0

    return SeedNoise(total, within, means_var, between, reps, ratio(within, within + between),
                     ratio(noise_in_means, means_var))  # fmt: skip


def _second_order(design: dict[str, Any]) -> bool:
    """Whether the Sobol sample holds second-order terms (as recorded in the manifest)."""
    for key in ("calc_second_order", "second_order"):
        if key in design:
            return bool(design[key])
    raw = ((design.get("sweep") or {}).get("design")) or {}
    return bool(raw.get("second_order", False))


def _num_levels(design: dict[str, Any]) -> int:
    """The Morris sample's grid levels (as recorded in the manifest; 4 by default)."""
    raw = ((design.get("sweep") or {}).get("design")) or {}
    return int(design.get("num_levels", raw.get("num_levels", 4)))


def _design_of(res: Results) -> tuple[str, dict[str, Any], dict[str, Any], pd.DataFrame]:
    """Return the method, the manifest's design, the SALib problem and the design table."""
    design = res.manifest.get("design") or {}
    method = str(design.get("kind", "")).lower()
    if res.kind != "sweep" or method not in METHODS:
        raise ResultsError(
            f"{res.folder}: sensitivity indices need a sobol or morris sweep; this folder is a "
            f"{res.kind} with design kind {method or 'none'!r}"
        )
    raw = ((design.get("sweep") or {}).get("design")) or {}
    if method == "sobol" and (design.get("saltelli") is False or raw.get("saltelli") is False):
        raise ResultsError(
            f"{res.folder}: a sobol design drawn without SALib's Saltelli scheme (saltelli: false) "
            "gives no Sobol indices; sweep again with saltelli: true"
        )
    problem = design.get("problem")
    if not isinstance(problem, dict) or "names" not in problem:
        raise ResultsError(f"{res.folder}: manifest.json has no SALib problem in its design")
    table = res.design
    if table is None:
        raise ResultsError(f"{res.folder}: design.parquet is missing")
    return method, design, problem, table


def analyze_sweep(
    folder: str | Path,
    outcomes: Sequence[str] | None = None,
    *,
    scenario: str | None = None,
    seed: int = 1,
) -> SensitivityReport:
    """Compute Sobol or Morris indices of a sweep's outcomes, replicates averaged per point.

    Args:
        folder: A sweep folder written by ``sim sweep`` with a sobol or morris design.
        outcomes: Numeric ``summary.parquet`` columns (default: the sweep file's outcomes).
        scenario: The base scenario to analyse when the folder holds several.
        seed: Seed of SALib's bootstrap (confidence intervals), at least 1: SALib's Sobol
            analysis treats 0 as "no seed" and its intervals would change from run to run.

    Returns:
        The report.

    Raises:
        ResultsError: When the folder is not a complete sobol/morris sweep, an outcome is
            unknown or the seed is below 1.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise ResultsError.about(lambda a: f"{a('seed', seed)}: must be an integer >= 1 (SALib "
                                           "treats 0 as no seed)")  # fmt: skip
    res = load_results(folder)
    method, design, problem, table = _design_of(res)
    scenarios = list(dict.fromkeys(res.runs["scenario"]))
    chosen = scenario or (scenarios[0] if scenarios else "")
    if chosen not in scenarios:
        raise ResultsError.about(
            lambda a: f"{a('scenario', chosen)}: allowed: {', '.join(scenarios)}"
        )
    runs = res.runs.loc[res.runs["scenario"] == chosen]
    names = list(outcomes or design.get("outcomes") or [])
    allowed = [c for c in res.summary.columns if pd.api.types.is_numeric_dtype(res.summary[c])]
    allowed = [c for c in allowed if c not in ("point_id", "replicate", "seed", *problem["names"])]
    if not names:
        raise ResultsError(f"{res.folder}: no outcomes given and none in the manifest's design")
    for name in names:
        if name not in allowed:
            raise ResultsError(
                f"unknown outcome {name!r}{suggest_path(name, allowed)}; allowed: "
                f"{', '.join(allowed)}"
            )
    report = SensitivityReport(
        folder=res.folder, method=method, scenario=chosen, problem=problem,
        n_points=len(table), replicates=int(res.manifest.get("replicates", 0)),
        options={"bootstrap_seed": seed},
    )  # fmt: skip
    second, levels = _second_order(design), _num_levels(design)
    report.options.update({"calc_second_order": second} if method == "sobol"
                          else {"num_levels": levels})  # fmt: skip
    for name in names:
        means = point_means(runs, res.summary, name)
        if method == "sobol":
            idx = sobol_indices(problem, table, means, name, calc_second_order=second, seed=seed)
        else:
            idx = morris_indices(problem, table, means, name, num_levels=levels, seed=seed)
        mean = float(res.summary.loc[res.summary["run_id"].isin(runs["run_id"]), name].mean())
        report.outcomes.append(
            OutcomeSensitivity(name, idx, seed_noise(runs, res.summary, name), mean)
        )
    return report


def write_sensitivity(report: SensitivityReport, out: Path) -> tuple[Path, Path]:
    """Write ``sensitivity.csv`` (the long table of indices) and ``sensitivity.json``.

    Args:
        report: The report.
        out: The folder (created if needed).

    Returns:
        The paths of the CSV and the JSON file.
    """
    from sim.results.store import atomic_path, ensure_writable_dir, provenance, write_json

    ensure_writable_dir(out)
    csv_path = out / "sensitivity.csv"
    with atomic_path(csv_path) as tmp:
        report.table().to_csv(tmp, index=False)
    json_path = out / "sensitivity.json"
    write_json(json_path, {**report.to_dict(), "provenance": provenance()})
    return csv_path, json_path
