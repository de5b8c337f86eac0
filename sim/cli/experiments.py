"""``sim batch`` and ``sim sweep``: many runs, one folder, a progress bar and a summary.

Exit codes: 0 when every run succeeded; 1 when some runs failed (after a table of them); 2 on bad
input; 130 when interrupted (run the same command again to finish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sim.cli.common import console, err_console, fail, handle_errors, progress_bar
from sim.model.units import format_usd, format_value

if TYPE_CHECKING:
    from sim.experiments.plan import Plan
    from sim.results.load import Results

Replicates = Annotated[int, typer.Option(help="Runs per scenario (or design point).", min=1)]
Seed = Annotated[int, typer.Option(help="Master seed; per-run seeds are spawned from it.", min=0)]
Workers = Annotated[
    int | None, typer.Option(help="Worker processes [default: the number of CPU cores].", min=1)
]
Executor = Annotated[
    str | None,
    typer.Option(
        help="serial, processes or dask [default: processes; serial when --workers is 1]."
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786."),
]
Out = Annotated[
    Path | None, typer.Option(help="Output folder [default: results/<name>-<timestamp>].")
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume/--no-resume", help="Finish the same batch if the folder (or results/) holds it."
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Replace a different batch in --out instead of refusing.")
]
FailFast = Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed run.")]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar or tables: one summary line.")
]
Set = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field of every scenario: PATH=VALUE (repeatable)."),
]
Months = Annotated[
    int | None, typer.Option(help="Months to simulate (overrides the scenarios).", min=1)
]
Report = Annotated[
    bool, typer.Option("--report", help="Then draw the figures and write the report.")
]


class RateColumn(ProgressColumn):
    """Runs per second."""

    def render(self, task: Task) -> Text:
        """Render the rate."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} runs/s" if speed else "- runs/s", style="progress.data.speed")


class _Bar:
    """A rich progress bar fed by the library's (done, failed, total) callback."""

    def __init__(self, name: str, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()
        self.first: int | None = None
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
        )
        self.task = self.progress.add_task(name, total=None, failed=0)

    def __call__(self, done: int, failed: int, total: int) -> None:
        if self.first is None:  # runs done before this session do not count toward the rate
            self.first = done
            if self.enabled:
                # Started at the first count, once the batch's workers are running: a process
                # with no other thread forks its workers (the bar's refresh thread is one).
                self.progress.start()
            self.progress.reset(self.task, total=total, completed=done, failed=failed)
        else:
            self.progress.update(self.task, completed=done, failed=failed)
        if done >= total:
            # The last count: the bar is complete, and its refresh thread ends here, before the
            # batch leaves its executor (a process without other threads then leaves BLAS's
            # threads stopped after a fork: sim.model.blas).
            self.progress.stop()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def execute(
    plan: Plan,
    *,
    out: Path | None,
    executor: str | None,
    workers: int | None,
    scheduler: str | None,
    resume: bool,
    force: bool,
    fail_fast: bool,
    quiet: bool,
    report: bool,
    finish: Callable[[Results, bool], None] | None = None,
) -> None:
    """Run a plan with a progress bar, then summarize and set the exit code.

    Args:
        plan: A batch, sweep or lever-study plan.
        out: Output folder (see :func:`sim.experiments.execution.run_plan` for this and the
            following options).
        executor: Executor kind.
        workers: Worker processes.
        scheduler: Dask scheduler address.
        resume: Finish the same plan if the folder holds it.
        force: Replace a different batch in ``out``.
        fail_fast: Stop at the first failed run.
        quiet: One summary line instead of the progress bar and tables.
        report: Then draw the figures and write the report.
        finish: Called with the results and ``quiet`` once the runs are done, before the report,
            instead of printing the batch or sweep table (a lever study writes its effects and
            prints its own table).
    """
    from sim.experiments.execution import run_plan

    bar = _Bar(plan.name, enabled=not quiet and console.is_terminal)
    try:
        with bar:
            results = run_plan(
                plan,
                out=out,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                force=force,
                fail_fast=fail_fast,
                progress=bar,
            )
    except KeyboardInterrupt:
        fail("interrupted; the runs finished so far are kept: run the same command to resume", 130)
        return
    elapsed = time.perf_counter() - bar.started
    counts = results.manifest["counts"]
    already = f" ({bar.first} done before)" if bar.first else ""
    line = (
        f"{results.kind} {results.manifest['name']}: {counts['done']}/{counts['total']} runs done"
        f"{already}, {counts['failed']} failed, in {elapsed:.1f} s -> {results.folder}"
    )
    if finish is not None:
        finish(results, quiet)
    elif not quiet:
        console.print(_sweep_table(results) if results.kind == "sweep" else _batch_table(results))
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    if counts["failed"]:
        err_console.print(_failure_table(results))
    if report:
        _report(results.folder, quiet)
    if counts["failed"] or counts["done"] < counts["total"]:
        raise typer.Exit(1)


def _batch_table(results: Results) -> Table:
    """Per scenario: runs, failures and the means of a few outcomes.

    Scenario names never wrap; the headers wrap at spaces, so the table fits 80 columns.
    """
    table = Table(title=f"{results.manifest['name']}: means over replicates")
    for col in (
        "scenario",
        "runs ok",
        "failed",
        "market value, end",
        "loss, peak to trough",
        "fines, total",
    ):
        table.add_column(col, justify="left" if col == "scenario" else "right",
                         no_wrap=col == "scenario")  # fmt: skip
    runs, summary = results.runs, results.summary
    for name in results.manifest["scenarios"]:
        rows = summary[summary["scenario"] == name]
        n_failed = int((runs[runs["scenario"] == name]["status"] != "ok").sum())
        keys = ("final_market_value_usd", "peak_to_trough_loss_usd", "total_fines_value_usd")
        means = [rows[k].mean() if len(rows) else float("nan") for k in keys]
        table.add_row(
            name, str(len(rows)), str(n_failed), *(format_usd(v) if v == v else "-" for v in means)
        )
    return table


def _sweep_table(results: Results) -> Table:
    """Per declared outcome (labelled, in its unit): mean, min and max over the successful runs."""
    from sim.plots.style import metric_infos, outcome_label, outcome_unit

    infos = metric_infos(results.manifest)
    design = results.manifest["design"]
    table = Table(
        title=f"{results.manifest['name']}: {design['kind']} design, "
        f"{design['n_points']} points x {design['replicates']} replicates"
    )
    for col in ("outcome", "mean", "min", "max"):
        table.add_column(col, justify="left" if col == "outcome" else "right")
    for key in design["outcomes"]:
        values = results.summary.get(key)
        ok = values is not None and not values.empty
        stats = [values.mean(), values.min(), values.max()] if ok else []
        unit = outcome_unit(key, infos)
        table.add_row(outcome_label(key), *(format_value(float(v), unit) for v in stats)
                      if stats else ("-",) * 3)  # fmt: skip
    return table


def _failure_table(results: Results, limit: int = 20) -> Table:
    """The failed runs (first ``limit``) with their seeds and errors."""
    failed = results.failed
    table = Table(
        title=f"{len(failed)} failed runs" + (f" (first {limit})" if len(failed) > limit else "")
    )
    for col in ("run_id", "scenario", "replicate", "seed", "error"):
        table.add_column(col)
    for row in failed.head(limit).itertuples():
        table.add_row(
            *(str(getattr(row, c)) for c in ("run_id", "scenario", "replicate", "seed", "error"))
        )
    return table


def _report(folder: Path, quiet: bool) -> None:
    """Draw the figures and write the report of a results folder, with a progress bar."""
    from sim.cli.plotting import figure_progress
    from sim.plots.report import write_report

    with figure_progress(enabled=not quiet and console.is_terminal) as progress:
        path = write_report(folder, progress=progress)
    console.print(f"report written to {path}", markup=False, highlight=False)


@handle_errors
def batch_cmd(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or YAML files.", show_default=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every scenario on the search path.")] = False,
    replicates: Replicates = 10,
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
    posterior: Annotated[
        Path | None,
        typer.Option(help="A `sim calibrate` folder: each replicate's free parameters are drawn "
                          "from its posterior (recorded per run in runs.parquet)."),
    ] = None,  # fmt: skip
) -> None:
    """Run scenarios x replicates (common random numbers) into one results folder.

    With --posterior, replicate k of every scenario runs with the free parameters of one
    posterior particle drawn by weight from the master seed, so the spread of outcomes holds
    parameter uncertainty beside seed noise.
    """
    from sim.experiments.plan import plan_batch

    if bool(scenarios) == all_:
        fail("give scenario names or --all (not both)")
    plan = plan_batch(
        None if all_ else scenarios,
        replicates=replicates,
        seed=seed,
        overrides=set_ or [],
        months=months,
        posterior=posterior,
    )
    execute(
        plan,
        out=out,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        force=force,
        fail_fast=fail_fast,
        quiet=quiet,
        report=report,
    )


@handle_errors
def sweep_cmd(
    sweep: Annotated[str, typer.Argument(help="Sweep file, or a sweep name in scenarios/sweeps/.")],
    replicates: Annotated[
        int | None, typer.Option(help="Runs per design point [default: the file's].", min=1)
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
    detail: Annotated[
        bool,
        typer.Option(
            "--detail/--no-detail",
            help="Keep stakeholder positions and the influence network for replicate 0 of every "
            "design point; --no-detail keeps the time series and summaries only (for large "
            "designs: about a quarter less time a run, a folder about a fifth the size).",
        ),
    ] = True,
) -> None:
    """Run a sweep file's design points x replicates into one results folder."""
    from sim.experiments.plan import plan_sweep

    with progress_bar(None, "checking design points", quiet) as checked:
        plan = plan_sweep(
            sweep, replicates=replicates, seed=seed, overrides=set_ or [], months=months,
            detail=detail, progress=checked,
        )  # fmt: skip
    execute(
        plan,
        out=out,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        force=force,
        fail_fast=fail_fast,
        quiet=quiet,
        report=report,
    )


def register(app: typer.Typer) -> None:
    """Add ``sim batch`` and ``sim sweep`` to the CLI."""
    app.command("batch")(batch_cmd)
    app.command("sweep")(sweep_cmd)
