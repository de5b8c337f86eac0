"""Checksums of a batch's files and their verification (``sim verify``).

Each chunk's dataset files are hashed (SHA-256) from the bytes about to be written, and the digests
go into the chunk's record (``parts/<stem>.json``, written after the files); the compacted record
(``parts/compacted.jsonl``) holds those of the compacted files (see :mod:`sim.results.records`).
Each time the manifest is written it lists, under ``checksums``, the digest of every dataset file
a live record names (taken from the records), of every record file and of the consolidated tables
(``runs.parquet``, ``summary.parquet``, ``design.parquet``). :func:`verify_folder` recomputes them
all; it also checks the files of chunks recorded after the last manifest write (a killed batch)
against their records, and notes files that no record commits (left by a killed batch; a resumed
batch removes them and writes those runs again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import ResultsError
from sim.results.layout import DATASETS, TABLES, read_manifest
from sim.results.records import RecordLog

ALGORITHM = "sha256"
CHUNK_BYTES = 1 << 20


def digest(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file as hex, reading it in chunks.

    Raises:
        OSError: When the file cannot be read.
    """
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def part_checksums(stem: str, parts: dict[str, bytes]) -> dict[str, str]:
    """Return the digests of a chunk's dataset files, keyed by path relative to the batch folder.

    Args:
        stem: The chunk's file stem.
        parts: Dataset name to the Parquet bytes about to be written.

    Returns:
        ``{"timeseries/<stem>.parquet": "<sha256>", ...}``.
    """
    return {f"{name}/{stem}.parquet": digest(data) for name, data in parts.items()}


def manifest_checksums(folder: Path) -> dict[str, Any]:
    """Return the ``checksums`` entry of a batch's manifest.

    Dataset files' digests come from the records (computed before the files were written);
    record files and the consolidated tables are hashed now.

    Args:
        folder: The batch folder.

    Returns:
        ``{"algorithm": "sha256", "files": {relative path: digest}}``, sorted by path.
    """
    files: dict[str, str] = {}
    try:
        sources = RecordLog(folder).sources()
    except ResultsError:
        sources = []  # verify_folder reports it
    for source in sources:
        try:
            files[source.rel] = file_digest(folder / source.rel)
        except OSError:
            continue
        files.update({str(k): str(v) for k, v in source.checksums.items()})
    for name in TABLES:
        if (folder / name).is_file():
            files[name] = file_digest(folder / name)
    return {"algorithm": ALGORITHM, "files": dict(sorted(files.items()))}


@dataclass
class Verification:
    """What :func:`verify_folder` found.

    Attributes:
        folder: The batch folder.
        checked: How many files had their digest compared.
        problems: One line per missing, unreadable or changed file.
        notes: One line per harmless finding (uncommitted parts, runs newer than the manifest).
    """

    folder: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every file matched its recorded digest."""
        return not self.problems


def _check(folder: Path, rel: str, expected: str, report: Verification) -> None:
    """Compare one file's digest with the expected one."""
    path = folder / rel
    report.checked += 1
    try:
        found = file_digest(path)
    except FileNotFoundError:
        report.problems.append(f"{rel}: missing")
        return
    except OSError as exc:
        report.problems.append(f"{rel}: unreadable ({exc.strerror or exc})")
        return
    if found != expected:
        report.problems.append(f"{rel}: checksum mismatch (recorded {expected[:12]}..., "
                               f"found {found[:12]}...)")  # fmt: skip


def verify_folder(folder: str | Path) -> Verification:
    """Recompute and compare the digest of every file a batch or sweep folder records.

    Args:
        folder: The folder.

    Returns:
        The findings; ``.ok`` is true when nothing is missing or changed.

    Raises:
        ResultsError: When the folder is not a batch or sweep folder.
    """
    path = Path(folder)
    manifest = read_manifest(path)
    report = Verification(path)
    listed: dict[str, str] = dict(manifest.get("checksums", {}).get("files", {}))
    if not listed:
        report.notes.append("the manifest lists no checksums (written before policysim "
                            "recorded them, or before any run finished)")  # fmt: skip
    committed: set[str] = set()
    newer = 0
    try:
        sources = RecordLog(path).sources()
    except ResultsError as exc:
        report.problems.append(str(exc))
        sources = []
    for source in sources:
        if source.rel not in listed:
            newer += 1
        for part, expected in source.checksums.items():
            committed.add(part)
            recorded = listed.get(part)
            if recorded is not None and recorded != expected:
                report.problems.append(f"{part}: the manifest and {source.rel} record different "
                                       "checksums")  # fmt: skip
            _check(path, part, str(expected), report)
    for rel, expected in listed.items():
        if rel not in committed:
            _check(path, rel, expected, report)
    if newer:
        report.notes.append(f"{newer} record(s) written after the manifest was last written "
                            "(an interrupted batch): checked against their records")  # fmt: skip
    loose = sorted(set(_dataset_parts(path)) - committed - set(listed))
    if loose:
        report.notes.append(f"{len(loose)} file(s) with no run record, e.g. {loose[0]}: left by "
                            "an interrupted batch; a resumed batch writes them again")  # fmt: skip
    return report


def _dataset_parts(folder: Path) -> Iterable[str]:
    """Yield every dataset part file, relative to the folder."""
    for name in DATASETS:
        sub = folder / name
        if sub.is_dir():
            yield from (f"{name}/{p.name}" for p in sorted(sub.glob("*.parquet")))
