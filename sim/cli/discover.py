"""``sim discover``: scenario discovery on a sweep (PRIM boxes, CART leaves, feature scores).

Exit codes: 0 on success; 2 on bad input (a batch folder, an unknown outcome, a threshold that
selects no run or every run, the EMA Workbench missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.common import console, handle_errors

if TYPE_CHECKING:
    from sim.analysis.discovery import Discovery

CART_ROWS = 6


def _pct(value: float) -> str:
    return f"{value:.0%}"


def box_table(found: Discovery) -> Table:
    """Build the table of PRIM's boxes: coverage, density, mass and each restriction."""
    from sim.analysis.discovery import describe_restriction
    from sim.plots.discovery import question

    table = Table(title=f"PRIM boxes: {escape(question(found))} ({found.n_interest} of "
                  f"{found.n_cases} runs)")  # fmt: skip
    for name in ("box", "coverage", "density", "runs", "restrictions (quasi-p)"):
        table.add_column(name, justify="left" if name.startswith("restr") else "right")
    for k, box in enumerate(found.boxes, start=1):
        rows = box.limits.to_dict(orient="records")
        limits = "; ".join(describe_restriction(row) for row in rows) or "none"
        table.add_row(str(k), _pct(box.coverage), _pct(box.density), str(box.n), escape(limits))
    return table


def cart_table(found: Discovery) -> Table:
    """Build the table of CART's densest leaves."""
    table = Table(title="CART leaves, densest first")
    for name in ("coverage", "density", "mass"):
        table.add_column(name, justify="right")
    table.add_column("rule")
    for leaf in found.cart.head(CART_ROWS).to_dict(orient="records"):
        table.add_row(_pct(leaf["coverage"]), _pct(leaf["density"]), _pct(leaf["mass"]),
                      escape(str(leaf["rule"])))  # fmt: skip
    return table


def score_table(found: Discovery) -> Table:
    """Build the table of feature scores."""
    table = Table(title="Feature scores (extra trees)")
    table.add_column("parameter")
    table.add_column("score", justify="right")
    for name, score in found.scores.items():
        table.add_row(escape(str(name)), f"{score:.3f}")
    return table


@handle_errors
def discover_cmd(
    folder: Annotated[Path, typer.Argument(help="A sweep folder (results/<name>-...).")],
    outcome: Annotated[str, typer.Option(help="A numeric run-level outcome of summary.parquet.")],
    above: Annotated[float | None, typer.Option(help="Runs of interest: outcome above X.")] = None,
    below: Annotated[float | None, typer.Option(help="Runs of interest: outcome below X.")] = None,
    min_coverage: Annotated[float, typer.Option(
        help="Report each box at its densest step with at least this coverage (0-1).")] = 0.5,
    boxes: Annotated[int, typer.Option(help="Most PRIM boxes to find.")] = 3,
) -> None:
    """Find the parameter ranges of a sweep where an outcome is above (or below) a threshold."""
    from sim.analysis.discovery import discover
    from sim.plots.discovery import write_discovery

    found = discover(folder, outcome, above=above, below=below, min_coverage=min_coverage,
                     max_boxes=boxes)  # fmt: skip
    if found.partial:
        console.print(f"note: the sweep is unfinished; using its {found.n_cases} finished runs",
                      markup=False, highlight=False)  # fmt: skip
    console.print(box_table(found))
    if not found.boxes:
        console.print("PRIM found no box denser than the whole design", markup=False)
    console.print(cart_table(found))
    console.print(score_table(found))
    written = write_discovery(found)
    console.print(f"wrote {', '.join(str(p) for p in written)}", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``sim discover`` to the CLI."""
    app.command("discover")(discover_cmd)
