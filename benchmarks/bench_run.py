"""One full run of the history scenario and where its time goes.

Measures, for ``history_2020_2025`` with its default population:

* the time of :func:`sim.model.runner.run_scenario` and of
  :func:`sim.results.run_files.write_run` (best and median of several runs; CPU time of the
  process, so that other programs' load does not count,
  with wall-clock time beside it: writing also waits for the disk);
* a phase profile: the benchmark wraps the model's methods (nothing is added to the model) and
  books each call's own CPU time, less that of the wrapped calls inside it, to one phase: building
  the model, the month's phases (timeline, influence, regulators, funds, cities, firms,
  investors, metric collection, the rest of ``step``), assembling the results, writing them;
* a ``cProfile`` view of the same runs grouped by package (``sim.*`` modules, mesa, numpy,
  pandas, ...). ``cProfile`` adds a cost to every Python call, so it inflates call-heavy code
  (the pure-Python JSON encoder, package metadata parsing); the phase profile, with a few dozen
  wrapped calls a month, is the one to read for shares.

Shares of the total are the result; milliseconds are context.
"""

from __future__ import annotations

import cProfile
import functools
import importlib
import pstats
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCENARIO = "history_2020_2025"

#: (phase, "module:Class" or "module", attribute) wrapped by the phase profile, in table order.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("build model", "sim.model.policy_model:PolicyModel", "__init__"),
    ("timeline", "sim.model.policy_model", "apply_event"),
    ("timeline", "sim.model.policy_model:PolicyModel", "_update_signal"),
    ("influence", "sim.model.influence:InfluenceNetwork", "step"),
    ("influence", "sim.model.influence:InfluenceNetwork", "effective_policy"),
    ("regulators", "sim.model.agents.regulators:Regulator", "step"),
    ("funds", "sim.model.agents.funds:Fund", "step"),
    ("funds", "sim.model.agents.funds:GoldenShareFund", "step"),
    ("funds", "sim.model.agents.funds:ChipFund", "step"),
    ("cities", "sim.model.policy_model", "cities_month"),
    ("firms", "sim.model.policy_model", "month_exposure"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "allocate_budget"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "update_compliance"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "update_alignment"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "grow"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "spend"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "buy_compute"),
    ("firms", "sim.model.agents.firms:FirmPopulation", "update_capability"),
    ("investors", "sim.model.policy_model:PolicyModel", "_update_uncertainty"),
    ("investors", "sim.model.agents.funds:Investors", "step"),
    ("metric collection", "mesa.datacollection:DataCollector", "collect"),
    ("step (rest)", "sim.model.policy_model:PolicyModel", "step"),
    ("metric collection", "sim.model.observation:RunRecords", "_record_month"),
    ("results assembly", "sim.model.observation:RunRecords", "timeseries"),
    ("results assembly", "sim.model.observation:RunRecords", "stakeholder_timeseries"),
    ("results assembly", "sim.model.observation:RunRecords", "network_timeseries"),
    ("results assembly", "sim.model.observation:RunRecords", "fines_table"),
    ("results assembly", "sim.model.runner", "summarize"),
    ("results assembly", "sim.model.runner", "scenario_hash"),
    ("run (rest)", "sim.model.runner", "run_scenario"),
    # Wrapped where write_run looks them up (it imports them by name from sim.results.store).
    ("output: Parquet", "sim.results.run_files", "write_parquet"),
    ("output: JSON", "sim.results.run_files", "write_json"),
    ("output: provenance", "sim.results.run_files", "provenance"),
    ("output (rest)", "sim.results.run_files", "write_run"),
)
#: Phases inside a month: timed only while ``PolicyModel.step`` runs.
MONTH_PHASES = frozenset(
    {"timeline", "influence", "regulators", "funds", "cities", "firms", "investors",
     "metric collection"}
)  # fmt: skip


class PhaseProfiler:
    """Books the exclusive time of wrapped calls to phases."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._child: list[float] = []
        self._in_step = 0
        self.missing: list[str] = []

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``fn`` wrapped to book its own time to ``phase``."""
        is_step = fn.__name__ == "step" and phase == "step (rest)"

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if phase in MONTH_PHASES and not self._in_step:
                return fn(*args, **kwargs)
            self._child.append(0.0)
            self._in_step += is_step
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.process_time() - t0
                self._in_step -= is_step
                nested = self._child.pop()
                self.seconds[phase] += elapsed - nested
                if self._child:
                    self._child[-1] += elapsed

        return wrapper

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap every attribute in :data:`PHASES` that exists; restore them on exit."""
        saved: list[tuple[Any, str, Any]] = []
        try:
            for phase, where, attr in PHASES:
                module_name, _, cls_name = where.partition(":")
                owner: Any = importlib.import_module(module_name)
                if cls_name:
                    owner = getattr(owner, cls_name, None)
                original = vars(owner).get(attr) if owner is not None else None
                if original is None:
                    self.missing.append(f"{where}.{attr}")
                    continue
                saved.append((owner, attr, original))
                setattr(owner, attr, self.wrap(phase, original))
            yield
        finally:
            for owner, attr, original in reversed(saved):
                setattr(owner, attr, original)


def _one_run(scenario: Any, seed: int, folder: Path) -> dict[str, float]:
    """Run and write one run; return the CPU and wall-clock seconds of each."""
    from sim.model.runner import run_scenario
    from sim.results import run_files

    w0, c0 = time.perf_counter(), time.process_time()
    result = run_scenario(scenario, seed)
    w1, c1 = time.perf_counter(), time.process_time()
    run_files.write_run(result, folder)
    w2, c2 = time.perf_counter(), time.process_time()
    return {"run_cpu": c1 - c0, "run_wall": w1 - w0, "write_cpu": c2 - c1, "write_wall": w2 - w1}


def _package(filename: str) -> str:
    path = filename.replace("\\", "/")
    if "/sim/" in path and "site-packages" not in path:
        return "sim." + path.rsplit("/sim/", 1)[1].removesuffix(".py").replace("/", ".")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path.startswith("~") or path.startswith("<"):
        return "C functions"
    parts = path.split("/")
    lib = next((i for i, part in enumerate(parts) if part.startswith("python3")), None)
    module = parts[lib + 1] if lib is not None and lib + 1 < len(parts) else parts[-1]
    return "stdlib " + module.removesuffix(".py")


def by_package(profile: cProfile.Profile, runs: int, top: int = 12) -> list[dict[str, Any]]:
    """Group a profile's own (``tottime``) seconds by package; return the largest groups.

    Time in C functions (built-ins, NumPy ufunc methods) is booked to the package that called
    them, in proportion to the time each caller spent in them.
    """
    stats = pstats.Stats(profile)
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        own, callers = row[2], row[4]
        package = _package(filename)
        if package != "C functions" or not callers:
            totals[package] += own
            continue
        for (caller_file, _, _), caller_row in callers.items():
            totals[_package(caller_file)] += caller_row[2]
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": k, "ms_per_run": 1e3 * v / runs, "share": v / whole} for k, v in ranked]


def run(quick: bool = False) -> dict[str, Any]:
    """Run the full-run benchmark.

    Args:
        quick: Fewer runs.

    Returns:
        Timings, the phase profile and the package profile, JSON-ready.
    """
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(SCENARIO)
    runs = 5 if quick else 30
    with tempfile.TemporaryDirectory(prefix="policysim-bench-") as tmp:
        folder = Path(tmp) / "run"
        _one_run(scenario, 0, folder)  # warm-up: imports, caches
        plain = [_one_run(scenario, seed, folder) for seed in range(runs)]
        profiler = PhaseProfiler()
        with profiler.installed():
            instrumented = [_one_run(scenario, seed, folder) for seed in range(runs)]
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        profiled = [_one_run(scenario, seed, folder) for seed in range(runs)]
        profile.disable()

    def stat(key: str) -> dict[str, float]:
        values = [r[key] for r in plain]
        return {"best": min(values), "median": statistics.median(values)}

    run_cpu, write_cpu = stat("run_cpu"), stat("write_cpu")
    booked = sum(profiler.seconds.values()) / runs
    order = list(dict.fromkeys(p for p, _, _ in PHASES))
    phases = [
        {"phase": p, "ms_per_run": 1e3 * profiler.seconds[p] / runs,
         "share": profiler.seconds[p] / runs / booked}
        for p in order if p in profiler.seconds
    ]  # fmt: skip
    plain_total = min(r["run_cpu"] + r["write_cpu"] for r in plain)
    return {
        "scenario": SCENARIO,
        "months": scenario.months,
        "named_firms": len(scenario.firms),
        "synthetic_firms": scenario.n_synthetic_firms,
        "runs": runs,
        "clock": "CPU time of the process (wall-clock in *_wall_s)",
        "run_s": run_cpu,
        "write_s": write_cpu,
        "run_wall_s": stat("run_wall"),
        "write_wall_s": stat("write_wall"),
        "write_share": write_cpu["median"] / (run_cpu["median"] + write_cpu["median"]),
        "month_ms": 1e3 * run_cpu["median"] / scenario.months,
        "phases": phases,
        "instrumentation_overhead": min(r["run_cpu"] + r["write_cpu"] for r in instrumented)
        / plain_total,
        "cprofile_overhead": min(r["run_cpu"] + r["write_cpu"] for r in profiled) / plain_total,
        "unwrapped": profiler.missing,
        "packages": by_package(profile, runs),
    }
