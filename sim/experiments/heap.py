"""Keeping the garbage collector's passes out of a batch's way while it runs.

CPython's cyclic garbage collector walks every object of its oldest generation each time it
collects that generation. A process about to run a batch holds some 190,000 such objects (the
modules of policysim, pandas and Mesa, and Numba's compiled kernels once loaded), and none of
them is garbage; walking them costs about 0.5 ms of each 12 ms history run, on average, and
more in the runs that happen to trigger a full collection. :func:`freeze` moves them to the
collector's permanent generation (:func:`gc.freeze`), and :func:`thaw` moves them back when the
batch ends (:func:`gc.unfreeze`). Objects made while the batch runs are collected as before; a
cycle of garbage that exists when it starts is collected after it ends.

Workers forked while the heap is frozen start with it frozen: their collector never writes to
the objects they share with the parent, so the shared memory pages stay shared instead of being
copied one by one (the use :func:`gc.freeze` documents).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


def freeze() -> bool:
    """Freeze the objects this process holds now; return whether this call froze them.

    A process whose heap is frozen already (by its own code, or by an enclosing batch) is left as
    it is, and the call returns ``False``: only the call that froze it should thaw it.
    """
    if gc.get_freeze_count():
        return False
    gc.freeze()
    return True


def thaw() -> None:
    """Return the frozen objects to the collector's oldest generation (after :func:`freeze`)."""
    gc.unfreeze()


#: Net allocations of tracked objects after which the youngest generation is collected while runs
#: run (CPython's default is 700). See :func:`fewer_collections`.
RUN_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation less often while the block runs (runs of a chunk).

    A history run builds a few thousand objects that live until it ends and are then freed by
    their reference counts. With CPython's default threshold, the collector walks them about
    every second run and finds nothing to free: 0.15 ms of a 10.5 ms run. At
    :data:`RUN_THRESHOLD` it rarely runs during a run; garbage in cycles is still collected
    when the allocations pass the threshold. Blocks may nest and overlap in threads: the first
    to enter raises the threshold and the last to leave restores it. A process whose first
    threshold is 0 (automatic collection off) or above :data:`RUN_THRESHOLD` is left as it is.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            first = gc.get_threshold()
            _saved = first if 0 < first[0] < RUN_THRESHOLD else None
            if _saved is not None:
                gc.set_threshold(RUN_THRESHOLD, *first[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
