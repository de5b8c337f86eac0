"""Compacting a batch folder when the batch ends, and tidying what a stopped batch left.

:func:`compact` merges every dataset's live files into one file, ``<dataset>/part-<g>.parquet``,
with the rows in canonical run order whatever order the chunks landed in (so a resumed batch and
one run in one go, serial or parallel, write the same bytes), and every record into
``parts/compacted.jsonl``. Memory stays flat: each source file is read a batch of rows at a time,
and rows go out in row groups of :data:`ROW_GROUP` rows.

The order of writes keeps the folder readable at every moment: the new dataset files first (no
record names them yet), then the compacted record (from then on it holds every run, and the chunk
records it supersedes are ignored), then the superseded files are removed.

A batch run in one go (not resumed) also hands every chunk, as it lands, to a
:class:`CompactionStream`: it takes the chunks in run order and feeds the same row groups to
temporary files beside the compacted ones, so that :func:`compact` need not read the chunks
back when the batch ends. The files are the same bytes either way.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.results.layout import COMPACTED, COMPACTED_STEM, DATASETS, PARTS, record_files
from sim.results.records import RecordLog, Source
from sim.results.store import atomic_path, dictionary_columns, new_temporary
from sim.results.verify import file_digest

log = logging.getLogger(__name__)

ROW_GROUP = 8_192
"""Rows per row group of a compacted file."""


class _Cursor:
    """Reads a Parquet file's rows in order, a slice at a time."""

    def __init__(self, path: Path | pa.NativeFile) -> None:
        self._file = pq.ParquetFile(path)
        self._batches = self._file.iter_batches(batch_size=ROW_GROUP, use_threads=False)
        self._buffer: pa.Table | None = None

    @property
    def rows(self) -> int:
        """The file's number of rows."""
        return int(self._file.metadata.num_rows)

    def take(self, n: int) -> pa.Table:
        """Return the next ``n`` rows."""
        parts = [] if self._buffer is None else [self._buffer]
        have = 0 if self._buffer is None else self._buffer.num_rows
        while have < n:
            batch = next(self._batches)
            parts.append(pa.Table.from_batches([batch]))
            have += batch.num_rows
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        self._buffer = table.slice(n)
        return table.slice(0, n)

    def close(self) -> None:
        """Let go of the file."""
        self._file.close()


def _segments(log_: RecordLog) -> tuple[list[Source], dict[str, list[tuple[int, str, int]]]]:
    """Return the live record files and each dataset's (first run index, file, rows), in run order.

    Consecutive runs whose rows follow each other in one file make one segment, so that a chunk
    is read in one piece, not a slice per run. The records are read once for every dataset (the
    record files are those of :meth:`RecordLog.sources`, found in the same reading).
    """
    compacted = log_.compacted_source()
    sources = {} if compacted is None else {compacted.rel: compacted}
    runs: dict[str, list[tuple[int, str, int]]] = {dataset: [] for dataset in DATASETS}
    for source, entry in log_.entries():
        sources.setdefault(source.rel, source)
        counts = entry.get("rows", {})
        for dataset, found in runs.items():
            rows = int(counts.get(dataset, 0))
            file = source.file_of(dataset)
            if rows and file is not None:
                found.append((int(entry["index"]), file, rows))
    out: dict[str, list[tuple[int, str, int]]] = {}
    for dataset, found in runs.items():
        merged: list[tuple[int, str, int]] = []
        for index, file, rows in sorted(found):
            if merged and merged[-1][1] == file:
                merged[-1] = (merged[-1][0], file, merged[-1][2] + rows)
            else:
                merged.append((index, file, rows))
        out[dataset] = merged
    return list(sources.values()), out


def compacted_file(dataset: str, generation: int) -> str:
    """Return a dataset's compacted file of a generation, relative to the batch folder."""
    return f"{dataset}/{COMPACTED_STEM}{generation:03d}.parquet"


class RowGroups:
    """Cuts a run-ordered stream of rows into the row groups of a compacted file.

    Every row group but the last holds exactly :data:`ROW_GROUP` rows, wherever the pieces
    pushed began and ended, and its columns are contiguous, so that the compacted file is the
    same however the runs were chunked (serially or on workers) and pushed.
    """

    def __init__(self) -> None:
        self._buffer: list[pa.Table] = []
        self._size = 0

    def push(self, table: pa.Table) -> list[pa.Table]:
        """Take the next rows; return the row groups they complete (often none)."""
        self._buffer.append(table)
        self._size += table.num_rows
        if self._size < ROW_GROUP:
            return []
        joined = pa.concat_tables(self._buffer, promote_options="default")
        whole = self._size - self._size % ROW_GROUP
        self._buffer = [joined.slice(whole)] if self._size > whole else []
        self._size -= whole
        return [joined.slice(0, whole).combine_chunks()]

    def rest(self) -> list[pa.Table]:
        """Return the last, shorter row group (none when the rows ended on a whole group)."""
        if not self._buffer:
            return []
        joined = pa.concat_tables(self._buffer, promote_options="default").combine_chunks()
        self._buffer, self._size = [], 0
        return [joined]


class DatasetWriter:
    """Writes row groups to a compacted file (opened at the first, with its schema).

    Args:
        path: The file to write (a temporary file, renamed over the target once closed).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, groups: list[pa.Table]) -> None:
        """Write row groups (from :class:`RowGroups`)."""
        for table in groups:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema,
                                                use_dictionary=dictionary_columns(table.schema))
            self._writer.write_table(table.cast(self._writer.schema), row_group_size=ROW_GROUP)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()


def _write_dataset(folder: Path, target: str, segments: list[tuple[int, str, int]]) -> None:
    """Write the segments' rows, in order, to ``target`` atomically."""
    left: dict[str, int] = {}
    for _, file, _ in segments:
        left[file] = left.get(file, 0) + 1
    cursors: dict[str, _Cursor] = {}
    groups = RowGroups()
    with atomic_path(folder / target) as tmp:
        writer = DatasetWriter(tmp)
        try:
            for _, file, rows in segments:
                cursor = cursors.get(file) or cursors.setdefault(file, _Cursor(folder / file))
                writer.write(groups.push(cursor.take(rows)))
                left[file] -= 1
                if not left[file]:
                    cursors.pop(file).close()
            writer.write(groups.rest())
        finally:
            writer.close()


class CompactionStream:
    """The compacted files of a fresh batch, written while its chunks land.

    The chunks are taken in canonical run order; one that lands early waits (with its Parquet
    bytes) until the chunks before it have landed. Each dataset's rows go through the same
    :class:`RowGroups` and :class:`DatasetWriter` as :func:`compact`'s, and each record entry
    to a temporary body of the compacted record, encoded as :func:`compact` encodes it (JSON
    that decodes and encodes again to the same text).

    Args:
        folder: The batch folder, holding no record yet.
        first: The canonical place of the batch's first run.
    """

    def __init__(self, folder: Path, first: int = 0) -> None:
        self.folder = folder
        self._next = first
        self._pending: dict[int, tuple[int, str, list[str], dict[str, bytes]]] = {}
        self._groups = {dataset: RowGroups() for dataset in DATASETS}
        self._writers: dict[str, DatasetWriter] = {}
        self._body_path = new_temporary(folder / PARTS / COMPACTED)
        self._body = self._body_path.open("w", encoding="utf-8")
        self._stems: list[str] = []
        self._open = True

    def add(self, stem: str, first: int, end: int, entries: list[str], parts: dict[str, bytes]
            ) -> None:  # fmt: skip
        """Take a landed chunk (after the folder has recorded it).

        Args:
            stem: Its file stem (its record is ``parts/<stem>.json``).
            first: The canonical place of its first run.
            end: The place after its last run.
            entries: Its entries as JSON, in run order (from ``BatchFolder.write_chunk``).
            parts: Dataset name to the Parquet bytes of its rows.
        """
        if not self._open or first < self._next or first in self._pending:
            self.discard()  # not a chunk of this batch's order: compact from the files
            return
        self._pending[first] = (end, stem, entries, parts)
        while self._next in self._pending:
            end, stem, entries, parts = self._pending.pop(self._next)
            for dataset, data in parts.items():
                cursor = _Cursor(pa.BufferReader(data))
                writer = self._writers.get(dataset)
                if writer is None:
                    target = self.folder / compacted_file(dataset, 0)
                    writer = self._writers[dataset] = DatasetWriter(new_temporary(target))
                writer.write(self._groups[dataset].push(cursor.take(cursor.rows)))
                cursor.close()
            for entry in entries:
                self._body.write(entry + "\n")
            self._stems.append(stem)
            self._next = end

    def holds(self, chunk_records: list[Path]) -> bool:
        """Whether the stream holds exactly these chunk records' runs, and nothing else."""
        return self._open and not self._pending and sorted(self._stems) == sorted(
            path.stem for path in chunk_records)  # fmt: skip

    def finish(self) -> tuple[dict[str, str], Path]:
        """Complete the files; rename the datasets' over their targets.

        Returns:
            Each compacted dataset file (relative to the folder) with its SHA-256, and the path
            of the compacted record's body (the caller moves it).
        """
        self._body.close()
        checksums: dict[str, str] = {}
        for dataset in DATASETS:  # in compact's order, which the record's header keeps
            writer = self._writers.get(dataset)
            if writer is None:
                continue
            writer.write(self._groups[dataset].rest())
            writer.close()
            target = compacted_file(dataset, 0)
            os.replace(writer.path, self.folder / target)
            checksums[target] = file_digest(self.folder / target)
        self._open = False
        return checksums, self._body_path

    def discard(self) -> None:
        """Stop, and remove the temporary files (nothing once finished)."""
        if not self._open:
            return
        self._open = False
        self._body.close()
        self._body_path.unlink(missing_ok=True)
        for writer in self._writers.values():
            writer.close()
            writer.path.unlink(missing_ok=True)


def compact(folder: Path, stream: CompactionStream | None = None) -> None:
    """Merge the folder's dataset files into one per dataset and its records into one.

    Args:
        folder: A batch folder whose runs have all landed.
        stream: The batch's stream, when it ran in one go: its files are used when it holds
            exactly the folder's records, and removed otherwise.
    """
    log_ = RecordLog(folder)
    header = log_.header()
    chunk_paths = record_files(folder)
    if stream is not None and (header is not None or not stream.holds(chunk_paths)):
        stream.discard()
        stream = None
    if header is not None and not chunk_paths:
        return  # already compacted, nothing landed since
    generation = int(header["generation"]) + 1 if header else 0
    if stream is not None:
        checksums, body = stream.finish()
        old = {f"{dataset}/{path.stem}.parquet" for path in chunk_paths for dataset in DATASETS}
    else:
        sources, found = _segments(log_)
        old = {rel for s in sources for rel in s.checksums}
        checksums = {}
        for dataset, segments in found.items():
            if segments:
                target = compacted_file(dataset, generation)
                _write_dataset(folder, target, segments)
                checksums[target] = file_digest(folder / target)
    try:
        with atomic_path(log_.compacted_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps({"generation": generation, "checksums": checksums}))
            fh.write("\n")
            if stream is not None:
                with body.open(encoding="utf-8") as lines:
                    shutil.copyfileobj(lines, fh)
            else:
                for _, entry in log_.entries(sources):
                    fh.write(json.dumps(entry, default=str) + "\n")
    finally:
        if stream is not None:
            body.unlink(missing_ok=True)
    for path in chunk_paths:
        path.unlink(missing_ok=True)
    for rel in old - set(checksums):
        (folder / rel).unlink(missing_ok=True)
    remove_unrecorded(folder)
    log.debug("compacted %s (%s)", folder, "as the chunks landed" if stream else "from the files")


def remove_unrecorded(folder: Path) -> int:
    """Remove dataset files and chunk records no live record vouches for; return how many.

    They are what a batch stopped while writing a chunk or compacting leaves behind.
    """
    sources = RecordLog(folder).sources()
    live = {rel for source in sources for rel in source.checksums}
    keep = {source.rel for source in sources}
    count = 0
    for path in record_files(folder):  # each was read (and found readable) by sources()
        if f"{PARTS}/{path.name}" not in keep:
            path.unlink(missing_ok=True)
            count += 1
    for dataset in DATASETS:
        sub = folder / dataset
        for path in sorted(sub.glob("*.parquet")) if sub.is_dir() else ():
            if f"{dataset}/{path.name}" not in live:
                path.unlink(missing_ok=True)
                count += 1
    return count


def forget(folder: Path, indices: set[int]) -> None:
    """Drop the records of the runs at ``indices`` (failed runs about to run again).

    Failed runs have no rows in any dataset, so only the record files change, each atomically.
    """
    if not indices:
        return
    log_ = RecordLog(folder)
    for path, record in list(log_.chunks()):
        runs = [e for e in record["runs"] if int(e["index"]) not in indices]
        if len(runs) != len(record["runs"]):
            _write_json(path, {**record, "runs": runs})
    header = log_.header()
    if header is not None:
        kept = [e for e in log_.compacted_entries() if int(e["index"]) not in indices]
        with atomic_path(log_.compacted_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header) + "\n")
            fh.writelines(json.dumps(e, default=str) + "\n" for e in kept)


def _write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, default=str))

