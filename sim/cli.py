"""The ``sim`` command line: thin wrappers that parse arguments and call the library.

Core commands live here (``list``, ``show``, ``run``); other command groups live in
``sim/cli_commands/`` as modules with a ``register(app)`` function and are added automatically.
Every error a user can cause is printed as one line on stderr and exits with code 2.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from sim import cli_commands
from sim.errors import PolicysimError

app = typer.Typer(
    name="sim",
    help="policysim: simulate how China's state and its platforms influence each other.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn the project's errors into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PolicysimError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        return None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """Policysim command line."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command("list")
@handle_errors
def list_cmd() -> None:
    """List the scenarios on the search path, one line each with its description."""
    from sim.scenario import list_scenarios

    infos = list_scenarios()
    if not infos:
        fail("no scenarios found on the search path")
    width = max(len(i.name) for i in infos)
    for info in infos:
        sys.stdout.write(f"{info.name:<{width}}  {info.description}\n")


@app.command("show")
@handle_errors
def show_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario name or YAML file.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field: PATH=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Print the fully resolved scenario (after extends and overrides) as YAML."""
    from sim.scenario import load_scenario, scenario_hash, scenario_yaml

    sc = load_scenario(scenario, set_ or [])
    sys.stdout.write(f"# sha256: {scenario_hash(sc)}\n")
    sys.stdout.write(scenario_yaml(sc))


def summary_table(summary: dict[str, Any], title: str) -> Table:
    """Build a rich table of a run summary with readable units."""
    from sim.metrics import METRICS_BY_NAME

    table = Table(title=title, show_lines=False)
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        name = key.removeprefix("final_").removeprefix("total_")
        unit = METRICS_BY_NAME[name].unit if name in METRICS_BY_NAME else ""
        if key.endswith("_usd") or unit == "USD":
            text = format_usd(float(value))
        elif isinstance(value, float):
            text = f"{value:,.4g}"
        else:
            text = str(value)
        table.add_row(key, text)
    return table


def format_usd(value: float) -> str:
    """Format a US$ amount as ``US$1.23T``, ``US$4.5B`` or ``US$6.7M``."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= scale:
            return f"US${value / scale:,.2f}{suffix}"
    return f"US${value:,.0f}"


@app.command("run")
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
    from sim.runner import run_scenario
    from sim.scenario import load_scenario
    from sim.store import ensure_writable_dir, write_run

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


def _register_command_modules() -> None:
    """Add the command groups defined in ``sim/cli_commands/``."""
    for info in sorted(pkgutil.iter_modules(cli_commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{cli_commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_command_modules()


def main() -> None:
    """Run the CLI (console script and ``python -m sim``)."""
    app()
