"""How a local pool's worker processes start: the start method, and what each worker sets first.

:func:`process_context` chooses how :class:`sim.experiments.executors.ProcessExecutor` starts its
workers (forked, from a worker server, or spawned), and :func:`init_worker` is what each runs
before its first task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator

from sim.experiments.lifetime import watch_parent
from sim.experiments.worker_start import without_main

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def init_worker(parent: int) -> None:
    """Prepare a worker process: one BLAS thread, Ctrl-C left to the parent, no life after it.

    The parent cancels the queued runs and shuts the pool down; workers finish the run in hand.
    When the parent is killed outright, workers end at once (see
    :mod:`sim.experiments.lifetime`), and the ``forkserver`` with them.

    Args:
        parent: Process id of the process that owns the pool.
    """
    for name in BLAS_VARIABLES:
        os.environ.setdefault(name, "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)


@contextlib.contextmanager
def _blas_variables() -> Iterator[None]:
    """Set the BLAS thread variables (unless set) while a worker-starting process starts."""
    added = [name for name in BLAS_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(added, "1"))
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def process_context() -> multiprocessing.context.BaseContext:
    """Return the multiprocessing context for worker processes.

    * ``fork`` on Linux when this process runs no other thread: the workers start at once with
      everything this process has imported (policysim, NumPy, and the compiled kernels, which the
      pool loads here first: :mod:`sim.experiments.warm_kernels`), and a lock held by another
      thread cannot be inherited, since there is none.
    * Else ``forkserver`` with ``sim.model.runner`` preloaded and the compiled kernels loaded
      (:mod:`sim.experiments.warm_kernels`) where the platform has it: workers start fast and
      never inherit the parent's threads (a progress bar's, a dashboard's, a Dask client's).
    * Else ``spawn``.

    Mesa sets the global start method to ``spawn`` on import, so the context is always chosen
    explicitly. Worker processes use one BLAS thread each (as Dask's workers do), so that two
    workers on two cores do not oversubscribe them. They never run the user's main script again
    (:mod:`sim.experiments.worker_start`), so a script without an ``if __name__ == "__main__":``
    guard can run a parallel batch.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver

        ctx = without_main(multiprocessing.get_context("forkserver"))
        ctx.set_forkserver_preload(
            ["sim.model.runner", "sim.experiments.execution", "sim.experiments.warm_kernels"]
        )
        with _blas_variables():
            forkserver.ensure_running()  # the server imports NumPy now, with these variables
        return ctx
    return without_main(multiprocessing.get_context("spawn"))
