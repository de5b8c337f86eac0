"""Compacting as the chunks land (sim.results.compact.CompactionStream) writes compact's bytes."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

import sim.experiments.execution as execution
import sim.results.compact as compact
from sim import run_batch
from sim.experiments.chunks import execute_chunk
from sim.experiments.plan import plan_batch
from sim.results.folder import BatchFolder
from sim.results.layout import record_files

SCENARIOS = ["crackdown", "export_controls"]


def _digests(folder: Path) -> dict[str, str]:
    """Hash every file of the folder but its manifest (which holds times), by relative path."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"]
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_compacted_as_it_lands_has_the_bytes_of_one_compacted_from_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # Small row groups, so that groups span chunks; the folder is copied just before the batch
    # compacts, and the copy compacted from its files.
    monkeypatch.setattr(compact, "ROW_GROUP", 50)
    copy, used = tmp_path / "copy", []
    original = compact.compact

    def spy(folder: Path, stream: compact.CompactionStream | None = None) -> None:
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".*.tmp"))
        used.append(stream is not None and stream.holds(record_files(folder)))
        original(folder, stream)

    monkeypatch.setattr(execution, "compact", spy)
    kw = {"executor": "serial"} if workers == 1 else {"executor": "processes", "workers": 2}
    res = run_batch(SCENARIOS, replicates=3, seed=2, months=8, out=tmp_path / "b", **kw)
    assert res.complete and used == [True]
    original(copy)
    assert _digests(res.folder) == _digests(copy)
    assert sorted(p.name for p in (res.folder / "parts").iterdir()) == ["compacted.jsonl"]
    assert not list(res.folder.rglob(".*.tmp"))


def _landed_chunks(folder: Path, size: int) -> list[tuple[str, int, int, list, dict]]:
    """Run a small batch's chunks and record them in ``folder``, as a batch does.

    A chunk's record has the text ``json.dumps`` gives its runs and checksums.
    """
    plan = plan_batch(SCENARIOS, replicates=2, seed=4, months=6)
    batch = BatchFolder(folder, plan.width)
    landed = []
    for i in range(0, len(plan.specs), size):
        chunk = plan.specs[i:i + size]
        outcome = execute_chunk(chunk)
        stem = batch.stem(chunk[0].index, chunk[0].run_id)
        entries = batch.write_chunk(stem, outcome.records, outcome.parts)
        text = (folder / "parts" / f"{stem}.json").read_text()
        assert text == json.dumps({"runs": outcome.records, "checksums": json.loads(text)[
            "checksums"]}, default=str)  # fmt: skip
        landed.append((stem, chunk[0].index, chunk[-1].index + 1, entries, outcome.parts))
    return landed


def test_chunks_landing_out_of_order_are_taken_in_run_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compact, "ROW_GROUP", 20)
    folder = tmp_path / "b"
    landed = _landed_chunks(folder, size=1)
    shutil.copytree(folder, tmp_path / "files")
    stream = compact.CompactionStream(folder)
    order = list(range(len(landed)))
    random.Random(1).shuffle(order)
    assert order != sorted(order)
    for i in order:
        stream.add(*landed[i])
    assert stream.holds(record_files(folder))
    compact.compact(folder, stream)
    compact.compact(tmp_path / "files")
    assert _digests(folder) == _digests(tmp_path / "files")


def test_a_stream_missing_a_chunk_is_dropped_and_the_batch_compacts_from_its_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "b"
    landed = _landed_chunks(folder, size=2)
    shutil.copytree(folder, tmp_path / "files")
    stream = compact.CompactionStream(folder)
    for chunk in landed[1:]:  # the first never reaches the stream: the rest wait for it
        stream.add(*chunk)
    assert not stream.holds(record_files(folder))
    assert list(folder.rglob(".*.tmp"))  # the stream's files, until it is dropped
    compact.compact(folder, stream)
    compact.compact(tmp_path / "files")
    assert _digests(folder) == _digests(tmp_path / "files")
    assert not list(folder.rglob(".*.tmp"))


def test_a_chunk_out_of_the_batch_order_drops_the_stream(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    landed = _landed_chunks(folder, size=2)
    stream = compact.CompactionStream(folder)
    stream.add(*landed[0])
    stream.add(*landed[0])  # the same chunk twice: not this batch's order
    assert not stream.holds(record_files(folder)) and not list(folder.rglob(".*.tmp"))
    stream.discard()  # dropping twice does nothing


def test_an_interrupted_batch_leaves_no_file_of_its_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, calls = compact.CompactionStream.add, []

    def add(self: compact.CompactionStream, *args: object) -> None:
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C while the second chunk lands
            raise KeyboardInterrupt
        original(self, *args)

    monkeypatch.setattr(compact.CompactionStream, "add", add)
    common = {"replicates": 3, "seed": 2, "months": 6, "executor": "serial"}
    with pytest.raises(KeyboardInterrupt):
        run_batch(SCENARIOS, out=tmp_path / "b", **common)
    assert not list((tmp_path / "b").rglob(".*.tmp"))
    res = run_batch(SCENARIOS, out=tmp_path / "b", **common)  # resumes, compacts from files
    assert res.complete and res.manifest["counts"]["done"] == 6
