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
import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

from sim.errors import PolicysimError
from sim.experiments.lifetime import watch_parent

log = logging.getLogger(__name__)

T = TypeVar("T")
ExecutorKind = Literal["serial", "processes", "dask"]
EXECUTOR_KINDS: tuple[str, ...] = ("serial", "processes", "dask")
MAX_WORKERS_PER_CORE = 4


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

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Schedule ``fn(*args)`` and return a future with ``result()``, ``cancel()``."""

    @abc.abstractmethod
    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop the workers; with ``cancel``, drop tasks that have not started."""

    def describe(self) -> dict[str, Any]:
        """Return what the manifest records about the executor."""
        return {"kind": self.kind, "workers": self.n_workers}

    def window(self) -> int:
        """Return how many tasks to keep in flight: enough to keep every worker busy."""
        return max(2, 2 * self.n_workers)

    def imap_unordered(
        self, fn: Callable[[T], Any], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[T, Any]]:
        """Run ``fn`` on every item, at most ``window`` at a time, yielding as each finishes.

        Args:
            fn: A picklable module-level function of one argument.
            items: The arguments, submitted in order.
            window: Tasks in flight at once (default :meth:`window`).

        Yields:
            ``(item, future)`` pairs in completion order; ``future.result()`` gives the value or
            raises the task's exception. Unfinished tasks are cancelled if the loop stops early.
        """
        size = window or self.window()
        source = iter(items)
        pending: dict[Any, T] = {}
        try:
            for item in source:
                pending[self.submit(fn, item)] = item
                if len(pending) >= size:
                    break
            while pending:
                done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future
                    nxt = next(source, None)
                    if nxt is not None:
                        pending[self.submit(fn, nxt)] = nxt
        finally:
            for future in pending:
                future.cancel()

    def __enter__(self) -> RunExecutor:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.shutdown(cancel=exc_type is not None)


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

    def window(self) -> int:
        """Return 1: tasks run as they are submitted."""
        return 1

    def shutdown(self, *, cancel: bool = False) -> None:
        """Nothing to stop."""


BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(parent: int) -> None:
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
def _one_blas_thread() -> Iterator[None]:
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

    ``forkserver`` with ``sim.model.runner`` preloaded where the platform has it (workers start fast
    and never inherit the parent's threads), else ``spawn``. Mesa sets the global start method to
    ``spawn`` on import, so the context is always chosen explicitly. Worker processes use one BLAS
    thread each (as Dask's workers do), so that two workers on two cores do not oversubscribe them.
    """
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        from multiprocessing import forkserver

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.model.runner", "sim.experiments.execution"])
        with _one_blas_thread():
            forkserver.ensure_running()  # the server imports NumPy now, with these variables
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessExecutor(RunExecutor):
    """Runs tasks on a local pool of worker processes.

    Args:
        workers: Number of processes (default: the number of CPU cores).
    """

    kind = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.n_workers = max(1, workers or os.cpu_count() or 1)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.n_workers, mp_context=process_context(), initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future[Any]:
        """Schedule ``fn(*args)`` on the pool."""
        try:
            return self._pool.submit(fn, *args)
        except cf.BrokenExecutor as exc:
            raise WorkersLostError(f"the process pool stopped working: {exc}") from None

    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop the pool, waiting for running tasks."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)


class DaskExecutor(RunExecutor):
    """Runs tasks on a Dask distributed cluster.

    Without ``scheduler``, starts a :class:`distributed.LocalCluster` of ``workers`` processes
    with one thread each and closes it afterwards; with ``scheduler`` (``tcp://host:8786``),
    connects to a running cluster and leaves it running.

    Args:
        workers: Worker processes of the local cluster (default: the number of CPU cores).
        scheduler: Address of a running scheduler.

    Raises:
        ExecutorError: When Dask is not installed, the scheduler cannot be reached, or a
            worker runs another version of policysim.
    """

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(
                "the dask executor needs dask.distributed: pip install -e '.[dask]'"
            ) from None
        self.scheduler = scheduler
        self._cluster = None
        self._quiet = _QuietDistributed()
        try:
            if scheduler is None:
                with warnings.catch_warnings():  # its HTTP server moves off a busy port 8787
                    warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
                    self._cluster = LocalCluster(
                        n_workers=max(1, workers or os.cpu_count() or 1), threads_per_worker=1,
                        processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                    )  # fmt: skip
                self._client = Client(self._cluster)
            else:
                self._client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            self.shutdown()
            raise ExecutorError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        self.n_workers = max(1, sum(self._client.nthreads().values()))
        self._check_versions()

    def _check_versions(self) -> None:
        """Refuse workers that run another policysim (their runs would not match their keys)."""
        from sim import __version__

        found = self._client.run(_worker_version)
        wrong = {w: v for w, v in found.items() if v != __version__}
        if wrong:
            worker, version = next(iter(wrong.items()))
            self.shutdown()
            raise ExecutorError(
                f"Dask worker {worker} runs policysim {version}, this machine {__version__}; "
                "install the same version on every worker"
            )

    def describe(self) -> dict[str, Any]:
        """Return the kind, thread count and scheduler address."""
        return {"kind": self.kind, "workers": self.n_workers, "scheduler": self.scheduler}

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Schedule ``fn(*args)`` on the cluster; returns a :class:`distributed.Future`."""
        return self._client.submit(fn, *args, pure=False)

    def imap_unordered(
        self, fn: Callable[[T], Any], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[T, Any]]:
        """Like :meth:`RunExecutor.imap_unordered`, with :func:`distributed.as_completed`."""
        from distributed import as_completed

        size = window or self.window()
        source = iter(items)
        pending: dict[str, tuple[Any, T]] = {}
        for item in source:
            future = self.submit(fn, item)
            pending[future.key] = (future, item)
            if len(pending) >= size:
                break
        queue = as_completed([f for f, _ in pending.values()])
        try:
            for future in queue:
                _, item = pending.pop(future.key)
                yield item, future
                future.release()
                nxt = next(source, None)
                if nxt is not None:
                    new = self.submit(fn, nxt)
                    pending[new.key] = (new, nxt)
                    queue.add(new)
        finally:
            queue.clear()
            if pending:
                self._client.cancel([f for f, _ in pending.values()])

    def shutdown(self, *, cancel: bool = False) -> None:
        """Close the client, and the local cluster if this executor started it."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._quiet.restore()


class _QuietDistributed:
    """Set ``distributed``'s loggers to WARNING while the executor lives, unless ``sim -v``.

    A local cluster's scheduler and nannies run here and log each start and connection at INFO.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger("distributed")
        self._level: int | None = None
        if not log.isEnabledFor(logging.INFO):
            self._level = self._logger.level
            self._logger.setLevel(logging.WARNING)

    def restore(self) -> None:
        """Give the ``distributed`` logger back the level it had."""
        if self._level is not None:
            self._logger.setLevel(self._level)
            self._level = None


def _worker_version() -> str:
    """Return the policysim version a Dask worker imports."""
    from sim import __version__

    return __version__


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
        raise ExecutorError(f"--workers: must be at least 1, given {workers}")
    most = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if workers is not None and scheduler is None and workers > most:
        raise ExecutorError(
            f"--workers: allowed: 1 to {most} ({MAX_WORKERS_PER_CORE} per CPU core of this "
            f"machine), given {workers}"
        )
    if kind is None:
        kind = "dask" if scheduler else ("serial" if workers == 1 else "processes")
    if kind not in EXECUTOR_KINDS:
        raise ExecutorError(f"--executor: allowed: {', '.join(EXECUTOR_KINDS)}; given {kind!r}")
    if scheduler and kind != "dask":
        raise ExecutorError(f"--scheduler needs --executor dask, given --executor {kind}")
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
    return DaskExecutor(workers, scheduler)
