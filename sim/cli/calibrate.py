"""``sim calibrate``: a posterior over the free parameters (ABC-SMC), or a point fit (DE).

Exit codes: 0 on success; 2 on bad input; 130 when interrupted (run the same command again to
resume an ABC-SMC calibration at the generation it was in).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.cli.analysis import Quiet, TargetsFile, Workers
from sim.cli.common import console, err_console, fail, handle_errors, progress_bar

if TYPE_CHECKING:
    from sim.analysis.abc_smc import AbcSettings
    from sim.analysis.calibration import CalibrationResult
    from sim.analysis.posterior import AbcResult

Count = Annotated[int | None, typer.Option(min=1)]


def posterior_table(result: AbcResult) -> Table:
    """Build the table of each parameter's posterior against its prior."""
    table = Table(title="Posterior (weighted particles of the last generation)")
    for name in ("parameter", "prior", "current", "median", "95% interval", "width / prior"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for r in result.table.to_dict("records"):
        table.add_row(r["parameter"], f"[{r['prior_low']:g}, {r['prior_high']:g}]",
                      f"{r['current']:.4g}", f"{r['median']:.4g}",
                      f"{r['q025']:.4g} - {r['q975']:.4g}", f"{r['width_ratio']:.2f}")  # fmt: skip
    return table


def comparison_table(result: AbcResult) -> Table:
    """Build the table of the held-out comparison per target (share of runs meeting it)."""
    draws, seeds = len(result.predictive.particles), len(result.run.holdout_seeds)
    table = Table(title=f"Held-out comparison: {seeds} held-out seeds; posterior: {draws} draws "
                        f"x {seeds} seeds (95% CI)")  # fmt: skip
    for name in ("target", "held out", "posterior", "medians", "current"):
        table.add_column(name, justify="left" if name == "target" else "right")
    for r in result.predictive.table.to_dict("records"):
        cells = [f"{r[f'{a}_rate']:.0%} ({r[f'{a}_low']:.0%}-{r[f'{a}_high']:.0%})"
                 for a in ("posterior", "medians", "current")]  # fmt: skip
        table.add_row(r["target"], "yes" if r["held_out"] else "", *cells,
                      style="red" if r["worse"] else None)  # fmt: skip
    losses = result.predictive.losses
    table.add_row("held-out loss", "", *(f"{losses[a]['all']:.4g}"
                                         for a in ("posterior", "medians", "current")))
    return table


class _GenerationBar:
    """A rich display of the ABC-SMC generations: epsilon and particles evaluated so far."""

    def __init__(self, generations: int, quiet: bool) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=err_console, transient=True,
                                 disable=quiet)  # fmt: skip
        self.generations = generations
        self.quiet = quiet
        self.task = self.progress.add_task("starting", total=generations)
        self.evaluations = 0
        self.checks = 0
        self.total_checks = 0

    def __call__(self, t: int, info: dict[str, Any]) -> None:
        if not info:
            text = f"generation {t + 1}/{self.generations}: sampling"
            self.progress.update(self.task, description=f"{text} ({self.evaluations} evaluated)")
            return
        self.evaluations += info["samples"]
        self.progress.update(self.task, advance=1)
        if not self.quiet:
            err_console.print(f"generation {t + 1}/{self.generations}: epsilon "
                              f"{info['epsilon']:.4g}, {info['samples']} particles evaluated",
                              markup=False, highlight=False)  # fmt: skip


    def checked(self, n: int) -> None:
        """Advance the count of predictive-check seed tasks (the progress callback)."""
        self.checks += n
        self.progress.update(self.task, description=f"predictive check: {self.checks} of "
                                                    f"{self.total_checks} seed tasks")  # fmt: skip


def _settings(quick: bool, population: int | None, generations: int | None, seeds: int | None,
              holdout: int | None, draws: int | None, master: int) -> AbcSettings:  # fmt: skip
    """Return the ABC budget: the default or quick one, with the options given."""
    from dataclasses import replace

    from sim.analysis.abc_smc import QUICK, AbcSettings

    base = QUICK if quick else AbcSettings()
    given = {"population": population, "generations": generations, "fit_seeds": seeds,
             "holdout_seeds": holdout, "draws": draws}  # fmt: skip
    return replace(base, master_seed=master, **{k: v for k, v in given.items() if v is not None})


def _run_abc(spec: Any, tg: Any, settings: AbcSettings, out: Path,
             where: tuple[str | None, int | None, str | None], force: bool, quiet: bool
             ) -> None:  # fmt: skip
    """Run or resume ABC-SMC into ``out`` and print what it found and cost."""
    from dataclasses import asdict

    from sim.analysis.calibration_files import below_default
    from sim.analysis.holdout_comparison import verdict_line
    from sim.analysis.posterior import FOLDER_FILES, calibrate_abc
    from sim.experiments.executors import make_executor
    from sim.plots.calibration import plot_calibration

    if force:
        for name in FOLDER_FILES:
            (out / name).unlink(missing_ok=True)
    bar = _GenerationBar(settings.generations, quiet)
    bar.total_checks = (settings.draws + 2) * settings.holdout_seeds
    with make_executor(*where) as ex, bar.progress:
        result = calibrate_abc(spec, tg, settings, out, executor=ex, on_generation=bar,
                               progress=bar.checked)  # fmt: skip
    figures = plot_calibration(result, tg.threshold, out)
    if not quiet:
        console.print(posterior_table(result))
        console.print(comparison_table(result))
    runs = result.run
    console.print(
        f"model runs: {runs.model_runs + result.predictive.model_runs} ({runs.evaluations} "
        f"particles x {len(runs.fit_seeds)} fit seeds x {len(tg.scenarios())} scenarios = "
        f"{runs.model_runs} for ABC-SMC, {result.predictive.model_runs} for the predictive "
        f"check); {result.wall_s / 60:.1f} min{' (resumed)' if runs.resumed else ''}",
        markup=False, highlight=False)  # fmt: skip
    console.print(f"written to {out} ({', '.join(p.name for p in figures)})", markup=False,
                  highlight=False)  # fmt: skip
    console.print(verdict_line(result.predictive.no_worse, result.predictive.reasons),
                  markup=False, highlight=False)  # fmt: skip
    if not result.predictive.no_worse:
        hint = "the candidate calibration.yaml is in the folder; it will not ship"
    elif below_default(asdict(settings)):
        hint = "a calibration with less than the default budget does not ship"
    else:
        hint = f"ship it with: sim calibrate --ship --out {out}"
    console.print(hint, markup=False, highlight=False)


def calibration_table(result: CalibrationResult) -> Table:
    """Build the table of start and fitted values, and the losses (differential evolution)."""
    table = Table(title="Calibration " + ("accepted" if result.accepted else "not accepted"))
    for name in ("parameter", "path", "bounds", "start", "fitted"):
        table.add_column(name, justify="left" if name in ("parameter", "path") else "right")
    for (name, p), a, b in zip(result.spec.parameters.items(), result.start, result.fitted,
                               strict=True):  # fmt: skip
        table.add_row(name, p.path, f"[{p.bounds[0]:g}, {p.bounds[1]:g}]", f"{a:.4g}", f"{b:.4g}")
    fl, hl = result.fit_loss, result.holdout_loss
    table.add_row("loss (fit seeds)", "", "", f"{fl['start']:.4g}", f"{fl['fitted']:.4g}")
    table.add_row("loss (held out)", "", "", f"{hl['start']:.4g}", f"{hl['fitted']:.4g}")
    rates = {k: r.all_targets_rate for k, r in result.holdout.items()}
    table.add_row("all targets met (held out)", "", "", f"{rates['start']:.0%}",
                  f"{rates['fitted']:.0%}")  # fmt: skip
    return table


def _run_de(spec: Any, tg: Any, budget: int, population: int | None, seeds: int | None,
            holdout: int | None, seed: int, workers: int | None, write: bool, out: Path,
            quiet: bool) -> None:  # fmt: skip
    """Fit by differential evolution, check on held-out seeds, write the report (and file)."""
    from sim.analysis.calibration import calibrate, check_budget
    from sim.analysis.calibration_files import write_calibration_file, write_calibration_report
    from sim.experiments.executors import make_executor
    from sim.experiments.seeds import spawn_seeds

    n_fit = seeds or spec.seeds.fit
    n_hold = holdout or spec.seeds.holdout
    spawned = spawn_seeds(spec.seeds.master, n_fit + n_hold)
    if population is not None and population < 5:
        fail("--population: differential evolution needs at least 5 candidates")
    pop = check_budget(spec, budget, population)
    total = (budget // pop * pop + 2) * n_fit + 2 * n_hold
    with make_executor(None, workers) as ex, progress_bar(total, "calibrate", quiet) as advance:
        result = calibrate(spec, tg, budget=budget, population=population,
                           fit_seeds=spawned[:n_fit], holdout_seeds=spawned[n_fit:],
                           executor=ex, progress=advance, seed=seed)  # fmt: skip
    path = write_calibration_report(result, out)
    console.print(calibration_table(result))
    for reason in result.reasons:
        console.print(f"- {reason}", markup=False, highlight=False)
    if result.accepted and write:
        written = write_calibration_file(result)
        console.print(f"fitted values written to {written}", markup=False, highlight=False)
    else:
        console.print(f"calibration file left as it is; the fitted values are in "
                      f"{path.parent / 'fitted.yaml'}", markup=False, highlight=False)  # fmt: skip
    console.print(f"report written to {path.parent}", markup=False, highlight=False)


METHODS = ("abc", "de")


@handle_errors
def calibrate_cmd(
    method: Annotated[str, typer.Option(
        help="abc: ABC-SMC posterior (pyabc); de: differential-evolution point fit.")] = "abc",
    quick: Annotated[bool, typer.Option(
        "--quick", help="abc: a small run (10 particles, 2 generations, 2 fit seeds).")] = False,
    population: Annotated[int | None, typer.Option(
        help="Particles per generation (abc, default 40) or candidates (de).", min=2)] = None,
    generations: Annotated[int | None, typer.Option(
        help="abc: generations [default: 5].", min=1)] = None,
    seeds: Annotated[int | None, typer.Option(
        help="Fit seeds per particle or candidate [default: abc 3, de the file's].", min=1)] = None,
    holdout_seeds: Annotated[int | None, typer.Option(
        help="Held-out seeds [default: abc 12, de the file's].", min=1)] = None,
    draws: Annotated[int | None, typer.Option(
        help="abc: posterior draws run on the held-out seeds [default: 12].", min=1)] = None,
    budget: Annotated[int, typer.Option(
        help="de: loss evaluations (population x generations); at least one population.")] = 40,
    seed: Annotated[int | None, typer.Option(
        help="Master seed (abc; default: the file's) or the optimiser's seed (de; 0).",
        min=0)] = None,
    workers: Workers = None,
    executor: Annotated[str | None, typer.Option(
        help="serial, processes or dask [default: processes; serial when --workers is 1]."
    )] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a running Dask scheduler, e.g. tcp://host:8786.")] = None,
    free: Annotated[Path | None, typer.Option(
        help="Free-parameters file [default: sim/data/free_parameters.yaml].")] = None,
    targets: TargetsFile = None,
    write: Annotated[bool, typer.Option(
        "--write/--no-write", help="de: write sim/data/calibration.yaml when accepted.")] = True,
    force: Annotated[bool, typer.Option(
        "--force", help="abc: start over, deleting what --out holds.")] = False,
    ship: Annotated[bool, typer.Option(
        "--ship", help="abc: copy --out's candidate calibration.yaml to sim/data/calibration.yaml"
        " (no runs); refused unless its held-out comparison says no worse.")] = False,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/calibration"),
    quiet: Quiet = False,
) -> None:  # fmt: skip
    """Calibrate the free behavioural parameters to the validation targets.

    abc (default): ABC-SMC with uniform priors over the free parameters' bounds and a distance
    built from the targets' scores; writes posterior.parquet, the population history,
    manifest.json and figures into --out, and prints the number of model runs. Run the same
    command again to resume an interrupted calibration. It compares the posterior with the
    current values on held-out seeds and writes a candidate calibration.yaml; --ship copies it
    to sim/data/calibration.yaml when the comparison says no worse. de: the
    differential-evolution point fit, checked on held-out seeds; writes
    sim/data/calibration.yaml only when accepted.
    """
    from sim.analysis.free_parameters import load_free_parameters
    from sim.analysis.targets import load_targets

    if method not in METHODS:
        fail(f"--method: allowed: {', '.join(METHODS)}; given {method!r}")
    tg = load_targets(targets)
    spec = load_free_parameters(free, tg)
    if ship:
        from sim.analysis.calibration_files import ship as ship_folder

        if method != "abc":
            fail("--ship: ships an ABC-SMC calibration folder; --method de writes its own file")
        written = ship_folder(out, spec)
        console.print(f"{out / 'calibration.yaml'} shipped to {written}", markup=False,
                      highlight=False)  # fmt: skip
        return
    from sim.results.store import ensure_writable_dir

    ensure_writable_dir(out)  # a bad output path is refused before any run
    if method == "de":
        _run_de(spec, tg, budget, population, seeds, holdout_seeds, seed or 0, workers, write,
                out, quiet)  # fmt: skip
        return
    master = spec.seeds.master if seed is None else seed
    settings = _settings(quick, population, generations, seeds, holdout_seeds, draws, master)
    _run_abc(spec, tg, settings, out, (executor, workers, scheduler), force, quiet)


def register(app: typer.Typer) -> None:
    """Add ``sim calibrate`` to the CLI."""
    app.command("calibrate")(calibrate_cmd)
