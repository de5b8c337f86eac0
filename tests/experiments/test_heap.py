"""Rare collector passes while the kernels load: sim.experiments.heap.fewer_collections."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from sim.experiments import heap


@pytest.fixture(autouse=True)
def _default_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_threshold_is_raised_inside_and_restored_after_nested_blocks() -> None:
    with heap.fewer_collections():
        assert gc.get_threshold() == (heap.RARE_THRESHOLD, 10, 10)
        with heap.fewer_collections():
            assert gc.get_threshold()[0] == heap.RARE_THRESHOLD
        assert gc.get_threshold()[0] == heap.RARE_THRESHOLD  # the outer block still runs
    assert gc.get_threshold() == (700, 10, 10)


def test_blocks_overlapping_in_threads_restore_the_threshold_once_the_last_leaves() -> None:
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        with heap.fewer_collections():
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with heap.fewer_collections():
        thread.start()
        entered.wait(10)
    assert gc.get_threshold()[0] == heap.RARE_THRESHOLD  # the thread's block is still open
    leave.set()
    thread.join(10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("threshold", [(0, 10, 10), (50_000, 5, 5)])
def test_a_threshold_set_off_or_higher_is_left_as_it_is(threshold: tuple[int, int, int]) -> None:
    gc.set_threshold(*threshold)
    with heap.fewer_collections():
        assert gc.get_threshold() == threshold
    assert gc.get_threshold() == threshold


def test_loading_the_kernels_runs_with_fewer_collections_and_gives_the_threshold_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sim.model.runner as runner
    from sim.experiments.warm_kernels import warm

    seen = []
    run = runner.run_scenario

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold()[0])
        return run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "run_scenario", spy)
    warm.__wrapped__()  # the load itself, past the cache of the first call
    assert seen == [heap.RARE_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)
