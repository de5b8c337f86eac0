"""Keeping the garbage collector's passes out of a batch's way while it runs.

CPython's cyclic garbage collector walks every object of its oldest generation each time it
collects that generation. A process about to run a batch holds some 190,000 such objects (the
modules of policysim, pandas and Mesa, and Numba's compiled kernels once loaded), and none of
them is garbage; walking them costs about 0.5 ms of each 12 ms history run, on average, and
more in the runs that happen to trigger a full collection. :func:`freeze` moves them to the
collector's permanent generation (:func:`gc.freeze`), and :func:`thaw` moves them back when the
batch ends (:func:`gc.unfreeze`). Objects made while the batch runs are collected as before; a
cycle of garbage that exists when it starts is collected after it ends. :func:`fewer_collections`
keeps the collector's passes rare while the compiled kernels load, before the heap is frozen.

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


#: The youngest generation's threshold while :func:`fewer_collections` holds (CPython's default
#: is 700).
RARE_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation less often while the block runs.

    For a block that builds many objects that live as long as the process: loading the compiled
    kernels (:mod:`sim.experiments.warm_kernels`), before the batch freezes the heap. At CPython's
    default threshold, the passes that so many new objects set off now and then include a full
    collection, a walk of every object the process holds (about 55 ms in a process that has
    planned a 400-run batch), and free nothing. At :data:`RARE_THRESHOLD` the load sets off a few
    passes of the youngest generation only. Blocks may nest and overlap in threads: the first to
    enter raises the threshold and the last to leave restores it. A process whose first threshold
    is 0 (automatic collection off) or above :data:`RARE_THRESHOLD` is left as it is.

    (Runs gain nothing measurable from it: the passes it saves during a run come back, larger,
    after it.)
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            first = gc.get_threshold()
            _saved = first if 0 < first[0] < RARE_THRESHOLD else None
            if _saved is not None:
                gc.set_threshold(RARE_THRESHOLD, *first[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
