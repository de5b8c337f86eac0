"""Batch and sweep folders: the layout on disk, streaming writes, resume and loading.

A batch (or sweep) folder holds::

    manifest.json      what was run, with which seeds and versions, and how far it got
    runs.parquet       one row per finished run: ids, seed, swept parameters, status, error, wall_s
    summary.parquet    run-level outcomes of every successful run
    design.parquet     sweeps only: the design matrix, one row per point_id
    timeseries/        Parquet dataset: run_id, scenario, replicate, seed, date, every metric
    stakeholders/      Parquet dataset: stakeholder positions, replicate 0 of each scenario or point
    network/           Parquet dataset: influence matrices, replicate 0 of each scenario or point
    parts/             one JSON record per finished run, written last: the run's commit marker

Every run's files are named ``<index>-<run_id>`` (``index`` is the run's place in the canonical
order), so a dataset read with ``pandas.read_parquet(folder / "timeseries")`` comes back in
canonical order. Every file is written atomically; a run counts as done once its record exists,
so a batch killed at any moment resumes without losing or duplicating a run. ``runs.parquet``,
``summary.parquet`` and the manifest's counts are rebuilt from the records, streaming, as runs land.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ResultsError
from sim.store import atomic_path, ensure_writable_dir, write_json
from sim.verify import manifest_checksums, part_checksums

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
SUMMARY = "summary.parquet"
DESIGN = "design.parquet"
PARTS = "parts"
DATASETS = ("timeseries", "stakeholders", "network")
KINDS = ("batch", "sweep")
CHUNK = 1000
RUN_STATUS_COLUMNS = ("scenario_hash", "status", "error", "wall_s")
_ARROW = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}


@functools.cache
def summary_types() -> dict[str, str]:
    """Return each run-level outcome's name and type (``float`` or ``str``).

    Found by summarizing a two-month series of the declared metrics, so it follows
    :func:`sim.metrics.summarize` without repeating it.
    """
    from sim.metrics import METRIC_NAMES, summarize

    frame = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    for name in METRIC_NAMES:
        frame[name] = [1.0, 2.0]
    return {k: "str" if isinstance(v, str) else "float" for k, v in summarize(frame).items()}


def numeric_outcomes() -> list[str]:
    """Return the run-level outcomes that are numbers (those a sweep may name)."""
    return [k for k, t in summary_types().items() if t == "float"]


def runs_schema(param_types: dict[str, str], *, sweep: bool) -> pa.Schema:
    """Return the schema of ``runs.parquet``.

    Args:
        param_types: Swept parameter names and types (``int``, ``float``, ``str``, ``bool``).
        sweep: Whether the folder is a sweep (adds ``point_id``).

    Returns:
        The Arrow schema.
    """
    fields = [("run_id", pa.string()), ("scenario", pa.string()), ("scenario_hash", pa.string())]
    fields += [("point_id", pa.int64())] if sweep else []
    fields += [("replicate", pa.int64()), ("seed", pa.int64())]
    fields += [(name, _ARROW[kind]) for name, kind in param_types.items()]
    fields += [("status", pa.string()), ("error", pa.string()), ("wall_s", pa.float64())]
    return pa.schema(fields)


def summary_schema(runs: pa.Schema) -> pa.Schema:
    """Return the schema of ``summary.parquet``: the run's ids and parameters, then outcomes."""
    ids = [f for f in runs if f.name not in RUN_STATUS_COLUMNS]
    outcomes = [pa.field(k, _ARROW[t]) for k, t in summary_types().items()]
    return pa.schema(ids + outcomes)


class BatchFolder:
    """The files of one batch or sweep.

    Args:
        path: The folder.
        width: Digits of the zero-padded run index in file names.
    """

    def __init__(self, path: Path, width: int = 6) -> None:
        self.path = Path(path)
        self.width = width

    @property
    def manifest_path(self) -> Path:
        """The manifest file."""
        return self.path / MANIFEST

    def stem(self, index: int, run_id: str) -> str:
        """Return the file name stem of a run: ``<zero-padded index>-<run_id>``."""
        return f"{index:0{self.width}d}-{run_id}"

    def read_manifest(self) -> dict[str, Any] | None:
        """Return the manifest, or ``None`` when there is none.

        Raises:
            ResultsError: When the manifest is not valid JSON.
        """
        try:
            data = json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ResultsError(f"{self.manifest_path}: unreadable manifest ({exc})") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{self.manifest_path}: manifest is not a JSON object")
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically, with the checksums of the batch's files."""
        write_json(self.manifest_path, {**manifest, "checksums": manifest_checksums(self.path)})

    def has_batch_files(self) -> bool:
        """Whether the folder holds a manifest, records or datasets of a batch."""
        names = (MANIFEST, RUNS, SUMMARY, DESIGN, PARTS, *DATASETS)
        return any((self.path / n).exists() for n in names)

    def clear(self) -> None:
        """Remove the batch's own files (and nothing else) from the folder."""
        for name in (PARTS, *DATASETS):
            shutil.rmtree(self.path / name, ignore_errors=True)
        for name in (MANIFEST, RUNS, SUMMARY, DESIGN):
            (self.path / name).unlink(missing_ok=True)

    def clean_temporary(self) -> int:
        """Remove temporary files a killed batch left behind; return how many."""
        count = 0
        for folder in (self.path, *(self.path / n for n in (PARTS, *DATASETS))):
            for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
                tmp.unlink(missing_ok=True)
                count += 1
        return count

    def write_run(self, stem: str, record: dict[str, Any], parts: dict[str, bytes]) -> None:
        """Write one finished run: its dataset parts, then its record (the commit marker).

        Files are renamed into place but not flushed to the device: a killed process loses
        nothing the operating system has been handed; a crash of the machine may lose recent runs,
        which a resumed batch then runs again.

        Args:
            stem: The run's file stem (see :meth:`stem`).
            record: ``{"run": runs row, "summary": outcomes or None}``.
            parts: Dataset name (``timeseries``, ``stakeholders``, ``network``) to Parquet bytes.
        """
        record = {**record, "checksums": part_checksums(stem, parts)}
        for name, data in parts.items():
            with atomic_path(self.path / name / f"{stem}.parquet") as tmp:
                tmp.write_bytes(data)
        text = json.dumps(record, default=str)
        with atomic_path(self.path / PARTS / f"{stem}.json") as tmp:
            tmp.write_text(text)

    def record_files(self) -> list[Path]:
        """Return the run records in canonical order."""
        folder = self.path / PARTS
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def records(self) -> Iterator[dict[str, Any]]:
        """Yield the run records in canonical order, reading one file at a time."""
        for path in self.record_files():
            try:
                yield json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ResultsError(f"{path}: unreadable run record ({exc})") from None

    def finished(self) -> dict[str, str]:
        """Return each recorded run's stem and status (``ok`` or ``failed``)."""
        out = {}
        for path in self.record_files():
            try:
                out[path.stem] = json.loads(path.read_text())["run"]["status"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ResultsError(f"{path}: unreadable run record ({exc})") from None
        return out

    def consolidate(self, runs: pa.Schema) -> dict[str, int]:
        """Rebuild ``runs.parquet`` and ``summary.parquet`` from the records, streaming.

        Args:
            runs: The schema of ``runs.parquet`` (see :func:`runs_schema`).

        Returns:
            Counts of recorded runs: ``done`` (ok or failed) and ``failed``.
        """
        counts = {"done": 0, "failed": 0}

        def run_rows() -> Iterator[dict[str, Any]]:
            for record in self.records():
                counts["done"] += 1
                counts["failed"] += record["run"]["status"] != "ok"
                yield record["run"]

        def summary_rows() -> Iterator[dict[str, Any]]:
            for record in self.records():
                if record.get("summary") is not None:
                    yield {**record["run"], **record["summary"]}

        _write_streaming(self.path / RUNS, runs, run_rows())
        _write_streaming(self.path / SUMMARY, summary_schema(runs), summary_rows())
        return counts


def _write_streaming(target: Path, schema: pa.Schema, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows to a Parquet file in chunks (flat memory), atomically."""
    source = iter(rows)
    with atomic_path(target) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        while chunk := list(islice(source, CHUNK)):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))


def open_folder(path: Path, *, spec_hash: str, kind: str, resume: bool, force: bool) -> bool:
    """Prepare ``path`` for a batch; tell whether it resumes one already there.

    Args:
        path: The output folder (created when missing).
        spec_hash: Fingerprint of the batch's runs (see :func:`sim.experiment.Plan.spec_hash`).
        kind: ``batch`` or ``sweep``, for messages.
        resume: Finish the same batch if the folder holds it.
        force: Replace a different batch (or ignore other files) instead of refusing.

    Returns:
        ``True`` when an existing batch with the same runs is resumed.

    Raises:
        ResultsError: When the folder holds another batch, or this batch without ``resume``, or
            other files, and ``force`` is not given.
    """
    ensure_writable_dir(path)
    folder = BatchFolder(path)
    manifest = folder.read_manifest() if (path / MANIFEST).exists() else None
    if manifest is not None and manifest.get("spec_hash") == spec_hash and resume:
        return True
    if folder.has_batch_files():
        if not force:
            if manifest is not None and manifest.get("spec_hash") == spec_hash:
                raise ResultsError(
                    f"{path}: already holds this {kind}; drop --no-resume to finish it, "
                    "or add --force to start it again"
                )
            raise ResultsError(
                f"{path}: holds a different batch (other scenarios, seeds, replicates, design or "
                "policysim version); choose another --out, or add --force to replace it"
            )
        folder.clear()
    elif any(path.iterdir()) and not force:
        raise ResultsError(
            f"{path}: folder is not empty and holds no batch; choose another --out, "
            "or add --force to write into it"
        )
    return False


class Results:
    """A batch or sweep folder, loaded.

    The small tables (``manifest``, ``runs``, ``summary``) are read at once; the datasets
    (``timeseries``, ``stakeholders``, ``network``) and ``design`` are read on first access.

    Attributes:
        folder: The folder.
        manifest: The manifest.
        runs: One row per finished run (see the module docs).
        summary: Run-level outcomes of every successful run.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        manifest = BatchFolder(self.folder).read_manifest()
        if manifest is None:
            raise ResultsError(f"{self.folder}: not a batch or sweep folder (no {MANIFEST})")
        if manifest.get("kind") not in KINDS:
            raise ResultsError(
                f"{self.folder}: manifest kind is {manifest.get('kind')!r}; "
                f"allowed: {', '.join(KINDS)} (single runs are read with pandas directly)"
            )
        self.manifest: dict[str, Any] = manifest
        self.runs = self._table(RUNS)
        self.summary = self._table(SUMMARY)

    def _table(self, name: str) -> pd.DataFrame:
        path = self.folder / name
        if not path.exists():
            raise ResultsError(f"{path}: missing; the batch has not recorded any run yet")
        return _read_parquet(path, self.folder)

    def _dataset(self, name: str) -> pd.DataFrame:
        """Read a dataset's parts of the runs in ``runs.parquet`` (committed runs only).

        A part written by a killed batch just before its run's record is not read.
        """
        path = self.folder / name
        committed = set(self.runs["run_id"]) if "run_id" in self.runs else set()
        files = [p for p in sorted(path.glob("*.parquet")) if p.stem.partition("-")[2] in committed]
        if not files:
            return pd.DataFrame()
        return _read_parquet(files, self.folder)

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """Every successful run's monthly metrics, in canonical run order."""
        return self._dataset("timeseries")

    @functools.cached_property
    def stakeholders(self) -> pd.DataFrame:
        """Stakeholder positions for replicate 0 of each scenario or design point."""
        return self._dataset("stakeholders")

    @functools.cached_property
    def network(self) -> pd.DataFrame:
        """Influence matrices for replicate 0 of each scenario or design point."""
        return self._dataset("network")

    @functools.cached_property
    def design(self) -> pd.DataFrame | None:
        """The sweep's design matrix (``point_id`` and one column per parameter), else None."""
        path = self.folder / DESIGN
        return pd.read_parquet(path) if path.exists() else None

    @property
    def kind(self) -> str:
        """``batch`` or ``sweep``."""
        return str(self.manifest["kind"])

    @property
    def complete(self) -> bool:
        """Whether every planned run finished and none failed."""
        return self.manifest.get("status") == "complete"

    @property
    def failed(self) -> pd.DataFrame:
        """The rows of ``runs`` whose run raised."""
        return self.runs[self.runs["status"] != "ok"]

    def __repr__(self) -> str:
        counts = self.manifest.get("counts", {})
        return (
            f"Results({str(self.folder)!r}, kind={self.kind!r}, "
            f"status={self.manifest.get('status')!r}, done={counts.get('done')}, "
            f"failed={counts.get('failed')}, total={counts.get('total')})"
        )


def _read_parquet(source: Path | list[Path], folder: Path) -> pd.DataFrame:
    """Read Parquet, turning a corrupted or unreadable file into a one-line ResultsError."""
    try:
        return pd.read_parquet(source)  # type: ignore[arg-type]  # a list of files works too
    except (OSError, ValueError, pa.ArrowException) as exc:
        files = source if isinstance(source, list) else [source]
        bad = next((f for f in files if not _readable(f)), files[0])
        reason = " ".join(str(exc).split())[:200]
        raise ResultsError(
            f"{bad}: corrupted or unreadable Parquet ({reason}); check the folder with "
            f"`sim verify {folder}`"
        ) from None


def _readable(path: Path) -> bool:
    """Tell whether a Parquet file can be read."""
    try:
        pq.read_metadata(path)
        pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException):
        return False
    return True


def load_results(folder: str | Path) -> Results:
    """Load a batch or sweep folder.

    Args:
        folder: The folder written by :func:`sim.run_batch`, :func:`sim.run_sweep`, ``sim batch``
            or ``sim sweep``.

    Returns:
        The loaded results: ``.runs``, ``.summary`` and ``.manifest`` at once, ``.timeseries``,
        ``.stakeholders``, ``.network`` and ``.design`` on first access.

    Raises:
        ResultsError: When the folder is not a batch or sweep folder.
    """
    return Results(Path(folder))
