"""Run the benchmarks: ``python -m benchmarks [--quick] [--out FILE.json]``.

Measures, side by side in one run on this machine (see ``docs/performance.md``):

1. firm-population step throughput against a Mesa-idiomatic reference and Mesa's BoltzmannWealth
   example, and peak memory of a million-firm run (:mod:`benchmarks.bench_population`);
2. a full history-scenario run and where its time goes (:mod:`benchmarks.bench_run`);
3. and 4. batch throughput and peak memory of batches (:mod:`benchmarks.bench_batch`);
5. the speed goals of issue 16 as ratios (:mod:`benchmarks.bench_goals`), summed up in one
   table with the population table's whole-model month against BoltzmannWealth.

Prints the tables and writes everything as JSON. BLAS is limited to one thread (unless
``OPENBLAS_NUM_THREADS`` is set) so that every number is for one core.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.common import ADDED_BLAS, BLAS_VARIABLES, ROOT
from benchmarks.markdown import rate, ratio, si

log = logging.getLogger("benchmarks")


def population_table(pop: dict[str, Any]) -> Table:
    """Return the population throughput table."""
    table = Table(title="1. Firm-population month: agent-steps per second (one core)")
    columns = ("firms", "vectorized", "reference", "Boltzmann", "model", "vec/ref", "vec/Boltz",
               "model/ref", "model/Boltz")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right")
    for row in pop["rows"]:
        approx = row.get("extrapolated", False)
        table.add_row(
            f"{row['firms']:,}",
            si(rate(row, "vectorized")),
            si(rate(row, "reference")),
            si(rate(row, "boltzmann")),
            si(rate(row, "model")),
            ratio(row.get("ratio_vs_reference"), approx),
            ratio(row.get("ratio_vs_boltzmann"), approx),
            ratio(row.get("model_ratio_vs_reference"), approx),
            ratio(row.get("model_ratio_vs_boltzmann"), approx),
        )
    table.caption = (
        "vectorized: the model's firm rules on arrays; reference: one Mesa agent per firm, same "
        "rules; Boltzmann: Mesa's BoltzmannWealth example; model: a whole PolicyModel month. "
        f"Reference and Boltzmann measured up to {pop['reference_cap']:,} firms; "
        "~ marks ratios against their rate at that cap."
    )
    return table


def targets_table(pop: dict[str, Any]) -> Table:
    """Return the targets table."""
    table = Table(title="Targets")
    for col in ("target", "measured", "met"):
        table.add_column(col)
    target, mem = pop["target"], pop["memory"]
    table.add_row(f">= {target['ratio']:.0f}x the reference at {target['firms']:,} firms",
                  ratio(target["measured"]), "yes" if target["met"] else "NO")  # fmt: skip
    table.add_row(
        f"{mem['firms']:,} firms run ({mem['months']} months) within {mem['limit_mb']:.0f} MB",
        f"{mem['peak_mb']:.0f} MB peak RSS ({mem['imports_mb']:.0f} MB after imports), "
        f"{mem['wall_s']:.1f} s",
        "yes" if mem["met"] else "NO",
    )
    return table


def run_tables(run: dict[str, Any]) -> list[Table]:
    """Return the full-run timing, phase and package tables."""
    head = Table(title=f"2. Full run: {run['scenario']}, {run['months']} months, "
                 f"{run['named_firms']} named + {run['synthetic_firms']} synthetic firms "
                 f"(best of {run['runs']})")  # fmt: skip
    for col in ("run_scenario", "write_run", "write_run (wall)", "per month", "writing share"):
        head.add_column(col, justify="right")
    head.add_row(f"{run['run_s']['best'] * 1e3:.0f} ms", f"{run['write_s']['best'] * 1e3:.0f} ms",
                 f"{run['write_wall_s']['best'] * 1e3:.0f} ms", f"{run['month_ms']:.2f} ms",
                 f"{run['write_share']:.0%}")  # fmt: skip
    head.caption = "CPU time unless marked wall; writing share = write / (run + write)"
    phases = Table(title="Where a run's time goes (phase profile)")
    for col in ("phase", "ms per run", "share"):
        phases.add_column(col, justify="right" if col != "phase" else "left")
    for p in run["phases"]:
        phases.add_row(p["phase"], f"{p['ms_per_run']:.1f}", f"{p['share']:.1%}")
    phases.caption = (
        f"CPU time; instrumented / plain run time: {run['instrumentation_overhead']:.2f}"
    )
    packages = Table(title="Where a run's time goes (cProfile own time by package)")
    for col in ("package", "ms per run", "share"):
        packages.add_column(col, justify="right" if col != "package" else "left")
    for p in run["packages"]:
        packages.add_row(p["package"], f"{p['ms_per_run']:.1f}", f"{p['share']:.1%}")
    packages.caption = (
        f"CPU time under cProfile, {run['cprofile_overhead']:.1f}x a plain run: "
        "call-heavy code is inflated"
    )
    return [head, phases, packages]


def generic_tables(title: str, data: Any) -> list[Table]:
    """Render a benchmark's JSON result: flat values in one table, lists of records as tables."""
    tables: list[Table] = []
    if not isinstance(data, dict):
        table = Table(title=title)
        table.add_column("result")
        table.add_row(str(data))
        return [table]
    flat = Table(title=title)
    flat.add_column("measure")
    flat.add_column("value", justify="right")
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            sub = Table(title=f"{title}: {key}")
            cols = list(dict.fromkeys(k for v in value for k in v))
            for col in cols:
                sub.add_column(str(col), justify="right")
            for v in value:
                sub.add_row(*(_cell(v.get(c)) for c in cols))
            tables.append(sub)
        elif isinstance(value, dict):
            tables.extend(generic_tables(f"{title}: {key}", value))
        else:
            flat.add_row(str(key), _cell(value))
    return [flat, *tables] if flat.row_count else tables


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _batch(quick: bool) -> dict[str, Any]:
    try:
        from benchmarks import bench_batch
    except ImportError as exc:
        return {"status": "pending", "reason": f"benchmarks.bench_batch not available ({exc})"}
    try:
        result: dict[str, Any] = bench_batch.run(quick=quick)
    except Exception as exc:  # report the failure and go on with the other parts
        log.exception("batch benchmark failed")
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    return result


def measure_parts(
    parts: list[tuple[str, Callable[[], Any]]], skip: list[str], console: Console
) -> dict[str, Any]:
    """Measure each part not in ``skip``, in order, saying on ``console`` which one runs.

    A printed line, not a spinner: a spinner refreshes from a thread of its own, whose CPU time
    would count in what is measured, and a process running another thread starts a pool's
    workers from a worker server instead of forking them
    (:func:`sim.experiments.pool_start.process_context`), so the batches would measure a start
    that a script or ``sim batch`` does not use.
    """
    out: dict[str, Any] = {}
    for part, measure in parts:
        if part not in skip:
            console.print(f"measuring {part} ...")
            out[part] = measure()
            log.info("%s measured", part)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the tables and write the JSON; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run the policysim benchmarks."
    )
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON file to write (default results/benchmarks/benchmarks.json)",
    )
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="also print the tables as Markdown (for docs/performance.md)",
    )
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["population", "run", "batch", "goals"],
                        help="parts to leave out")  # fmt: skip
    args = parser.parse_args(argv)
    ADDED_BLAS.update(var for var in BLAS_VARIABLES if var not in os.environ)
    for var in BLAS_VARIABLES:
        os.environ.setdefault(var, "1")
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    name = "benchmarks-quick.json" if args.quick else "benchmarks.json"
    out: Path = args.out or ROOT / "results" / "benchmarks" / name

    from benchmarks import bench_population, bench_run, common
    from sim.results.store import ensure_writable_dir, write_json

    ensure_writable_dir(out.parent)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "policysim", "quick": args.quick,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": common.machine(),
    }  # fmt: skip
    # Batches first: their memory figures come from child processes, which should start from a
    # parent that has not yet held million-firm populations.
    from benchmarks import bench_goals

    parts = [("batch", lambda: _batch(args.quick)),
             ("goals", lambda: bench_goals.run(quick=args.quick)),
             ("population", lambda: bench_population.run(quick=args.quick)),
             ("run", lambda: bench_run.run(quick=args.quick))]  # fmt: skip
    report.update(measure_parts(parts, args.skip, console))
    console.print(generic_tables("Machine", report["machine"])[0])
    if "population" in report:
        console.print(population_table(report["population"]))
        console.print(targets_table(report["population"]))
    if "run" in report:
        for table in run_tables(report["run"]):
            console.print(table)
    if "batch" in report:
        for table in generic_tables("3-4. Batches", report["batch"]):
            console.print(table)
    if "goals" in report:
        from benchmarks.markdown import goal_rows

        table = Table(title="Goals (issue 16), ratios measured in this run")
        for col in ("goal", "measured", "target", "met"):
            table.add_column(col)
        for row in goal_rows(report):
            table.add_row(*row)
        console.print(table)
    if args.markdown:
        from benchmarks import markdown

        console.print(markdown.report(report), markup=False, highlight=False, soft_wrap=True)
    report["wall_s"] = time.perf_counter() - started
    report["machine"]["load_average_after"] = common.load_average()
    write_json(out, report)
    console.print(f"wrote {out} ({report['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
