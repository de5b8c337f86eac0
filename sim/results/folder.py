"""Writing a batch or sweep folder: streaming writes, resume, the manifest's counts.

The layout is :mod:`sim.results.layout`. Every file is written atomically; a run counts as done
once its record exists, so a batch killed at any moment resumes without losing or duplicating a
run. ``runs.parquet``, ``summary.parquet`` and the manifest's counts are rebuilt from the records,
streaming, as runs land.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import ResultsError
from sim.model.metrics import summary_types
from sim.results.layout import (
    DATASETS,
    DESIGN,
    MANIFEST,
    PARTS,
    RUNS,
    SUMMARY,
    manifest_or_none,
)
from sim.results.records import RecordLog
from sim.results.store import (
    EncodedValues,
    ensure_writable_dir,
    write_bytes_atomic,
    write_json,
    write_table,
)
from sim.results.verify import manifest_checksums, part_checksums

log = logging.getLogger(__name__)

CHUNK = 1000
RUN_STATUS_COLUMNS = ("scenario_hash", "status", "error", "wall_s")
DATE_TYPE = pa.timestamp("us")
"""The Arrow type of every date column (time series and summaries), whatever pandas' own unit."""
_ARROW = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(),
          "timestamp": DATE_TYPE}  # fmt: skip


def runs_schema(param_types: dict[str, str], *, sweep: bool) -> pa.Schema:
    """Return the schema of ``runs.parquet``.

    Args:
        param_types: Swept parameter names and types (``int``, ``float``, ``str``, ``bool``).
        sweep: Whether the runs belong to design points: a sweep's, or a lever study's
            variants (adds ``point_id``).

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
        self._encoded: EncodedValues = {}

    @property
    def manifest_path(self) -> Path:
        """The manifest file."""
        return self.path / MANIFEST

    def stem(self, index: int, run_id: str) -> str:
        """Return the file name stem of a run: ``<zero-padded index>-<run_id>``."""
        return f"{index:0{self.width}d}-{run_id}"

    def read_manifest(self) -> dict[str, Any] | None:
        """Return the manifest, or ``None`` when there is none."""
        return manifest_or_none(self.path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically, with the checksums of the batch's files.

        The text of a value given as the same object as in the previous write is reused (see
        :func:`~sim.results.store.indented_json`): such values must not change in between.
        """
        data = {**manifest, "checksums": manifest_checksums(self.path)}
        write_json(self.manifest_path, data, self._encoded)

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

    def write_chunk(self, stem: str, records: list[dict[str, Any]], parts: dict[str, bytes]
                    ) -> list[str]:  # fmt: skip
        """Write one landed chunk: its dataset files, then its record (the commit marker).

        Files are renamed into place but not flushed to the device: a killed process loses
        nothing the operating system has been handed; a crash of the machine may lose recent runs,
        which a resumed batch then runs again.

        Args:
            stem: The chunk's file stem (see :meth:`stem`, for its first run).
            records: One entry per run (see :mod:`sim.results.records`).
            parts: Dataset name (``timeseries``, ``stakeholders``, ``network``) to Parquet bytes.

        Returns:
            Each entry as JSON, as the record holds it (``json.dumps(entry, default=str)``).
        """
        checksums = part_checksums(stem, parts)
        for name, data in parts.items():
            write_bytes_atomic(self.path / name / f"{stem}.parquet", data)
        entries = [json.dumps(entry, default=str) for entry in records]
        # The text of json.dumps({"runs": records, "checksums": checksums}, default=str).
        text = f'{{"runs": [{", ".join(entries)}], "checksums": {json.dumps(checksums)}}}'
        write_bytes_atomic(self.path / PARTS / f"{stem}.json", text.encode())
        return entries

    def finished(self) -> dict[tuple[int, str], str]:
        """Return each recorded run's (index, run_id) and status (``ok`` or ``failed``)."""
        out = {}
        for source, entry in RecordLog(self.path).entries():
            try:
                out[int(entry["index"]), str(entry["run"]["run_id"])] = entry["run"]["status"]
            except (KeyError, TypeError, ValueError) as exc:
                raise ResultsError(f"{self.path / source.rel}: unreadable run record ({exc})"
                                   ) from None  # fmt: skip
        return out

    def consolidate(self, runs: pa.Schema) -> dict[str, int]:
        """Rebuild ``runs.parquet`` and ``summary.parquet`` from the records.

        Args:
            runs: The schema of ``runs.parquet`` (see :func:`runs_schema`).

        Returns:
            Counts of recorded runs: ``done`` (ok or failed) and ``failed``.
        """
        run_table, summary_table = self._recorded(runs)
        write_table(self.path / RUNS, run_table)
        write_table(self.path / SUMMARY, summary_table)
        failed = run_table.num_rows - pc.sum(pc.equal(run_table["status"], "ok")).as_py() \
            if run_table.num_rows else 0
        return {"done": run_table.num_rows, "failed": int(failed)}

    def _recorded(self, runs: pa.Schema) -> tuple[pa.Table, pa.Table]:
        """Return the runs and summary tables of the records, in canonical order.

        Rows become Arrow a chunk at a time, so the Python objects of at most :data:`CHUNK`
        records are held at once.
        """
        summaries = summary_schema(runs)
        dates = [k for k, t in summary_types().items() if t == "timestamp"]
        run_parts: list[pa.Table] = []
        summary_parts: list[pa.Table] = []
        run_order: list[int] = []
        summary_order: list[int] = []
        run_rows: list[dict[str, Any]] = []
        summary_rows: list[dict[str, Any]] = []

        def flush() -> None:
            run_parts.append(pa.Table.from_pylist(run_rows, schema=runs))
            summary_parts.append(pa.Table.from_pylist(summary_rows, schema=summaries))
            run_rows.clear()
            summary_rows.clear()

        for _, entry in RecordLog(self.path).entries():
            run_order.append(int(entry["index"]))
            run_rows.append(entry["run"])
            summary = entry.get("summary")
            if summary is not None:
                for key in dates:
                    if isinstance(summary.get(key), str):
                        summary[key] = datetime.fromisoformat(summary[key])
                summary_order.append(int(entry["index"]))
                summary_rows.append({**entry["run"], **summary})
            if len(run_rows) >= CHUNK:
                flush()
        flush()
        return (_in_order(pa.concat_tables(run_parts), run_order),
                _in_order(pa.concat_tables(summary_parts), summary_order))  # fmt: skip

    def read_recorded(self, runs: pa.Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return ``runs`` and ``summary`` as the records on disk give them (nothing is written).

        Args:
            runs: The schema of ``runs.parquet`` (see :func:`runs_schema`).
        """
        run_table, summary_table = self._recorded(runs)
        return run_table.to_pandas(), summary_table.to_pandas()


def _in_order(table: pa.Table, order: list[int]) -> pa.Table:
    """Return the table's rows sorted by their runs' canonical places."""
    if not order or all(a < b for a, b in zip(order, order[1:], strict=False)):
        return table
    return table.take(pc.sort_indices(pa.array(order)))


def open_folder(path: Path, *, spec_hash: str, kind: str, resume: bool, force: bool) -> bool:
    """Prepare ``path`` for a batch; tell whether it resumes one already there.

    Args:
        path: The output folder (created when missing).
        spec_hash: Fingerprint of the batch's runs (see
            :func:`sim.experiments.plan.Plan.spec_hash`).
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
                raise ResultsError.about(
                    lambda a: f"{path}: already holds this {kind}; pass {a.resume} to finish "
                    f"it, or {a.force} to start it again"
                )
            raise ResultsError.about(
                lambda a: f"{path}: holds a different batch (other scenarios, seeds, replicates, "
                f"design or policysim version); choose another {a.out}, or pass {a.force} to "
                "replace it"
            )
        folder.clear()
    elif any(path.iterdir()) and not force:
        raise ResultsError.about(
            lambda a: f"{path}: folder is not empty and holds no batch; choose another {a.out}, "
            f"or pass {a.force} to write into it"
        )
    return False


def find_resumable(root: Path, name: str, spec_hash: str) -> Path | None:
    """Return the newest unfinished folder ``root/<name>-*`` holding the same batch.

    Args:
        root: Where default folders are made (``results``).
        name: The batch or sweep name.
        spec_hash: Fingerprint of the batch's runs.

    Returns:
        The folder, or ``None``.
    """
    for folder in sorted(root.glob(f"{name}-*"), reverse=True):
        try:
            manifest = BatchFolder(folder).read_manifest()
        except ResultsError:
            continue
        if manifest is None or manifest.get("spec_hash") != spec_hash:
            continue
        if manifest.get("status") != "complete":
            return folder
    return None


def default_folder(root: Path, name: str) -> Path:
    """Return a new ``root/<name>-<YYYYmmdd-HHMMSS>`` folder path that does not exist yet."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{name}-{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = root / f"{name}-{stamp}-{n}"
    return candidate
