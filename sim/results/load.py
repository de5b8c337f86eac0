"""Reading a batch or sweep folder back: :func:`load_results`."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ResultsError
from sim.results.layout import DESIGN, FINISHED, RUNS, SUMMARY, read_manifest

log = logging.getLogger(__name__)


class Results:
    """A batch or sweep folder, loaded.

    The manifest is read at once; the tables (``runs``, ``summary``, the datasets
    ``timeseries``, ``stakeholders``, ``network``, and ``design``) on first access, so that a
    batch that returns its results does not read back what it has just written unless asked.

    An unfinished batch (interrupted, stopped by a full disk or lost workers, killed, or still
    running) is read from its run records, which are always current: ``partial`` is true,
    ``runs`` and ``summary`` hold the runs finished so far, and the manifest's ``counts`` are
    those of the records on disk.

    Attributes:
        folder: The folder.
        manifest: The manifest.
        partial: The batch has not finished: only the runs finished so far are read.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.manifest: dict[str, Any] = read_manifest(self.folder)
        self.partial = self.manifest.get("status") not in FINISHED
        if self.partial:
            self._read_records()

    @functools.cached_property
    def runs(self) -> pd.DataFrame:
        """One row per finished run (for an unfinished batch, read from its run records)."""
        return self._table(RUNS)

    @functools.cached_property
    def summary(self) -> pd.DataFrame:
        """Run-level outcomes of every successful run."""
        return self._table(SUMMARY)

    def _read_records(self) -> None:
        """Read an unfinished batch from its run records; its counts follow them."""
        from sim.results.folder import BatchFolder, runs_schema

        manifest = self.manifest
        params = manifest.get("design", {}).get("parameters", {}) if self.kind == "sweep" else {}
        types = {name: str(spec.get("type", "float")) for name, spec in params.items()}
        schema = runs_schema(types, sweep=self.kind == "sweep")
        # Set here, these take the place of the tables' reads (cached properties).
        self.runs, self.summary = BatchFolder(self.folder).read_recorded(schema)
        total = manifest.get("counts", {}).get("total")
        failed = int((self.runs["status"] != "ok").sum())
        self.manifest = {**manifest, "counts": {"total": total, "done": len(self.runs),
                                                "failed": failed}}  # fmt: skip
        log.warning("%s: partial %s (status %s): %d of %s runs finished; run the same command "
                    "to finish it", self.folder, self.kind, manifest.get("status"),
                    len(self.runs), total)  # fmt: skip

    def _table(self, name: str) -> pd.DataFrame:
        path = self.folder / name
        if not path.exists():
            raise ResultsError(f"{path}: missing; the batch has not recorded any run yet")
        return _read_parquet(path, self.folder)

    def _dataset(self, name: str) -> pd.DataFrame:
        """Read a dataset's files that a live run record names (committed runs only).

        A file written by a killed batch just before its chunk's record is not read, nor one a
        compaction has superseded. A finished batch has one file per dataset, in canonical run
        order; an unfinished one has a file per landed chunk, read in the order of their first
        runs.
        """
        from sim.results.records import RecordLog

        live = RecordLog(self.folder).live_files()
        files = [self.folder / rel for rel in sorted(live) if rel.startswith(f"{name}/")]
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
