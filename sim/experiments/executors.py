"""Where runs execute: in this process, on a local process pool, or on a Dask cluster.

The three executors share one small interface in the style of :mod:`concurrent.futures`:
``submit(fn, *args)`` returns a future, :meth:`RunExecutor.imap_unordered` keeps a bounded
number of tasks in flight and yields each ``(item, future)`` as it finishes, and the executor is a
context manager that shuts its workers down. Keeping only a window of tasks in flight is what
keeps memory flat however many runs a batch has.

Results never depend on the executor: every run is a pure function of its scenario and seed.
"""

from __future__ import annotations

import abc
import collections
import concurrent.futures as cf
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Generator, Iterable
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from sim.errors import PolicysimError
from sim.experiments import heap
from sim.experiments.pool_start import init_worker, process_context
from sim.model.blas import one_blas_thread

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ExecutorKind = Literal["serial", "processes", "dask"]
EXECUTOR_KINDS: tuple[str, ...] = ("serial", "processes", "dask")
MAX_WORKERS_PER_CORE = 4
POLL_S = 2.0
"""How long to wait for a task before calling ``on_idle`` (and checking a Dask cluster), seconds."""


@runtime_checkable
class ItemSource(Protocol[T_co]):
    """Items handed out as they are taken, from the front or the back (a deque is one).

    :class:`sim.experiments.chunking.Chunks` is another: it cuts each chunk as it is taken.
    """

    def __len__(self) -> int:
        """How many items are left."""
        ...

    def popleft(self) -> T_co:
        """Take the next item."""
        ...

    def pop(self) -> T_co:
        """Take the last item."""
        ...


class ExecutorError(PolicysimError):
    """Bad executor options, or an executor that cannot start (exit code 2)."""


class WorkersLostError(ExecutorError):
    """The workers stopped in the middle of a batch (exit code 1; run again to resume)."""

    exit_code = 1


class RunExecutor(abc.ABC):
    """Runs tasks and hands back futures, like :class:`concurrent.futures.Executor`.

    Attributes:
        kind: ``serial``, ``processes`` or ``dask``.
        n_workers: How many tasks run at once.
    """

    kind: str = ""
    n_workers: int = 1
    #: Whether entering froze this process's heap (:mod:`sim.experiments.heap`): leaving thaws it.
    _froze: bool = False
    #: The hold on BLAS threads taken on entering, released on leaving.
    _blas: contextlib.ExitStack | None = None

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Schedule ``fn(*args)`` and return a future with ``result()``, ``cancel()``."""

    @abc.abstractmethod
    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop the workers; with ``cancel``, drop tasks that have not started."""

    def describe(self) -> dict[str, Any]:
        """Return what the manifest records about the executor."""
        return {"kind": self.kind, "workers": self.n_workers}

    def release(self) -> None:
        """Let the workers go: no task will be submitted after this call.

        A batch calls it once its last run has landed, so that the workers stop while it writes
        its results; leaving the executor still waits for them. By default it does nothing.
        """
        return None

    def window(self) -> int:
        """Return how many tasks to keep in flight: enough to keep every worker busy."""
        return max(2, 2 * self.n_workers)

    def imap_unordered(
        self,
        fn: Callable[[T], Any],
        items: Iterable[T] | ItemSource[T],
        window: int | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> Generator[tuple[T, Any], None, None]:
        """Run ``fn`` on every item, at most ``window`` at a time, yielding as each finishes.

        Args:
            fn: A picklable module-level function of one argument.
            items: The arguments, submitted in order: an iterable, or an :class:`ItemSource`,
                taken from as tasks are submitted (so it may decide each item then).
            window: Tasks in flight at once (default :meth:`window`).
            on_idle: Called when no task has finished for :data:`POLL_S` seconds.

        Yields:
            ``(item, future)`` pairs in completion order; ``future.result()`` gives the value or
            raises the task's exception. Unfinished tasks are cancelled if the loop stops early.
            While a local pool's workers are starting, this process runs items from the end of
            the list itself, so that starting the pool costs no idle time (results are the same
            wherever an item runs).
        """
        size = window or self.window()
        source: ItemSource[T] = (
            items if isinstance(items, ItemSource) else collections.deque(items)
        )
        pending: dict[Any, T] = {}
        try:
            while source or pending:
                if source and not pending and self._starting():
                    # The workers are still starting: this process runs the last item meanwhile.
                    item = source.pop()
                    yield item, SerialExecutor().submit(fn, item)
                    continue
                while source and len(pending) < size:
                    item = source.popleft()
                    pending[self.submit(fn, item)] = item
                done = self._wait_any(list(pending))
                if not done and on_idle is not None:
                    on_idle()
                for future in done:
                    yield pending.pop(future), future
                    self._forget(future)
        finally:
            if pending:
                self._cancel(list(pending))

    def _starting(self) -> bool:
        """Whether the workers are still starting (a local pool's first task has not run)."""
        return False

    def _wait_any(self, futures: list[Any]) -> set[Any]:
        """Return the futures that finish within :data:`POLL_S` seconds (at least one if any)."""
        return cf.wait(futures, timeout=POLL_S, return_when=cf.FIRST_COMPLETED).done

    def _forget(self, future: Any) -> None:
        """Let go of a finished future once its result is handed over (a local one: nothing)."""
        del future

    def _cancel(self, futures: list[Any]) -> None:
        """Cancel the tasks still in flight when the loop stops early."""
        for future in futures:
            future.cancel()

    def __enter__(self) -> RunExecutor:
        """Freeze this process's heap and hold BLAS to one thread while the executor is in use.

        The heap: see :mod:`sim.experiments.heap`. BLAS: every run holds it to one thread
        (:func:`sim.model.blas.one_blas_thread`); held here for the whole batch, the runs inside
        do not set and restore the thread count one by one. A worker forked while it is held
        starts with one BLAS thread and keeps it: otherwise its first run, giving back the
        parent's two threads, makes OpenBLAS start a thread in the new process, which spins for
        a while after it starts (about 0.1 s of a core taken from the runs, in every worker).
        """
        self._froze = heap.freeze()
        self._blas = contextlib.ExitStack()
        self._blas.enter_context(one_blas_thread())
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.shutdown(cancel=exc_type is not None)
        finally:
            if self._blas is not None:
                self._blas.close()
                self._blas = None
            if self._froze:
                self._froze = False
                heap.thaw()


class SerialExecutor(RunExecutor):
    """Runs each task in this process when it is submitted (no workers, easiest to debug)."""

    kind = "serial"
    n_workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future[Any]:
        """Run ``fn(*args)`` now and return a finished future."""
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # the caller reads it from the future, as with a pool
            future.set_exception(exc)
        return future

    def __enter__(self) -> RunExecutor:
        """Load the compiled kernels, then freeze the heap with them in it.

        The first run would load them anyway (:mod:`sim.experiments.warm_kernels`); loaded first,
        Numba's objects are frozen with the rest.
        """
        from sim.experiments.warm_kernels import warm

        warm()
        return super().__enter__()

    def window(self) -> int:
        """Return 1: tasks run as they are submitted."""
        return 1

    def shutdown(self, *, cancel: bool = False) -> None:
        """Nothing to stop."""


class ProcessExecutor(RunExecutor):
    """Runs tasks on a local pool of worker processes.

    Args:
        workers: Number of processes (default: the number of CPU cores).
    """

    kind = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.n_workers = max(1, workers or os.cpu_count() or 1)
        ctx = process_context()
        self.start_method = ctx.get_start_method()
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.n_workers, mp_context=ctx, initializer=init_worker,
            initargs=(os.getpid(),),
        )
        self._ready: cf.Future[int] | None = None
        self._starter: threading.Thread | None = None
        #: The pool's manager thread (it joins the workers), kept by :meth:`release`.
        self._manager: threading.Thread | None = None
        if self.start_method == "fork":
            # The workers inherit the compiled kernels this process holds: loaded here once,
            # not in every worker of every pool.
            from sim.experiments.warm_kernels import warm

            warm()

    def __enter__(self) -> RunExecutor:
        """Freeze the heap, then start forked workers: they inherit it frozen."""
        super().__enter__()
        if self.start_method == "fork":
            # A forking pool starts all its workers at the first task, in this thread, before the
            # pool's own manager thread: started here, while this is still the only thread. They
            # are ready at once, so no run waits in this process for them (see _starting).
            self.submit(os.getpid)
        return self

    def describe(self) -> dict[str, Any]:
        """Return what the manifest records: the kind, the workers and how they started."""
        return {**super().describe(), "start_method": self.start_method}

    def _starting(self) -> bool:
        """Whether the pool is still starting: no worker has yet run a first, tiny task.

        A forking pool's workers are ready at once. Otherwise the first task is sent from a
        thread, because sending it starts the worker server's first process and waits until the
        server has imported policysim.
        """
        if self.start_method == "fork":
            return False
        if self._starter is None:
            self._starter = threading.Thread(target=self._probe, name="policysim-pool-start",
                                             daemon=True)  # fmt: skip
            self._starter.start()
        if self._starter.is_alive():
            return True
        return self._ready is not None and not self._ready.done()

    def _probe(self) -> None:
        with contextlib.suppress(Exception):  # a broken pool shows in the first real task
            self._ready = self._pool.submit(os.getpid)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future[Any]:
        """Schedule ``fn(*args)`` on the pool."""
        try:
            return self._pool.submit(fn, *args)
        except cf.BrokenExecutor as exc:
            raise WorkersLostError(f"the process pool stopped working: {exc}") from None

    def release(self) -> None:
        """Tell the workers to stop once idle, without waiting (leaving the executor waits)."""
        # A pool told not to wait forgets its manager thread, which joins the workers: kept here,
        # so that shutdown still waits for them.
        self._manager = getattr(self._pool, "_executor_manager_thread", None)
        self._pool.shutdown(wait=False)

    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop the pool, waiting for running tasks and for the workers to end."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        if self._manager is not None:
            self._manager.join()
            self._manager = None


def executor_kind(
    kind: str | None = None, workers: int | None = None, scheduler: str | None = None
) -> str:
    """Check the executor options and return the executor kind to use.

    Args:
        kind: ``serial``, ``processes`` or ``dask``; by default ``processes``, or ``serial`` when
            ``workers`` is 1 (``dask`` when a scheduler is given).
        workers: Worker processes (default: the number of CPU cores).
        scheduler: Address of a running Dask scheduler (``dask`` only).

    Returns:
        The kind.

    Raises:
        ExecutorError: On an unknown kind, a bad worker count, or a scheduler without Dask.
    """
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ExecutorError.about(lambda a: f"{a('workers', workers)}: must be at least 1")
    most = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if workers is not None and scheduler is None and workers > most:
        raise ExecutorError.about(
            lambda a: f"{a('workers', workers)}: allowed: 1 to {most} ({MAX_WORKERS_PER_CORE} "
            "per CPU core of this machine)"
        )
    if kind is None:
        kind = "dask" if scheduler else ("serial" if workers == 1 else "processes")
    if kind not in EXECUTOR_KINDS:
        raise ExecutorError.about(
            lambda a: f"{a('executor', kind)}: allowed: {', '.join(EXECUTOR_KINDS)}"
        )
    if scheduler and kind != "dask":
        raise ExecutorError.about(
            lambda a: f"{a.scheduler} needs {a('executor', 'dask')}, given {a('executor', kind)}"
        )
    return kind


def make_executor(
    kind: str | None = None, workers: int | None = None, scheduler: str | None = None
) -> RunExecutor:
    """Build an executor (see :func:`executor_kind` for the options).

    Returns:
        The executor; use it as a context manager.

    Raises:
        ExecutorError: On bad options, or when the executor cannot start.
    """
    kind = executor_kind(kind, workers, scheduler)
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    from sim.experiments.dask_cluster import DaskExecutor

    return DaskExecutor(workers, scheduler)
