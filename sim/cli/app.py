"""The ``sim`` command line: thin wrappers that parse arguments and call the library.

Each command group is a module of ``sim/cli/`` whose ``register(app)`` adds its commands;
this module makes the app and registers every group.
Every error a user can cause is printed as one line on stderr and exits with code 2.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from sim.cli import (
    analysis,
    calibrate,
    core,
    dashboard,
    discover,
    experiments,
    levers,
    plotting,
    reliability,
)
from sim.cli.usage import OneLineErrors

app = typer.Typer(
    name="sim",
    cls=OneLineErrors,
    help="policysim: simulate how China's state and its platforms influence each other.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """Policysim command line."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


for _module in (core, experiments, levers, analysis, calibrate, discover, plotting, reliability,
                dashboard):
    _module.register(app)


def main() -> None:
    """Run the CLI (console script and ``python -m sim``)."""
    app()
