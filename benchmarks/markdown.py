"""Benchmark results as Markdown tables, for ``docs/performance.md``.

``python -m benchmarks --markdown`` prints these after the terminal tables; the same functions
render a saved JSON report: ``python -m benchmarks.markdown results/benchmarks/benchmarks.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def si(x: float | None) -> str:
    """Return ``x`` with a k/M/G suffix and three significant digits."""
    if x is None:
        return "-"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g}{suffix}"
    return f"{x:.3g}"


def ratio(x: float | None, approx: bool = False) -> str:
    """Return a ratio as ``123x`` (``~`` in front when ``approx``)."""
    if x is None:
        return "-"
    mark = "~" if approx else ""
    return f"{mark}{x:,.0f}x" if x >= 10 else f"{mark}{x:.2g}x"


def rate(row: dict[str, Any], key: str) -> float | None:
    """Return the agent-steps rate of implementation ``key`` in a population row."""
    value = row.get(key)
    return value["agent_steps_per_s"] if isinstance(value, dict) else None


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Return a Markdown table; the first ``left`` columns are left-aligned, the rest right."""
    align = ["---"] * min(left, len(header)) + ["---:"] * max(len(header) - left, 0)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def population(pop: dict[str, Any]) -> str:
    """Return the population throughput table and the targets as Markdown."""
    rows = []
    for r in pop["rows"]:
        approx = r.get("extrapolated", False)
        rows.append([
            f"{r['firms']:,}", si(rate(r, "vectorized")), si(rate(r, "reference")),
            si(rate(r, "boltzmann")), si(rate(r, "model")),
            ratio(r.get("ratio_vs_reference"), approx),
            ratio(r.get("ratio_vs_boltzmann"), approx),
            ratio(r.get("model_ratio_vs_reference"), approx),
            ratio(r.get("model_ratio_vs_boltzmann"), approx),
        ])  # fmt: skip
    header = ["firms", "vectorized", "reference", "Boltzmann", "model", "vectorized / reference",
              "vectorized / Boltzmann", "model / reference", "model / Boltzmann"]  # fmt: skip
    target, mem = pop["target"], pop["memory"]
    targets = _table(
        ["target", "measured", "met"],
        [
            [f">= {target['ratio']:.0f}x the reference at {target['firms']:,} firms",
             ratio(target["measured"]), "yes" if target["met"] else "no"],
            [f"{mem['firms']:,} firms, {mem['months']} months, within {mem['limit_mb']:.0f} MB",
             f"{mem['peak_mb']:.0f} MB peak RSS ({mem['imports_mb']:.0f} MB after imports)",
             "yes" if mem["met"] else "no"],
        ],
        left=3,
    )  # fmt: skip
    return _table(header, rows) + "\n\n" + targets


def run(result: dict[str, Any]) -> str:
    """Return the full-run timings and its phase profile as Markdown."""
    head = _table(
        ["run_scenario", "write_run", "write_run (wall-clock)", "per month (median)",
         "writing / (run + write)"],
        [[f"{result['run_s']['best'] * 1e3:.0f} ms", f"{result['write_s']['best'] * 1e3:.0f} ms",
          f"{result['write_wall_s']['best'] * 1e3:.0f} ms", f"{result['month_ms']:.2f} ms",
          f"{result['write_share']:.0%}"]],
        left=0,
    )  # fmt: skip
    phases = _table(
        ["phase", "ms per run", "share"],
        [[p["phase"], f"{p['ms_per_run']:.1f}", f"{p['share']:.1%}"] for p in result["phases"]],
    )
    packages = _table(
        ["package (cProfile own time)", "ms per run", "share"],
        [[p["package"], f"{p['ms_per_run']:.1f}", f"{p['share']:.1%}"] for p in result["packages"]],
    )
    return "\n\n".join([head, phases, packages])


def goal_rows(data: dict[str, Any]) -> list[list[str]]:
    """Return one row per speed goal: goal, measured ratio, target, met."""
    rows: list[list[str]] = []
    g = data.get("goals", {})

    def met(flag: bool) -> str:
        return "yes" if flag else "no"

    if "batch_vs_boltzmann" in g:
        b = g["batch_vs_boltzmann"]
        rows.append([f"1. serial history batch / mesa.batch_run BoltzmannWealth, runs/s "
                     f"({b['runs']} runs each)", f"{b['ratio']:.2f}x "
                     f"({b['policysim_runs_per_s']:.1f} vs {b['boltzmann_runs_per_s']:.1f}; "
                     f"first round {b.get('policysim_first_round_runs_per_s', float('nan')):.1f})",
                     f">= {b['target']:.0f}x", met(b["met"])])  # fmt: skip
    at = next((r for r in data.get("population", {}).get("rows", []) if r["firms"] == 10_000
               and "model_ratio_vs_boltzmann" in r), None)  # fmt: skip
    if at is not None:
        r = at["model_ratio_vs_boltzmann"]
        numpy_calls = data["population"].get("transcendentals", {})
        share = numpy_calls.get("share_of_model_month")
        note = "" if share is None else f" (NumPy's power, exp, expm1: {share:.0%} of the month)"
        rows.append(["2a. model month / BoltzmannWealth, agent-steps/s, 10,000",
                     f"{r:.0f}x{note}", ">= 100x", met(r >= 100)])  # fmt: skip
    if "million_firms" in g:
        m = g["million_firms"]
        rows.append([f"2b. model month at 1,000,000 firms / memory-bandwidth limit "
                     f"({m['bandwidth_gb_s']:.1f} GB/s, {m['state_bytes_per_firm']:.0f} B/firm)",
                     f"{m['share_of_limit']:.1%}", f">= {m['target']:.0%}",
                     met(m["met"])])  # fmt: skip
    if "parallel" in g:
        p = g["parallel"]
        rows.append([f"3. 2 processes / serial, {p['runs']} runs, pool start included",
                     f"{p['speedup']:.2f}x ({p['share_of_ceiling']:.0%} of the ceiling "
                     f"{p['machine_ceiling']:.2f}x)", str(p["target"]), met(p["met"])])  # fmt: skip
    if "memory" in g:
        m = g["memory"]
        small, big = (r["runs"] for r in m["rows"])
        rows.append([f"4. peak RSS, {big:,} runs / {small:,} runs", f"{m['peak_ratio']:.3f}",
                     f"<= {m['target']}", met(m["met"])])  # fmt: skip
    return rows


def machine(m: dict[str, Any]) -> str:
    """Return one line describing the machine: CPU, cores, NumPy's SIMD targets, load."""
    cpu = m.get("cpu", "unknown CPU")
    if m.get("cpu_id"):
        cpu += f" ({m['cpu_id']})"
    parts = [f"Machine: {cpu}, {m.get('cores')} cores"]
    if m.get("numpy_simd"):
        parts.append(f"NumPy's SIMD targets: {m['numpy_simd']}")
    if m.get("load_average"):
        parts.append(f"load average {m['load_average']}")
    return "; ".join(parts) + "."


def report(data: dict[str, Any]) -> str:
    """Return the Markdown of every part present in a benchmark report."""
    parts = []
    if "machine" in data:
        parts.append(machine(data["machine"]))
    if "goals" in data:
        parts.append(_table(["goal", "measured", "target", "met"], goal_rows(data), left=1))
    if "population" in data:
        parts.append(population(data["population"]))
    if "run" in data:
        parts.append(run(data["run"]))
    return "\n\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(report(json.loads(Path(sys.argv[1]).read_text())) + "\n")
