"""``sim plot`` and ``sim report``: figures and an HTML report from a batch or sweep folder."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.cli.common import console, handle_errors

if TYPE_CHECKING:
    from sim.plots.render import Progress as FigureProgress


class Format(StrEnum):
    """Figure file formats."""

    png = "png"
    svg = "svg"
    pdf = "pdf"


Folder = Annotated[Path, typer.Argument(help="Batch or sweep results folder.")]


@contextlib.contextmanager
def figure_progress(enabled: bool) -> Iterator[FigureProgress]:
    """Show a progress bar while figures are drawn and the report is written.

    Args:
        enabled: Show it (only on a terminal, and not with ``--quiet``).

    Yields:
        The ``progress(done, total, name)`` callback to hand to the drawing functions.
    """
    from sim.plots.report import REPORT

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[name]}"), TimeElapsedColumn(), console=console,
                   disable=not enabled)  # fmt: skip
    task = bar.add_task("drawing figures", total=None, name="")

    def update(done: int, total: int, name: str) -> None:
        if name == REPORT:
            bar.update(task, description="report written", completed=total, total=total, name="")
        else:
            bar.update(task, completed=done, total=total, name=name)

    with bar:
        yield update


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

    with figure_progress(enabled=not quiet and console.is_terminal) as progress:
        paths = plot_results(folder, metrics=metric or None, fmt=fmt.value, progress=progress)
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

    with figure_progress(enabled=console.is_terminal) as progress:
        path = write_report(folder, metrics=metric or None, progress=progress)
    sys.stdout.write(f"{path}\n")


def register(app: typer.Typer) -> None:
    """Add ``plot`` and ``report`` to the ``sim`` app."""
    app.command("plot")(plot_cmd)
    app.command("report")(report_cmd)
