"""``sim validate`` and ``sim analyze``: is the model credible, and why.

Exit codes: 0 on success; 1 when ``sim validate`` finds a target under its pass threshold; 2 on
bad input; 130 when interrupted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.common import console, err_console, handle_errors, progress_bar
from sim.model.units import format_usd

if TYPE_CHECKING:
    from sim.analysis.sensitivity import SensitivityReport
    from sim.analysis.validation import ValidationReport

Workers = Annotated[
    int | None,
    typer.Option(help="Worker processes (1 runs in this process) [default: CPU cores].", min=1),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar; tables only.")]
TargetsFile = Annotated[
    Path | None, typer.Option("--targets", help="Targets file [default: sim/data/targets.yaml].")
]


def _fmt(value: float) -> str:
    """Format a number compactly for tables."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1e9:
        return format_usd(value)
    return f"{value:.4g}"


def _short(text: str) -> str:
    """Return the first clause of ``text`` (before any parenthesis), markup escaped."""
    return escape(text.split(" (")[0])


def _month(decimal_year: float) -> str:
    """Return a decimal year (2021.083) as ``YYYY-MM`` text."""
    if not math.isfinite(decimal_year):
        return "-"
    months = int(round(decimal_year * 12))
    return f"{months // 12}-{months % 12 + 1:02d}"


WIDE_TABLE = 120
"""Terminal columns from which the validation table also shows each target's fact and check."""


def validation_table(report: ValidationReport, width: int = WIDE_TABLE) -> Table:
    """Build the table of pass rates per target, with each target's first check when it fits.

    Cells wrap at spaces rather than being cut (target names never wrap); in a terminal
    narrower than :data:`WIDE_TABLE` columns the fact number and the first check are left out,
    so the rest fits 80 columns.
    """
    from sim.analysis.target_checks import describe_check
    from sim.analysis.targets import DateCheck

    wide = width >= WIDE_TABLE
    table = Table(title=f"Validation: {report.targets.scenario}, {len(report.seeds)} seeds, "
                        f"threshold {report.threshold:.0%}")  # fmt: skip
    columns = [("target", "left"), ("fact", "right"), ("pass rate", "right"),
               ("95% CI", "right"), ("median", "right"), ("observed", "right"),
               ("first check", "left")]  # fmt: skip
    for name, justify in columns:
        if wide or name not in ("fact", "first check"):
            table.add_column(name, justify=justify, no_wrap=name == "target")  # type: ignore[arg-type]
    for _, r in report.pass_rates().iterrows():
        target = report.targets.targets[r["target"]]
        first = target.checks[0]
        median = float(r["value_median"])
        shown = _month(median) if isinstance(first, DateCheck) else _fmt(median)
        observed = r["observed"]
        check = escape(describe_check(first) + (f" (+{len(target.checks) - 1})"
                                                if len(target.checks) > 1 else ""))  # fmt: skip
        seen = _fmt(observed) if isinstance(observed, float) else _short(str(observed))
        cells = [r["target"], str(r["fact"]), f"{r['pass_rate']:.0%}",
                 f"{r['ci_low']:.0%}-{r['ci_high']:.0%}", shown, seen, check]  # fmt: skip
        if not wide:
            cells = [c for i, c in enumerate(cells) if i not in (1, 6)]
        table.add_row(*cells, style=None if r["ok"] else "bold red")
    return table


def pass_rate_line(report: ValidationReport) -> str:
    """Say how often each target, and every target together, was met.

    Both are true at once: each target alone passes on at least the lowest per-target rate of
    seeds, and all targets pass together on fewer seeds.
    """
    rates = report.pass_rates()
    if rates.empty:
        return "no targets checked"
    lowest = rates.sort_values("pass_rate", kind="stable").iloc[0]
    together = report.all_targets_rate
    return (f"each target met on at least {lowest['pass_rate']:.0%} of seeds (lowest: "
            f"{lowest['target']}); every target together on {together:.0%}")  # fmt: skip


@handle_errors
def validate_cmd(
    seeds: Annotated[int, typer.Option(help="Seeds (replicates) to run.", min=1)] = 100,
    seed: Annotated[
        int, typer.Option(help="Master seed; the seeds are spawned from it.", min=0)
    ] = 0,
    workers: Workers = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Pass rate each target needs [default: the targets file's, 0.9].", min=0.0, max=1.0
        ),
    ] = None,  # fmt: skip
    targets: TargetsFile = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field of every scenario: PATH=VALUE (repeatable)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/validation"),
    quiet: Quiet = False,
) -> None:
    """Check the model against the stylized facts of the record, over many seeds.

    Reads the targets of sim/data/targets.yaml (or --targets), runs the history scenario and the
    baseline with the same seeds, checks every target on each seed, prints the pass rate per
    target and writes validation.json, checks.parquet and validation.png. Exits 1 when a
    target's pass rate is under the threshold.
    """
    from sim.analysis.targets import load_targets
    from sim.analysis.validation import resolve_scenarios, run_validation, write_validation
    from sim.experiments.executors import make_executor
    from sim.experiments.seeds import spawn_seeds
    from sim.plots.validation import plot_validation
    from sim.results.store import ensure_writable_dir

    tg = load_targets(targets)
    scenarios = resolve_scenarios(tg, set_ or [])
    ensure_writable_dir(out)  # a bad output path is refused before any run
    seed_list = spawn_seeds(seed, seeds)
    with make_executor(None, workers) as ex, progress_bar(seeds, "validate", quiet) as advance:
        report = run_validation(tg, seed_list, threshold=threshold, executor=ex,
                                progress=advance, scenarios=scenarios)  # fmt: skip
    report.meta.update({"master_seed": seed, "overrides": list(set_ or []),
                        "targets_file": str(targets or "sim/data/targets.yaml")})  # fmt: skip
    path = write_validation(report, out)
    plot_validation(report, out)
    console.print(validation_table(report, console.width))
    console.print(pass_rate_line(report) + f"; written to {path.parent}", markup=False,
                  highlight=False)  # fmt: skip
    if not report.passed:
        err_console.print(f"error: under the {report.threshold:.0%} threshold: "
                          f"{', '.join(report.failing)}", markup=False)  # fmt: skip
        raise typer.Exit(1)


def sensitivity_tables(report: SensitivityReport) -> list[Table]:
    """Build one table per outcome: the indices per parameter, and the seed-noise share."""
    tables = []
    for o in report.outcomes:
        n = o.noise
        title = (f"{report.method.capitalize()} indices of {o.outcome} ({report.scenario}); "
                 f"seed noise {n.seed_noise_share:.0%} of run variance, "
                 f"{n.noise_in_means_share:.0%} of point-mean variance")  # fmt: skip
        table = Table(title=title)
        table.add_column("parameter")
        cols = [c for c in o.indices.columns if c != "parameter"]
        for c in cols:
            table.add_column(c, justify="right")
        key = "ST" if report.method == "sobol" else "mu_star"
        for _, r in o.indices.sort_values(key, ascending=False).iterrows():
            table.add_row(str(r["parameter"]), *[_fmt(float(r[c])) for c in cols])
        tables.append(table)
    return tables


@handle_errors
def analyze_cmd(
    folder: Annotated[Path, typer.Argument(help="A sweep folder with a sobol or morris design.")],
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            "--outcome",
            "-o",
            help="Outcome to analyse (repeatable) [default: the sweep file's outcomes].",
        ),
    ] = None,  # fmt: skip
    scenario: Annotated[
        str | None, typer.Option(help="Scenario to analyse when the sweep holds several.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap intervals.", min=1)] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: the sweep folder].")
    ] = None,
) -> None:
    """Sobol or Morris sensitivity indices of a sweep's outcomes, replicates averaged.

    Writes sensitivity.csv and sensitivity.json into the sweep folder (or --out) and prints one
    table per outcome with the share of its variance due to seed noise.
    """
    from sim.analysis.sensitivity import analyze_sweep, write_sensitivity

    report = analyze_sweep(folder, outcome, scenario=scenario, seed=seed)
    csv_path, _ = write_sensitivity(report, out or folder)
    for table in sensitivity_tables(report):
        console.print(table)
    console.print(f"{report.n_points} points x {report.replicates} replicates; written to "
                  f"{csv_path.parent}", markup=False, highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``sim validate`` and ``sim analyze`` to the CLI."""
    app.command("validate")(validate_cmd)
    app.command("analyze")(analyze_cmd)
