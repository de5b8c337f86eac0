"""Pattern-oriented validation: how often the model reproduces each stylized fact of the record.

:func:`run_validation` runs every scenario the targets read (the history scenario, and the baseline
where a fact is a contrast) with the same seeds (common random numbers), checks every target on each
seed's runs (:func:`sim.analysis.target_checks.evaluate`) and gathers the checks into a
:class:`ValidationReport`: per target, the share of seeds that meet it, with a Wilson 95% interval,
against the pass threshold (90% by default). :func:`write_validation` writes ``validation.json`` and
``checks.parquet`` (one row per seed and check); :func:`sim.plots.validation.plot_validation` draws
the pass rates.

Seeds follow the batch convention: ``SeedSequence(master).spawn(n)`` (see
:func:`sim.experiments.seeds.spawn_seeds`): ``--seeds 100`` starts with the 20 seeds of
``--seeds 20``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.analysis.target_checks import describe_check, evaluate
from sim.analysis.targets import TargetSet
from sim.experiments.executors import RunExecutor, SerialExecutor
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario, scenario_hash, with_overrides
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

CHECK_COLUMNS = ("seed", "target", "check", "value", "reference", "text", "passed")


@dataclass(frozen=True)
class SeedTask:
    """One seed's work: run each scenario with ``seed`` and check every target.

    Attributes:
        targets: The targets.
        scenarios: Scenario name to the (possibly overridden) scenario to run.
        seed: The seed, shared by every scenario.
        tag: Any label the caller needs back with the result (e.g. a calibration candidate).
    """

    targets: TargetSet
    scenarios: dict[str, Scenario]
    seed: int
    tag: int = 0


def evaluate_seed(task: SeedTask) -> list[dict[str, Any]]:
    """Run one seed's scenarios and return one row per check (a picklable worker function).

    Args:
        task: What to run.

    Returns:
        Rows with the columns of :data:`CHECK_COLUMNS` (and ``tag``).
    """
    results = {name: run_scenario(sc, task.seed) for name, sc in task.scenarios.items()}
    return [
        {"tag": task.tag, "seed": task.seed, "target": o.target, "check": o.check,
         "value": o.value, "reference": o.reference, "text": o.text, "passed": o.passed}
        for o in evaluate(task.targets, results)
    ]  # fmt: skip


def resolve_scenarios(targets: TargetSet, overrides: Sequence[str] = ()) -> dict[str, Scenario]:
    """Load every scenario the targets read, with ``overrides`` applied to each.

    Args:
        targets: The targets.
        overrides: ``path=value`` overrides (e.g. behavioural parameters) for every scenario.

    Returns:
        Scenario name to the validated scenario.

    Raises:
        ScenarioError: On an unknown scenario or a bad override.
    """
    return {name: load_scenario(name, list(overrides)) for name in targets.scenarios()}


def with_params(scenarios: dict[str, Scenario], overrides: Sequence[str]) -> dict[str, Scenario]:
    """Return the scenarios with ``overrides`` applied to each (for a calibration candidate)."""
    if not overrides:
        return dict(scenarios)
    return {name: with_overrides(sc, overrides) for name, sc in scenarios.items()}


def run_checks(
    tasks: Iterable[SeedTask],
    executor: RunExecutor | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run seed tasks on an executor and return all their check rows, sorted.

    Args:
        tasks: The tasks.
        executor: Where to run them (default: in this process).
        progress: Called with 1 after each finished task.

    Returns:
        One row per task and check (columns ``tag`` and :data:`CHECK_COLUMNS`), sorted by tag,
        seed, target order and check.
    """
    ex = executor or SerialExecutor()
    rows: list[dict[str, Any]] = []
    for _, future in ex.imap_unordered(evaluate_seed, tasks):
        rows += future.result()
        if progress is not None:
            progress(1)
    frame = pd.DataFrame(rows, columns=["tag", *CHECK_COLUMNS])
    order = {name: i for i, name in enumerate(dict.fromkeys(frame["target"]))}
    frame["_order"] = frame["target"].map(order)
    frame = frame.sort_values(["tag", "seed", "_order", "check"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a pass rate ``k / n`` (NaNs when ``n`` is 0)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class ValidationReport:
    """The outcome of a validation: every check on every seed, and pass rates per target.

    Attributes:
        targets: The targets checked.
        seeds: The seeds, in order.
        checks: One row per seed and check (see :data:`CHECK_COLUMNS`).
        threshold: Pass rate each target needs.
        scenario_hashes: Hash of each scenario run.
        meta: What else the report records (master seed, overrides, targets file).
    """

    targets: TargetSet
    seeds: list[int]
    checks: pd.DataFrame
    threshold: float
    scenario_hashes: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def per_seed(self) -> pd.DataFrame:
        """Return whether each target passed on each seed (seeds x targets, booleans)."""
        passed = self.checks.groupby(["seed", "target"], sort=False)["passed"].all()
        table = passed.unstack("target")
        return table.reindex(index=self.seeds, columns=list(self.targets.targets))

    def pass_rates(self) -> pd.DataFrame:
        """Return one row per target: fact, pass rate, Wilson interval, values and verdict."""
        table = self.per_seed()
        n = len(table)
        rows = []
        for name, target in self.targets.targets.items():
            k = int(table[name].sum())
            low, high = wilson_interval(k, n)
            first = self.checks[(self.checks["target"] == name) & (self.checks["check"] == 0)]
            values = first["value"].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            q = np.quantile(finite, [0.05, 0.5, 0.95]) if finite.size else [np.nan] * 3
            rows.append({
                "target": name, "fact": target.fact, "pass_rate": k / n if n else float("nan"),
                "passed": k, "n": n, "ci_low": low, "ci_high": high,
                "value_p05": float(q[0]), "value_median": float(q[1]), "value_p95": float(q[2]),
                "observed": target.observed, "ok": n > 0 and k / n >= self.threshold,
            })  # fmt: skip
        return pd.DataFrame(rows)

    @property
    def all_targets_rate(self) -> float:
        """Share of seeds on which every target passed."""
        table = self.per_seed()
        return float(table.all(axis=1).mean()) if len(table) else float("nan")

    @property
    def failing(self) -> list[str]:
        """Targets whose pass rate is under the threshold."""
        rates = self.pass_rates()
        return list(rates.loc[~rates["ok"], "target"])

    @property
    def passed(self) -> bool:
        """Whether every target meets the threshold."""
        return not self.failing

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (what ``validation.json`` holds)."""
        rates = self.pass_rates().set_index("target")
        targets = []
        for name, target in self.targets.targets.items():
            r = rates.loc[name].to_dict()
            targets.append({
                "name": name, "fact": target.fact, "description": target.description,
                "checks": [describe_check(c) for c in target.checks],
                "observed": target.observed, "tolerance": target.tolerance,
                "source": target.source, "pass_rate": float(r["pass_rate"]),
                "passed": int(r["passed"]), "n": int(r["n"]),
                "ci95": [float(r["ci_low"]), float(r["ci_high"])],
                "value": {"p05": _num(r["value_p05"]), "median": _num(r["value_median"]),
                          "p95": _num(r["value_p95"])},
                "ok": bool(r["ok"]),
            })  # fmt: skip
        return {
            "kind": "validation",
            "passed": self.passed,
            "threshold": self.threshold,
            "n_seeds": len(self.seeds),
            "all_targets_pass_rate": self.all_targets_rate,
            "failing": self.failing,
            "scenarios": self.scenario_hashes,
            **self.meta,
            "seeds": self.seeds,
            "targets": targets,
        }


def _num(value: Any) -> float | None:
    """Return a float for JSON, or None when it is not finite."""
    x = float(value)
    return x if np.isfinite(x) else None


def run_validation(
    targets: TargetSet,
    seeds: Sequence[int],
    *,
    overrides: Sequence[str] = (),
    threshold: float | None = None,
    executor: RunExecutor | None = None,
    progress: Callable[[int], None] | None = None,
    scenarios: dict[str, Scenario] | None = None,
) -> ValidationReport:
    """Check every target on every seed.

    Args:
        targets: The targets (see :func:`sim.analysis.targets.load_targets`).
        seeds: One seed per replicate; every scenario runs with each.
        overrides: ``path=value`` overrides applied to every scenario.
        threshold: Pass rate each target needs (default: the targets file's).
        executor: Where the runs execute (default: in this process).
        progress: Called with 1 after each seed.
        scenarios: Already loaded scenarios (default: load those the targets read).

    Returns:
        The report.
    """
    resolved = scenarios if scenarios is not None else resolve_scenarios(targets)
    resolved = with_params(resolved, overrides)
    tasks = [SeedTask(targets, resolved, int(s)) for s in seeds]
    checks = run_checks(tasks, executor, progress).drop(columns="tag")
    return ValidationReport(
        targets=targets,
        seeds=[int(s) for s in seeds],
        checks=checks,
        threshold=targets.threshold if threshold is None else threshold,
        scenario_hashes={name: scenario_hash(sc) for name, sc in resolved.items()},
        meta={"overrides": list(overrides)},
    )


def write_validation(report: ValidationReport, out: Path) -> Path:
    """Write ``checks.parquet`` and, last, ``validation.json`` into ``out``.

    The pass-rate figure is drawn by :func:`sim.plots.validation.plot_validation`.

    Args:
        report: The report.
        out: The folder (created if needed).

    Returns:
        The path of ``validation.json``.
    """
    from sim.results.store import ensure_writable_dir, provenance, write_json, write_parquet

    ensure_writable_dir(out)
    (out / "validation.json").unlink(missing_ok=True)
    write_parquet(out / "checks.parquet", report.checks)
    target = out / "validation.json"
    write_json(target, {**report.to_dict(), "provenance": provenance()})
    return target
