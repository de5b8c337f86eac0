"""``sim verify`` and ``sim rerun``: check a results folder's files, reproduce one of its runs.

Exit codes: 0 when every file matches its checksum (``verify``) or the run is reproduced bit for
bit (``rerun``); 1 when something differs (each difference on its own line); 2 on bad input, such
as a folder that is not a batch or sweep, or an unknown run id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import console, err_console, handle_errors

Folder = Annotated[Path, typer.Argument(help="A batch or sweep folder (results/<name>-...).")]


@handle_errors
def verify_cmd(folder: Folder) -> None:
    """Check every file of a batch or sweep against the SHA-256 its manifest and records hold."""
    from sim.results.verify import verify_folder

    report = verify_folder(folder)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    for problem in report.problems:
        err_console.print(f"problem: {problem}", markup=False, soft_wrap=True)
    if not report.ok:
        err_console.print(f"{folder}: {len(report.problems)} of {report.checked} files failed "
                          "verification", markup=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    console.print(f"{folder}: {report.checked} files verified, all checksums match",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip


@handle_errors
def rerun_cmd(
    folder: Folder,
    run_id: Annotated[str, typer.Option("--run-id", help="The run_id (see runs.parquet).")],
) -> None:
    """Run one run of a batch or sweep again from its manifest and compare it bit for bit."""
    from sim.experiments.rerun import rerun

    report = rerun(folder, run_id)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    what = f"run {run_id} ({report.scenario}, seed {report.seed})"
    if not report.identical:
        for difference in report.differences:
            err_console.print(f"differs: {difference}", markup=False, soft_wrap=True)
        err_console.print(f"{what}: not reproduced", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"{what}: reproduced bit for bit ({'; '.join(report.compared)})",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``sim verify`` and ``sim rerun`` to the CLI."""
    app.command("verify")(verify_cmd)
    app.command("rerun")(rerun_cmd)
