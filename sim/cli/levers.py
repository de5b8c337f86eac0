"""``sim levers``: a one-at-a-time lever study, its table, its tornado chart and its Parquet file.

Exit codes as for ``sim batch``: 0 when every run succeeded; 1 when some runs failed; 2 on bad
input; 130 when interrupted (run the same command again to finish the study).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from sim.cli.common import console, err_console, handle_errors
from sim.cli.experiments import (
    Executor,
    FailFast,
    Force,
    Months,
    Out,
    Quiet,
    Report,
    Resume,
    Scheduler,
    Seed,
    Set,
    Workers,
    execute,
)
from sim.errors import ResultsError

if TYPE_CHECKING:
    from sim.plots.levers import ChangeRow
    from sim.results.load import Results

VERDICT_STYLES = {"agrees": "green", "opposite": "bold red", "dead": "bold red",
                  "not significant": "yellow"}  # fmt: skip


def lever_table(rows: list[ChangeRow], title: str, caption: str) -> Table:
    """Return the terminal table: each lever's expected outcomes, their changes and verdicts."""
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)  # fmt: skip
    table.add_column("lever", no_wrap=True)
    table.add_column("outcome")
    table.add_column("exp.", no_wrap=True)
    table.add_column("step down", justify="right")
    table.add_column("step up", justify="right")
    table.add_column("verdict")
    for i, r in enumerate(rows):
        first = i == 0 or rows[i - 1].lever != r.lever
        style = VERDICT_STYLES.get(r.verdict)
        lever = f"{escape(r.lever)}\n[dim]{escape(r.step)}[/]" if first else ""
        table.add_row(
            lever, escape(r.outcome), r.expected, escape(r.down), escape(r.up),
            f"[{style}]{r.verdict}[/]" if style else r.verdict,
            end_section=i + 1 < len(rows) and rows[i + 1].lever != r.lever,
        )  # fmt: skip
    return table


def _finish(results: Results, quiet: bool) -> None:
    """Write the study's effects (levers.parquet) and tornado chart; print its table."""
    from sim.analysis.levers import dead_levers, lever_effects, write_effects
    from sim.plots.data import load_batch
    from sim.plots.levers import change_rows
    from sim.plots.plan import plan_figures
    from sim.plots.render import render

    try:
        effects = lever_effects(results)
        parquet = write_effects(effects, results.folder)
        data = load_batch(results.folder)
        (png,), _ = render(data, plan_figures(data))
    except ResultsError as exc:  # e.g. every run of the unmoved scenario failed
        err_console.print(f"no lever table: {exc}", markup=False)
        return
    n = results.manifest["design"]["replicates"]
    if not quiet:
        title = f"{results.manifest['name']}: change from the unmoved scenario"
        caption = f"mean [95% interval] over {n} paired seeds"
        console.print(lever_table(change_rows(effects, data.metrics), title, caption))
        dead = "; ".join(f"{k} ({', '.join(v)})" for k, v in dead_levers(effects).items())
        console.print(f"dead levers (identical on every seed): {dead or 'none'}", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
    console.print(f"lever effects: {parquet}; tornado chart: {png}", markup=False,
                  highlight=False, soft_wrap=True)  # fmt: skip


@handle_errors
def levers_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario name or YAML file.")],
    seeds: Annotated[
        int, typer.Option(help="Paired seeds: runs per lever variant (at least 2).", min=2)
    ] = 10,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="Study this lever only (repeatable) [default: all]."),
    ] = None,
    seed: Seed = 0,
    workers: Workers = None,
    executor: Executor = None,
    scheduler: Scheduler = None,
    out: Out = None,
    resume: Resume = True,
    force: Force = False,
    fail_fast: FailFast = False,
    quiet: Quiet = False,
    set_: Set = None,
    months: Months = None,
    report: Report = False,
) -> None:
    """Move each declared lever down and up on paired seeds; measure the headline outcomes."""
    from sim.experiments.levers import plan_levers

    plan = plan_levers(scenario, seeds=seeds, seed=seed, levers=lever, overrides=set_ or [],
                       months=months)  # fmt: skip
    execute(plan, out=out, executor=executor, workers=workers, scheduler=scheduler,
            resume=resume, force=force, fail_fast=fail_fast, quiet=quiet, report=report,
            finish=_finish)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``sim levers`` to the CLI."""
    app.command("levers")(levers_cmd)
