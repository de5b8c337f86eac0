"""One BLAS thread while a model runs, so that its results do not depend on the thread count.

The model's matrix products (regulators' stringency over every firm's exposure, the expected
enforcement costs, the influence network) go through NumPy's BLAS. With more than one thread,
BLAS splits a long product across threads, and the rows left over after the split take another
code path: at some population sizes (100,003 firms, for one) the state after three months then
differs in the last bits between one thread and two. One thread makes a run's results the same on
every core count, in a serial batch and in every kind of worker, and it costs nothing here: the
products are a few rows by the number of firms, and an idle second BLAS thread only spins.

:func:`one_blas_thread` holds BLAS to one thread (threadpoolctl) while any run of the process is
inside it, and gives back the previous limit when the last one leaves (runs on several threads of
one process share the limit).

Giving the limit back does not start threads that OpenBLAS had stopped. OpenBLAS (built with its
own threads) stops its threads before every ``fork`` and starts them again on the next call that
needs them; setting the thread count starts them at once, and a new OpenBLAS thread spins for about
0.1 s of a core before it sleeps. A process that forked its workers while the limit was held (a
local process pool) would so spend 0.1 s of a core per library on threads it may never use, while
it writes the batch's results. When no other Python thread runs, :func:`one_blas_thread` stops
again, after giving the limit back, the pools it found stopped, so that they start when needed as
after any fork (:func:`_stopped_pools`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_inside = 0
_limiter: Any = None


@functools.cache
def _controller() -> Any:
    """The process's threadpool controller (finding the loaded BLAS libraries takes ~0.3 ms)."""
    import numpy  # noqa: F401  (BLAS is NumPy's: loaded before the controller looks)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Hold BLAS to one thread inside the block (see the module's docstring)."""
    global _inside, _limiter
    with _lock:
        if _inside == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                stopped = _stopped_pools() if threading.active_count() == 1 else []
                _limiter.restore_original_limits()
                _limiter = None
                for stop in stopped:
                    stop()


@functools.cache
def _openblas_pools() -> tuple[tuple[ctypes.c_int, Any], ...]:
    """Each loaded OpenBLAS with its own threads: its ``blas_server_avail`` flag and its stop.

    ``blas_server_avail`` is 1 while the library's threads run and 0 once they are stopped (by
    ``blas_thread_shutdown_``, which OpenBLAS calls before a fork). Libraries built with OpenMP,
    or that do not export both symbols, are left out.
    """
    pools = []
    for lib in _controller().lib_controllers:
        if lib.internal_api != "openblas" or lib.threading_layer != "pthreads":
            continue
        dynlib = lib.dynlib
        try:
            avail = ctypes.c_int.in_dll(dynlib, "blas_server_avail")
            stop = dynlib.blas_thread_shutdown_
        except (AttributeError, ValueError):
            continue
        stop.restype = ctypes.c_int
        pools.append((avail, stop))
    return tuple(pools)


def _stopped_pools() -> list[Any]:
    """Return the stop functions of the OpenBLAS pools whose threads are stopped now."""
    return [stop for avail, stop in _openblas_pools() if avail.value == 0]
