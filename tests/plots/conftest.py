"""Small stored batch and sweep folders for the figure, report and plot-command tests.

They are made once per session by :func:`sim.experiments.batch.run_batch` and
:func:`sim.experiments.batch.run_sweep` (serially, 24 months), with exactly the layout ``sim batch``
and ``sim sweep`` write. Tests must not change them; tests that need a changed folder copy one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.batch import run_batch, run_sweep

MONTHS = 24
BATCH_SCENARIOS = ("baseline", "crackdown", "history_2020_2025")
SWEEP = """\
name: {name}
base: crackdown
parameters:
  b_uncertainty: {{path: params.valuation.b_uncertainty, {b}}}
  samr_fine_rate: {{path: regulators.SAMR.fine_rate, {f}}}
design: {design}
replicates: {replicates}
outcomes: [peak_to_trough_loss_usd, final_market_value_usd, total_fines_value_usd]
"""


def _sweep(root: Path, name: str, design: str, replicates: int, b: str, f: str) -> Path:
    spec = root / f"{name}.yaml"
    text = SWEEP.format(name=name, design=design, replicates=replicates, b=b, f=f)
    spec.write_text(text, encoding="utf-8")
    res = run_sweep(spec, months=MONTHS, seed=5, executor="serial", out=root / name)
    return res.folder


@pytest.fixture(scope="session")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch: baseline, crackdown and history x 3 replicates x 24 months."""
    out = tmp_path_factory.mktemp("batch") / "b"
    res = run_batch(list(BATCH_SCENARIOS), replicates=3, months=MONTHS, seed=7,
                    executor="serial", out=out)  # fmt: skip
    return res.folder


@pytest.fixture(scope="session")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 x 3 grid sweep of crackdown over two parameters, 2 replicates per point."""
    root = tmp_path_factory.mktemp("grid")
    return _sweep(root, "grid", "{kind: grid}", 2, "range: [0.0, 0.4], n: 3",
                  "levels: [0.01, 0.04, 0.08]")  # fmt: skip


@pytest.fixture(scope="session")
def sobol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Sobol sweep (N=4, two parameters, second order: 24 points), one replicate."""
    root = tmp_path_factory.mktemp("sobol")
    return _sweep(root, "sobol", "{kind: sobol, samples: 4, second_order: true, seed: 3}", 1,
                  "range: [0.0, 0.4]", "range: [0.01, 0.08]")  # fmt: skip


@pytest.fixture(scope="session")
def morris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Morris sweep (4 trajectories over two parameters: 12 points), one replicate."""
    root = tmp_path_factory.mktemp("morris")
    return _sweep(root, "morris", "{kind: morris, samples: 4, num_levels: 4, seed: 3}", 1,
                  "range: [0.0, 0.4]", "range: [0.01, 0.08]")  # fmt: skip


def copy_folder(source: Path, target: Path) -> Path:
    """Copy a results folder without its figures and report, for tests that change it."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("figures", "report.html"))
    return target


def mark_failed(folder: Path, n: int | None = None) -> None:
    """Record the first ``n`` runs (default: all) of a copied folder as failed."""
    runs = pd.read_parquet(folder / "runs.parquet")
    n = len(runs) if n is None else n
    runs.loc[runs.index[:n], "status"] = "failed"
    runs.loc[runs.index[:n], "error"] = "RuntimeError: model diverged"
    runs.to_parquet(folder / "runs.parquet", index=False)
