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
"""

from __future__ import annotations

import contextlib
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
                _limiter.restore_original_limits()
                _limiter = None
