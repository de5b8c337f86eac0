"""Keeping the objects a batch starts with out of the garbage collector's passes while it runs.

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

import gc


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
