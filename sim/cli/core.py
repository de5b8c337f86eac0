"""``sim list``, ``sim show`` and ``sim run``: scenarios and single runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sim.cli.common import console, fail, handle_errors
from sim.model.units import format_value


@handle_errors
def list_cmd() -> None:
    """List the scenarios on the search path, one line each with its description.

    A scenario is named by its file, as in sim run and in results; a file that cannot be loaded
    is listed with its error.
    """
    from sim.scenario.loader import list_scenarios

    infos = list_scenarios()
    if not infos:
        fail("no scenarios found on the search path")
    width = max(len(i.name) for i in infos)
    for info in infos:
        about = info.description if info.error is None else f"error: {info.error}"
        sys.stdout.write(f"{info.name:<{width}}  {about}\n")


@handle_errors
def show_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario name or YAML file.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field: PATH=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Print the fully resolved scenario (after extends and overrides) as YAML."""
    from sim.scenario.loader import load_scenario, scenario_hash, scenario_yaml

    sc = load_scenario(scenario, set_ or [])
    sys.stdout.write(f"# sha256: {scenario_hash(sc)}\n")
    sys.stdout.write(scenario_yaml(sc))


def summary_table(summary: dict[str, Any], title: str) -> Table:
    """Build a table of a run summary with the labels and units of the figures and the report."""
    from sim.plots.style import humanize, metric_infos, outcome_label, outcome_unit

    infos = metric_infos()
    table = Table(title=title, show_lines=False)
    table.add_column("outcome")
    table.add_column("value", justify="right", no_wrap=True)
    for key, value in summary.items():
        if hasattr(value, "strftime"):  # a date
            table.add_row(humanize(key), value.strftime("%Y-%m"))
        elif isinstance(value, str):
            table.add_row(humanize(key), value)
        else:
            table.add_row(outcome_label(key), format_value(float(value), outcome_unit(key, infos)))
    return table


@handle_errors
def run_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario name or YAML file.")],
    seed: Annotated[int, typer.Option(help="Random seed (non-negative integer).", min=0)] = 0,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field: PATH=VALUE (repeatable)."),
    ] = None,
    months: Annotated[
        int | None, typer.Option(help="Months to simulate (overrides the scenario).", min=1)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder [default: results/<scenario>/seed-<seed>]."),
    ] = None,
    firms: Annotated[bool, typer.Option("--firms", help="Also write firms.parquet.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Check model invariants every month.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the folder.")] = False,
) -> None:
    """Run one scenario with one seed, print a summary and write results."""
    from sim.model.runner import run_scenario
    from sim.results.run_files import write_run
    from sim.results.store import ensure_writable_dir
    from sim.scenario.loader import load_scenario

    overrides = list(set_ or [])
    if months is not None:
        overrides.append(f"months={months}")
    sc = load_scenario(scenario, overrides)
    folder = out if out is not None else Path("results") / sc.name / f"seed-{seed}"
    ensure_writable_dir(folder)
    result = run_scenario(sc, seed, collect_firms=firms, check=check)
    write_run(result, folder)
    if quiet:
        sys.stdout.write(f"{folder}\n")
        return
    console.print(summary_table(result.summary, f"{sc.name}, seed {seed}, {sc.months} months"))
    sys.stdout.write(f"results written to {folder}\n")


def register(app: typer.Typer) -> None:
    """Add ``sim list``, ``sim show`` and ``sim run`` to the CLI."""
    app.command("list")(list_cmd)
    app.command("show")(show_cmd)
    app.command("run")(run_cmd)
