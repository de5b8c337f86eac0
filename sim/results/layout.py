"""The layout of a batch or sweep folder, said once: file names and the manifest.

A batch (or sweep) folder holds::

    manifest.json      what was run, with which seeds and versions, and how far it got
    runs.parquet       one row per finished run: ids, seed, swept parameters, status, error, wall_s
    summary.parquet    run-level outcomes of every successful run
    design.parquet     sweeps: the design matrix, one row per point_id; lever studies: the
                       variants (lever, direction), one row per point_id
    timeseries/        Parquet dataset: run_id, scenario, replicate, seed, date, every metric
    stakeholders/      Parquet dataset: stakeholder positions, replicate 0 of each scenario or point
    network/           Parquet dataset: influence matrices, replicate 0 of each scenario or point
    parts/             the run records: what is recorded, and which files hold it

Runs are executed in chunks (consecutive runs of the canonical order). While a batch runs, each
landed chunk adds one file per dataset, ``<dataset>/<stem>.parquet``, and then its record
``parts/<stem>.json`` (the chunk's commit marker), where ``<stem>`` is
``<index of its first run>-<run_id of its first run>``. When the batch ends, every dataset is
compacted into one file, ``<dataset>/part-<generation>.parquet``, in canonical run order, and the
records into ``parts/compacted.jsonl`` (see :mod:`sim.results.records`): a finished folder holds
a fixed number of files however many runs it has.

A lever study (kind ``levers``, made by ``sim levers``) is such a folder whose runs are the
unmoved scenario and one variant per lever and direction; it also holds ``levers.parquet``, the
paired changes of the headline outcomes (see :mod:`sim.analysis.levers`), and
``figures/tornado.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.errors import ResultsError

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
SUMMARY = "summary.parquet"
DESIGN = "design.parquet"
PARTS = "parts"
COMPACTED = "compacted.jsonl"
"""The compacted record in ``parts/`` (see :mod:`sim.results.records`)."""
COMPACTED_STEM = "part-"
"""File names of compacted datasets: ``part-<generation>.parquet``."""
DATASETS = ("timeseries", "stakeholders", "network")
TABLES = (RUNS, SUMMARY, DESIGN)
KINDS = ("batch", "sweep", "levers")
FINISHED = ("complete", "failed")
"""Manifest statuses of a batch that ran every run it was started for."""


def manifest_or_none(folder: Path) -> dict[str, Any] | None:
    """Return a folder's manifest, or ``None`` when it has none.

    Raises:
        ResultsError: When the manifest is unreadable or not a JSON object.
    """
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: manifest is not a JSON object")
    return data


def read_manifest(folder: Path) -> dict[str, Any]:
    """Return a batch or sweep folder's manifest.

    Raises:
        ResultsError: When the folder holds no batch or sweep manifest.
    """
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder")
    manifest = manifest_or_none(folder)
    if manifest is None:
        raise ResultsError(f"{folder}: not a batch or sweep folder (no {MANIFEST})")
    if manifest.get("kind") not in KINDS:
        raise ResultsError(
            f"{folder}: manifest kind is {manifest.get('kind')!r}; allowed: {', '.join(KINDS)} "
            "(a batch or sweep folder; single runs are read with pandas directly)"
        )
    return manifest


def record_files(folder: Path) -> list[Path]:
    """Return a folder's chunk records (``parts/*.json``) in the order of their first run."""
    parts = folder / PARTS
    return sorted(parts.glob("*.json")) if parts.is_dir() else []
