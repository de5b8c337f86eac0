"""The commit log of a batch folder: which runs are recorded, and which files hold their rows.

Two kinds of record files live in ``parts/``:

* a **chunk record** ``parts/<stem>.json``, written once a chunk of runs has landed and after its
  dataset files ``<dataset>/<stem>.parquet``: ``{"runs": [entry, ...], "checksums": {file:
  sha256}}``;
* the **compacted record** ``parts/compacted.jsonl``, written when a batch ends: a first line
  ``{"generation": g, "checksums": {file: sha256}}`` naming the compacted dataset
  files ``<dataset>/part-<g>.parquet``, then one entry per line.

An entry is one run: ``{"index": place in the canonical order, "run": its runs.parquet row,
"summary": its outcomes or null, "rows": rows per dataset}``. A run is recorded once its entry
is in a record file; a chunk record whose runs are in the compacted record is superseded (left by
a batch stopped while compacting) and is ignored, as are files no live record names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ResultsError
from sim.results.layout import COMPACTED, PARTS, record_files


@dataclass(frozen=True)
class Source:
    """A live record file.

    Attributes:
        rel: Its path relative to the batch folder.
        checksums: The dataset files it vouches for, with their SHA-256.
        compacted: Whether it is the compacted record.
    """

    rel: str
    checksums: dict[str, str]
    compacted: bool

    def file_of(self, dataset: str) -> str | None:
        """Return the file of ``dataset`` this record names, if any."""
        return next((rel for rel in self.checksums if rel.startswith(f"{dataset}/")), None)


def read_chunk(path: Path) -> dict[str, Any]:
    """Return a chunk record.

    Raises:
        ResultsError: When it is unreadable or not a chunk record.
    """
    record = _decoded(path, path.read_bytes)
    if not isinstance(record, dict) or not isinstance(record.get("runs"), list):
        raise ResultsError(f"{path}: unreadable run record (no list of runs)")
    return record


def _decoded(path: Path, read: Callable[[], bytes]) -> Any:
    """Return the JSON that ``read`` gives for record file ``path``.

    Raises:
        ResultsError: When it cannot be read or decoded.
    """
    try:
        return json.loads(read())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable run record ({exc})") from None


def _chunk_source(path: Path, record: dict[str, Any]) -> Source:
    """Return a live chunk record as a record file."""
    checksums = record.get("checksums")
    return Source(f"{PARTS}/{path.name}", dict(checksums) if isinstance(checksums, dict) else {},
                  False)  # fmt: skip


class RecordLog:
    """The record files of one batch folder, read lazily.

    Args:
        folder: The batch folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.compacted_path = self.folder / PARTS / COMPACTED

    def header(self) -> dict[str, Any] | None:
        """Return the compacted record's first line, or ``None`` when there is none."""
        if not self.compacted_path.is_file():
            return None
        header = _decoded(self.compacted_path, self._first_line)
        if not isinstance(header, dict) or not isinstance(header.get("checksums"), dict):
            raise ResultsError(f"{self.compacted_path}: unreadable run record (no header)")
        return header

    def _first_line(self) -> bytes:
        with self.compacted_path.open("rb") as fh:
            return fh.readline()

    def compacted_entries(self) -> Iterator[dict[str, Any]]:
        """Yield the compacted record's entries, one line at a time."""
        if not self.compacted_path.is_file():
            return
        try:
            with self.compacted_path.open("rb") as fh:
                fh.readline()
                for line in fh:
                    yield json.loads(line)
        except (OSError, ValueError) as exc:
            raise ResultsError(f"{self.compacted_path}: unreadable run record ({exc})") from None

    def compacted_indices(self) -> set[int]:
        """Return the canonical places of the compacted record's runs."""
        return {int(e["index"]) for e in self.compacted_entries()}

    def chunks(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Yield every chunk record (live or superseded) with its path, in file-name order."""
        for path in record_files(self.folder):
            yield path, read_chunk(path)

    def live_chunks(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Yield the chunk records that hold runs the compacted record does not.

        The compacted record's runs are read only when there is a chunk record to check.
        """
        done: set[int] | None = None
        for path, record in self.chunks():
            runs = record["runs"]
            if not runs:
                continue
            if done is None:
                done = self.compacted_indices()
            if int(runs[0]["index"]) not in done:
                yield path, record

    def compacted_source(self) -> Source | None:
        """Return the compacted record as a live record file, or ``None`` when there is none."""
        header = self.header()
        return None if header is None else Source(f"{PARTS}/{COMPACTED}",
                                                  dict(header["checksums"]), True)  # fmt: skip

    def sources(self) -> list[Source]:
        """Return the live record files: the compacted record first, then live chunk records."""
        compacted = self.compacted_source()
        out = [] if compacted is None else [compacted]
        out += [_chunk_source(path, record) for path, record in self.live_chunks()]
        return out

    def entries(
        self, sources: list[Source] | None = None
    ) -> Iterator[tuple[Source, dict[str, Any]]]:
        """Yield every recorded run's entry with the record that holds it.

        Args:
            sources: :meth:`sources`, when the caller has them and no record has changed since;
                without them, each record file is read once.
        """
        if sources is None:
            compacted = self.compacted_source()
            if compacted is not None:
                for entry in self.compacted_entries():
                    yield compacted, entry
            for path, record in self.live_chunks():
                source = _chunk_source(path, record)
                for entry in record["runs"]:
                    yield source, entry
            return
        for source in sources:
            if source.compacted:
                for entry in self.compacted_entries():
                    yield source, entry
            else:
                record = read_chunk(self.folder / source.rel)
                for entry in record["runs"]:
                    yield source, entry

    def live_files(self) -> dict[str, str]:
        """Return every dataset file a live record names, with its recorded SHA-256."""
        files: dict[str, str] = {}
        for source in self.sources():
            files.update(source.checksums)
        return files

    def find(self, run_id: str) -> tuple[Source, dict[str, Any]] | None:
        """Return the record and entry of run ``run_id``, or ``None``."""
        for source, entry in self.entries():
            if entry.get("run", {}).get("run_id") == run_id:
                return source, entry
        return None
