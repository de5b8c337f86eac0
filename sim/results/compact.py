"""Compacting a batch folder when the batch ends, and tidying what a stopped batch left.

:func:`compact` merges every dataset's live files into one file, ``<dataset>/part-<g>.parquet``,
with the rows in canonical run order whatever order the chunks landed in (so a resumed batch and
one run in one go, serial or parallel, write the same bytes), and every record into
``parts/compacted.jsonl``. Memory stays flat: each source file is read a batch of rows at a time,
and rows go out in row groups of :data:`ROW_GROUP` rows.

The order of writes keeps the folder readable at every moment: the new dataset files first (no
record names them yet), then the compacted record (from then on it holds every run, and the chunk
records it supersedes are ignored), then the superseded files are removed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.results.layout import COMPACTED_STEM, DATASETS, PARTS, record_files
from sim.results.records import RecordLog, Source
from sim.results.store import atomic_path, dictionary_columns
from sim.results.verify import file_digest

log = logging.getLogger(__name__)

ROW_GROUP = 8_192
"""Rows per row group of a compacted file."""


class _Cursor:
    """Reads a Parquet file's rows in order, a slice at a time."""

    def __init__(self, path: Path) -> None:
        self._file = pq.ParquetFile(path)
        self._batches = self._file.iter_batches(batch_size=ROW_GROUP, use_threads=False)
        self._buffer: pa.Table | None = None

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


def _merged(folder: Path, segments: list[tuple[int, str, int]]) -> Iterator[pa.Table]:
    """Yield the segments' rows in order, a row group at a time.

    Every row group but the last holds exactly :data:`ROW_GROUP` rows, wherever the chunks of
    the batch began and ended, and its columns are contiguous, so that the compacted file is the
    same however the runs were chunked (serially or on workers).
    """
    left: dict[str, int] = {}
    for _, file, _ in segments:
        left[file] = left.get(file, 0) + 1
    cursors: dict[str, _Cursor] = {}
    buffer: list[pa.Table] = []
    size = 0
    for _, file, rows in segments:
        cursor = cursors.get(file) or cursors.setdefault(file, _Cursor(folder / file))
        buffer.append(cursor.take(rows))
        size += rows
        left[file] -= 1
        if not left[file]:
            cursors.pop(file).close()
        if size >= ROW_GROUP:
            table = pa.concat_tables(buffer, promote_options="default")
            whole = size - size % ROW_GROUP
            yield table.slice(0, whole).combine_chunks()
            buffer, size = ([table.slice(whole)], size - whole) if size > whole else ([], 0)
    if buffer:
        yield pa.concat_tables(buffer, promote_options="default").combine_chunks()


def _write_dataset(folder: Path, target: str, segments: list[tuple[int, str, int]]) -> None:
    """Write the segments' rows to ``target`` atomically."""
    with atomic_path(folder / target) as tmp:
        writer = None
        try:
            for table in _merged(folder, segments):
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema,
                                              use_dictionary=dictionary_columns(table.schema))
                writer.write_table(table.cast(writer.schema), row_group_size=ROW_GROUP)
        finally:
            if writer is not None:
                writer.close()


def compact(folder: Path) -> None:
    """Merge the folder's dataset files into one per dataset and its records into one.

    Args:
        folder: A batch folder whose runs have all landed.
    """
    log_ = RecordLog(folder)
    header = log_.header()
    chunk_paths = record_files(folder)
    if header is not None and not chunk_paths:
        return  # already compacted, nothing landed since
    generation = int(header["generation"]) + 1 if header else 0
    sources, found = _segments(log_)
    old = {rel for s in sources for rel in s.checksums}
    checksums: dict[str, str] = {}
    for dataset, segments in found.items():
        if segments:
            target = f"{dataset}/{COMPACTED_STEM}{generation:03d}.parquet"
            _write_dataset(folder, target, segments)
            checksums[target] = file_digest(folder / target)
    entries = (entry for _, entry in log_.entries(sources))
    count = 0
    with atomic_path(log_.compacted_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"generation": generation, "checksums": checksums}))
        fh.write("\n")
        for entry in entries:
            fh.write(json.dumps(entry, default=str) + "\n")
            count += 1
    for path in chunk_paths:
        path.unlink(missing_ok=True)
    for rel in old - set(checksums):
        (folder / rel).unlink(missing_ok=True)
    remove_unrecorded(folder)
    log.debug("compacted %d runs of %s", count, folder)


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

