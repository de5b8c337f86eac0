"""Chunks cut to the runs' time as they are handed out: sim.experiments.chunking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.experiments.chunking as chunking
from sim import run_batch
from sim.experiments.chunking import MAX_CHUNK, Chunks


def _landed(seconds: float, n: int = 1) -> list[dict[str, object]]:
    return [{"run": {"wall_s": seconds}} for _ in range(n)]


def test_chunks_hold_a_run_until_a_run_has_landed() -> None:
    chunks = Chunks(range(10), workers=1)
    assert chunks.size() == 1 and chunks.popleft() == (0,)
    chunks.landed([{"run": {"wall_s": 0.0}}, {"run": {}}, {"index": 3}])  # lost runs: no time
    assert chunks.size() == 1


def test_a_chunk_holds_about_half_a_second_of_runs() -> None:
    chunks = Chunks(range(1_000), workers=1)
    chunks.popleft()
    chunks.landed(_landed(0.02, 4))
    assert chunks.size() == round(chunking.TARGET_S / 0.02) == 25
    chunks.landed(_landed(3.0))  # one slow run: the mean is (0.08 + 3) / 5 s
    assert chunking.TARGET_S * 5 / 3.08 < 1 and chunks.size() == 1
    fast = Chunks(range(1_000), workers=1)
    fast.landed(_landed(1e-5))
    assert fast.size() == MAX_CHUNK


def test_with_workers_chunks_shorten_as_the_batch_nears_its_end() -> None:
    chunks = Chunks(range(400), workers=2)
    chunks.popleft()
    chunks.landed(_landed(0.01))  # 50 runs of time a chunk
    sizes = []
    while chunks:
        sizes.append(len(chunks.popleft()))
    assert sizes[0] == 50 and sizes[-3:] == [1, 1, 1]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == 399
    # no chunk holds more than a quarter of the runs left when it was cut
    left = 399
    for size in sizes:
        assert size <= max(1, -(-left // 4))
        left -= size


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 300), workers=st.integers(1, 8),
    moves=st.lists(st.tuples(st.booleans(), st.floats(0.0, 2.0)), max_size=400),
)  # fmt: skip
def test_every_run_is_handed_out_once_in_consecutive_chunks(
    n: int, workers: int, moves: list[tuple[bool, float]]
) -> None:
    chunks = Chunks(range(n), workers=workers)
    taken: list[tuple[int, ...]] = []
    for from_end, seconds in moves:
        if not chunks:
            break
        chunk = chunks.pop() if from_end else chunks.popleft()
        assert chunk and list(chunk) == list(range(chunk[0], chunk[0] + len(chunk)))
        assert len(chunk) <= MAX_CHUNK
        taken.append(chunk)
        chunks.landed(_landed(seconds, len(chunk)))
    while chunks:
        taken.append(chunks.popleft())
    assert sorted(run for chunk in taken for run in chunk) == list(range(n))
    assert len(chunks) == 0 and not chunks


def test_a_batch_of_short_runs_lands_in_few_chunks(tmp_path: Path) -> None:
    seen: list[int] = []
    res = run_batch(["crackdown"], replicates=40, months=6, executor="serial", out=tmp_path / "b",
                    progress=lambda done, failed, total: seen.append(done))  # fmt: skip
    assert res.complete and seen[0] == 0 and seen[-1] == 40
    assert seen[1] == 1  # the first chunk is one run: its time sizes the next
    assert len(seen) <= 4  # a 6-month run takes milliseconds: the rest fits in one or two


def test_runs_slower_than_the_target_go_one_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunking, "TARGET_S", 1e-9)  # every run is slower than this
    seen: list[int] = []
    run_batch(["crackdown"], replicates=5, months=3, executor="serial", out=tmp_path / "b",
              progress=lambda done, failed, total: seen.append(done))  # fmt: skip
    assert seen == [0, 1, 2, 3, 4, 5]
