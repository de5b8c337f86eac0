"""Writing files atomically (sim.results.store)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.results import store


def _through_atomic_path(target: Path, data: bytes) -> None:
    with store.atomic_path(target) as tmp:
        tmp.write_bytes(data)


WRITERS: dict[str, Callable[[Path, bytes], None]] = {
    "write_bytes_atomic": store.write_bytes_atomic,
    "atomic_path": _through_atomic_path,
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS)
def test_bytes_land_whole_in_a_made_folder_with_the_umask_permissions(
    tmp_path: Path, write: Callable[[Path, bytes], None]
) -> None:
    target = tmp_path / "new" / "part.parquet"
    write(target, b"first")
    write(target, b"second, longer")  # replaces the file
    assert target.read_bytes() == b"second, longer"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["part.parquet"]


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS)
def test_a_temporary_file_left_by_a_killed_process_is_stepped_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[Path, bytes], None]
) -> None:
    monkeypatch.setattr(store, "_temporary_names", itertools.count())
    stale = tmp_path / f".part.parquet.{os.getpid()}-0.tmp"
    stale.write_bytes(b"stale")
    write(tmp_path / "part.parquet", b"data")
    assert (tmp_path / "part.parquet").read_bytes() == b"data"
    assert stale.read_bytes() == b"stale"  # not written over (a batch's clean-up removes it)


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS)
def test_a_failed_write_raises_and_leaves_no_temporary_file(
    tmp_path: Path, write: Callable[[Path, bytes], None]
) -> None:
    target = tmp_path / "part.parquet"
    target.mkdir()  # the rename over it fails
    with pytest.raises(OSError):
        write(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.parquet"]
