"""Compacting a batch folder, and the records a batch keeps in memory between its readings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import sim.experiments.execution as execution
import sim.results.compact as compact
from sim import run_batch
from sim.results.compact import forget
from sim.results.folder import BatchFolder, runs_schema
from sim.results.records import RecordLog


def _files(folder: Path) -> dict[str, bytes]:
    """Every dataset file and record of the folder (what compacting writes), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.parent != folder}  # fmt: skip


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A batch folder as it is when its last run lands, and the same folder once finished."""
    root = tmp_path_factory.mktemp("landed")
    before = root / "before"
    compact_as_usual = execution.compact

    def keep_a_copy(path: Path, records: RecordLog | None = None, **kwargs: Any) -> None:
        shutil.copytree(path, before)
        compact_as_usual(path, records, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(execution, "compact", keep_a_copy)
        mp.setattr(execution, "chunk_size", lambda runs, n: 2)
        mp.setattr(compact, "ROW_GROUP", 10)  # row groups that span chunk files
        done = run_batch(["crackdown", "thaw"], replicates=3, seed=4, months=6,
                         executor="serial", out=root / "after").folder  # fmt: skip
    assert len(list((before / "parts").glob("*.json"))) == 3
    return before, done


@pytest.mark.parametrize(("whole", "ahead"), [(0, 1), (10**9, 1), (10**9, 8)])
def test_reading_files_whole_or_in_batches_compacts_the_same_bytes(
    landed: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: int,
    ahead: int,
) -> None:  # fmt: skip
    before, done = landed
    folder = Path(shutil.copytree(before, tmp_path / "f"))
    monkeypatch.setattr(compact, "ROW_GROUP", 10)
    monkeypatch.setattr(compact, "WHOLE_FILE_ROWS", whole)
    monkeypatch.setattr(compact, "READ_AHEAD", ahead)
    compact.compact(folder)
    assert _files(folder) == _files(done)
    assert [p.name for p in (folder / "parts").iterdir()] == ["compacted.jsonl"]


def test_a_compacted_folder_compacts_again_from_its_large_file(
    landed: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, done = landed
    folder = Path(shutil.copytree(done, tmp_path / "f"))
    monkeypatch.setattr(compact, "ROW_GROUP", 10)
    monkeypatch.setattr(compact, "WHOLE_FILE_ROWS", 5)  # the compacted file is read in batches
    (folder / "parts" / "000099-extra.json").write_text(json.dumps({"runs": [], "checksums": {}}))
    compact.compact(folder)  # a record landed since: compacted again, as generation 1
    log = RecordLog(folder)
    assert log.header()["generation"] == 1
    assert [e["index"] for e in log.compacted_entries()] == [0, 1, 2, 3, 4, 5]
    for dataset in ("timeseries", "stakeholders", "network"):
        assert [p.name for p in (folder / dataset).iterdir()] == ["part-001.parquet"]
        assert (folder / dataset / "part-001.parquet").read_bytes() == \
            (done / dataset / "part-000.parquet").read_bytes()  # fmt: skip


def test_kept_records_are_read_again_once_replaced(landed: tuple[Path, Path], tmp_path: Path
                                                   ) -> None:  # fmt: skip
    before, _ = landed
    folder = Path(shutil.copytree(before, tmp_path / "f"))
    log = RecordLog(folder, keep=4)  # two of the three chunk records (two runs each)
    first = [e for _, e in log.entries()]
    assert [e["index"] for e in first] == [0, 1, 2, 3, 4, 5]
    again = [e for _, e in log.entries()]
    assert [a is b for a, b in zip(first, again, strict=True)] == [True] * 4 + [False] * 2
    forget(folder, {0})  # rewrites the first chunk record
    assert [e["index"] for _, e in log.entries()] == [1, 2, 3, 4, 5]


def test_consolidating_leaves_kept_records_as_they_were_read(
    landed: tuple[Path, Path], tmp_path: Path
) -> None:
    before, _ = landed
    folder = BatchFolder(Path(shutil.copytree(before, tmp_path / "f")))
    read = [json.dumps(e) for _, e in RecordLog(folder.path).entries()]
    schema = runs_schema({}, sweep=False)
    counts = folder.consolidate(schema)
    assert counts == {"done": 6, "failed": 0} == folder.consolidate(schema) == folder.counts()
    assert [json.dumps(e) for _, e in folder.records.entries()] == read


def test_compacting_calls_back_while_the_datasets_are_written(
    landed: tuple[Path, Path], tmp_path: Path
) -> None:
    before, done = landed
    folder = Path(shutil.copytree(before, tmp_path / "f"))
    seen: list[list[str]] = []

    def meanwhile() -> None:
        seen.append([p.name for p in (folder / "parts").iterdir()])

    compact.compact(folder, meanwhile=meanwhile)
    assert seen == [[p.name for p in (before / "parts").iterdir()]]  # no record written yet
    compact.compact(folder, meanwhile=meanwhile)  # nothing to compact: called all the same
    assert len(seen) == 2 and seen[1] == ["compacted.jsonl"]
