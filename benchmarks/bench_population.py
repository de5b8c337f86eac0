"""Firm-population step throughput, against a Mesa-idiomatic reference and Mesa's Boltzmann model.

For each population size (firms in total: the scenario's named firms plus a synthetic tail), in
one process on one core, this measures agent-steps per second of:

* ``vectorized``: one firm month of the model's own rules on :class:`FirmPopulation` arrays
  (:func:`benchmarks.reference_firms.vectorized_month`);
* ``reference``: the same month with one Mesa agent per firm and a Python ``step()`` each
  (:class:`benchmarks.reference_firms.ReferenceFirmModel`), the yardstick;
* ``boltzmann``: Mesa's own BoltzmannWealth example with as many agents as firms (on a grid with
  one cell per agent), a yardstick common to Mesa models;
* ``model``: a whole :class:`sim.model.policy_model.PolicyModel` month (regulators, funds, cities,
  firms, investors, metrics) at that population, for context.

The reference and BoltzmannWealth are capped (100k firms in the full run, 10k with ``--quick``):
above the cap the table shows the ratio against their rate at the cap, marked as extrapolated
(the reference gets slower per agent as it grows, so these ratios understate the gain). Peak
memory of a whole run with a million firms is measured in a fresh process (``VmHWM`` on Linux,
else ``resource.getrusage``).
"""

from __future__ import annotations

import copy
import gc
import logging
import math
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.common import compare_steps, peak_rss_mb, run_child, timed

log = logging.getLogger(__name__)

SCENARIO = "history_2020_2025"
SIZES = (100, 1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (100, 1_000, 10_000)
REFERENCE_CAP = 100_000
QUICK_REFERENCE_CAP = 10_000
TARGET_RATIO = 100.0
TARGET_RATIO_AT = 10_000
MEMORY_FIRMS = 1_000_000
MEMORY_LIMIT_MB = 2048.0

_PROBE = "from benchmarks.bench_population import memory_probe; memory_probe()"


def memory_probe() -> None:
    """Child process: run a scenario with a large synthetic tail and print its peak RSS as JSON.

    Reads ``n_synthetic_firms``, ``months`` and the scenario name from ``sys.argv[1:4]``.
    """
    import json
    import time

    from sim import load_scenario, run_scenario

    n, months, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    before = peak_rss_mb()
    scenario = load_scenario(name, [f"n_synthetic_firms={n}", f"months={months}"])
    t0 = time.perf_counter()
    result = run_scenario(scenario, 0)
    wall = time.perf_counter() - t0
    n_firms = len(scenario.firms) + n
    out = {"firms": n_firms, "months": months, "scenario": name, "imports_mb": before,
           "peak_mb": peak_rss_mb(), "wall_s": wall, "rows": len(result.timeseries)}  # fmt: skip
    sys.stdout.write(json.dumps(out) + "\n")  # the child's only output, read by the parent


def _population_model(n_firms: int) -> Any:
    from sim.model.policy_model import PolicyModel
    from sim.scenario.loader import load_scenario

    named = len(load_scenario(SCENARIO).firms)
    scenario = load_scenario(SCENARIO, [f"n_synthetic_firms={max(n_firms - named, 0)}"])
    return PolicyModel(scenario=scenario, rng=0)


def measure_size(n_firms: int, *, reference: bool, rounds: int) -> dict[str, Any]:
    """Measure every implementation at one population size.

    Args:
        n_firms: Firms in total (named plus synthetic).
        reference: Also measure the reference and BoltzmannWealth (they are slow at large sizes).
        rounds: Interleaved timing rounds (the best counts).

    Returns:
        Throughputs (agent-steps per second) and construction times, per implementation.
    """
    from benchmarks.reference_firms import MonthInputs, ReferenceFirmModel, vectorized_month

    model, build_s = timed(lambda: _population_model(n_firms))
    params = model.params
    inputs = MonthInputs.from_model(model)
    pop = copy.deepcopy(model.firms)
    row: dict[str, Any] = {"firms": pop.n, "model_build_s": build_s}
    steps: dict[str, Callable[[], object]] = {
        "vectorized": lambda: vectorized_month(pop, inputs, params.firms, params.chips),
        "model": model.step,
    }
    if reference:
        ref, row["reference_build_s"] = timed(
            lambda: ReferenceFirmModel(
                pop=pop, inputs=inputs, firm_params=params.firms, chip_params=params.chips, rng=0
            )
        )
        steps["reference"] = ref.step
        from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannWealth

        side = math.ceil(math.sqrt(pop.n))
        boltzmann, row["boltzmann_build_s"] = timed(
            lambda: BoltzmannWealth(n=pop.n, width=side, height=side, seed=0)
        )
        steps["boltzmann"] = boltzmann.step
    for name, result in compare_steps(steps, pop.n, rounds=rounds).items():
        row[name] = result.as_dict()
    steps.clear()
    gc.collect()
    log.info("population %d measured", pop.n)
    return row


def _ratios(rows: list[dict[str, Any]]) -> None:
    """Add ratios of the vectorized rate to the yardsticks (extrapolated above the cap)."""
    capped = [r for r in rows if "reference" in r]
    for r in rows:
        vec = r["vectorized"]["agent_steps_per_s"]
        base = r if "reference" in r else (capped[-1] if capped else None)
        r["extrapolated"] = base is not r
        if base is None:
            continue
        r["ratio_vs_reference"] = vec / base["reference"]["agent_steps_per_s"]
        r["ratio_vs_boltzmann"] = vec / base["boltzmann"]["agent_steps_per_s"]
        r["model_ratio_vs_reference"] = (
            r["model"]["agent_steps_per_s"] / base["reference"]["agent_steps_per_s"]
        )
        r["model_ratio_vs_boltzmann"] = (
            r["model"]["agent_steps_per_s"] / base["boltzmann"]["agent_steps_per_s"]
        )


def transcendentals(
    n: int = TARGET_RATIO_AT, *, rounds: int = 7, block_seconds: float = 0.02
) -> dict[str, Any]:
    """Time NumPy's float64 ``power``, ``exp`` and ``expm1`` over ``n`` elements, as in a month.

    A month takes each of them once over every firm (revenue growth's ``np.power(factor, 1/12)``,
    chip demand's ``np.exp``, the investors' ``np.expm1``); they stay NumPy's calls, since a
    compiled version may differ in the last bit (goal 5). With AVX-512, NumPy computes them a
    vector at a time; without it, one element at a time with the C library, several times as
    slowly. Inputs are in the ranges the month gives them; each call writes into a kept array.
    The calls are timed as the population's steps are (:func:`benchmarks.common.compare_steps`).

    Args:
        n: Elements.
        rounds: Timed blocks per function (the best counts).
        block_seconds: Target duration of a block.

    Returns:
        Microseconds per call of each, and their total.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    out = np.empty(n)
    calls: dict[str, Callable[[], object]] = {}
    # The ranges a history month at 10,000 firms gives them.
    factor = rng.uniform(1.01, 1.08, n)  # max(1 + annual growth, 0.05)
    logit = rng.uniform(-3.0, 2.6, n)  # -z of the chip choice
    exponent = rng.uniform(-4.9, -4.0, n)  # -spread * horizon of the annuity factor
    calls["power_us"] = lambda: np.power(factor, 1.0 / 12.0, out=out)
    calls["exp_us"] = lambda: np.exp(logit, out=out)
    calls["expm1_us"] = lambda: np.expm1(exponent, out=out)
    timed_calls = compare_steps(calls, n, rounds=rounds, block_seconds=block_seconds)
    best = {name: 1e6 * t.seconds_per_step for name, t in timed_calls.items()}
    return {"elements": n, **best, "total_us": sum(best.values())}


def memory(n_firms: int = MEMORY_FIRMS, months: int = 12) -> dict[str, Any]:
    """Return peak RSS of a whole ``baseline`` run with ``n_firms`` firms, in a fresh process."""
    from sim.scenario.loader import load_scenario

    named = len(load_scenario("baseline").firms)
    out = run_child(_PROBE, str(n_firms - named), str(months), "baseline")
    out["limit_mb"] = MEMORY_LIMIT_MB
    out["met"] = out["peak_mb"] <= MEMORY_LIMIT_MB
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Run the population benchmark.

    Args:
        quick: Sizes up to 10k, reference capped at 10k, shorter timings, a 3-month memory run.

    Returns:
        ``{"rows": [...], "reference_cap": ..., "target": {...}, "memory": {...}}``, JSON-ready.
    """
    sizes = QUICK_SIZES if quick else SIZES
    cap = QUICK_REFERENCE_CAP if quick else REFERENCE_CAP
    rounds = 4 if quick else 7
    mem = memory(months=3 if quick else 12)
    rows = [measure_size(n, reference=n <= cap, rounds=rounds) for n in sizes]
    _ratios(rows)
    at = next((r for r in rows if r["firms"] == TARGET_RATIO_AT), None)
    ratio = at.get("ratio_vs_reference") if at else None
    numpy_calls = transcendentals(rounds=rounds)
    if at is not None:
        month_us = 1e6 * at["firms"] / at["model"]["agent_steps_per_s"]
        numpy_calls["model_month_us"] = month_us
        numpy_calls["share_of_model_month"] = numpy_calls["total_us"] / month_us
    return {
        "scenario": SCENARIO,
        "reference_cap": cap,
        "rows": rows,
        "target": {
            "firms": TARGET_RATIO_AT,
            "ratio": TARGET_RATIO,
            "measured": ratio,
            "met": ratio is not None and ratio >= TARGET_RATIO,
        },
        "memory": mem,
        "transcendentals": numpy_calls,
    }
