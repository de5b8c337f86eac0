"""The record log of a batch folder: chunk records decoded once while they stay the same."""

from __future__ import annotations

import json
from pathlib import Path

from sim.results.layout import PARTS
from sim.results.records import RecordLog
from sim.results.store import atomic_path


def _write(path: Path, index: int) -> None:
    record = {"runs": [{"index": index, "run": {"run_id": f"r{index}"}, "rows": {}}],
              "checksums": {}}  # fmt: skip
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record))


def test_a_record_is_decoded_once_and_again_when_replaced(tmp_path: Path) -> None:
    path = tmp_path / PARTS / "0-a.json"
    _write(path, 0)
    log = RecordLog(tmp_path)
    first = log.read_chunk(path)
    assert log.read_chunk(path) is first  # the same file: not decoded again
    assert [e["index"] for _, e in log.entries()] == [0]
    _write(path, 7)  # replaced whole, as the batch writes records
    assert log.read_chunk(path) is not first
    assert [e["index"] for _, e in log.entries()] == [7]
    assert [e["run"]["run_id"] for _, e in RecordLog(tmp_path).entries()] == ["r7"]
