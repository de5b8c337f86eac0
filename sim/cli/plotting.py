"""``sim plot`` and ``sim report``: figures and an HTML report from a batch or sweep folder."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import console, handle_errors


class Format(StrEnum):
    """Figure file formats."""

    png = "png"
    svg = "svg"
    pdf = "pdf"


Folder = Annotated[Path, typer.Argument(help="Batch or sweep results folder.")]


@handle_errors
def plot_cmd(
    folder: Folder,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Metric to plot (repeatable) [default: all]."),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="File format of the figures.")
    ] = Format.png,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the files.")] = False,
) -> None:
    """Draw the standard figures of a batch or sweep into FOLDER/figures/."""
    from sim.plots.render import plot_results

    paths = plot_results(folder, metrics=metric or None, fmt=fmt.value)
    for path in paths:
        sys.stdout.write(f"{path}\n")  # one path a line, never wrapped
    if not quiet:
        console.print(f"{len(paths)} figure(s) written to {folder / 'figures'}",
                      markup=False, highlight=False)  # fmt: skip

@handle_errors
def report_cmd(
    folder: Folder,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Metric to show (repeatable) [default: all]."),
    ] = None,
) -> None:
    """Write FOLDER/report.html: one self-contained page with figures, tables, provenance."""
    from sim.plots.report import write_report

    path = write_report(folder, metrics=metric or None)
    sys.stdout.write(f"{path}\n")


def register(app: typer.Typer) -> None:
    """Add ``plot`` and ``report`` to the ``sim`` app."""
    app.command("plot")(plot_cmd)
    app.command("report")(report_cmd)
