"""The Dask executor: runs on a local or remote Dask distributed cluster.

It keeps a window of tasks in flight like the other executors (:mod:`sim.experiments.executors`),
and while no task finishes it checks the cluster: a cluster left without any worker for
:data:`DASK_NO_WORKER_S` seconds, or a scheduler that cannot be reached, stops the batch with a
:class:`~sim.experiments.executors.WorkersLostError` instead of waiting forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from sim.experiments import executors
from sim.experiments.executors import ExecutorError, RunExecutor, WorkersLostError

log = logging.getLogger(__name__)

T = TypeVar("T")
DASK_NO_WORKER_S = 60.0
"""How long a Dask cluster may have no worker before the batch stops (seconds)."""


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
        self._idle_since: float | None = None
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

    def _wait_any(self, futures: list[Any]) -> set[Any]:
        """Wait like :meth:`RunExecutor._wait_any`; when none finishes, check the cluster.

        Raises:
            WorkersLostError: When the cluster has had no worker for :data:`DASK_NO_WORKER_S`
                seconds, or the scheduler cannot be reached.
        """
        from distributed import wait

        try:
            done: set[Any] = wait(futures, executors.POLL_S, "FIRST_COMPLETED").done
        except TimeoutError:
            done = set()
        self._idle_since = None if done else self._check_workers(self._idle_since)
        return done

    def _forget(self, future: Any) -> None:
        """Release the future's result on the cluster."""
        future.release()

    def _cancel(self, futures: list[Any]) -> None:
        """Cancel the tasks still in flight, if the cluster can still be reached."""
        with contextlib.suppress(Exception):
            self._client.cancel(futures)

    def _check_workers(self, idle_since: float | None) -> float | None:
        """Return since when the cluster has had no worker (None when it has some).

        Raises:
            WorkersLostError: When there has been none for too long, or no scheduler.
        """
        where = self.scheduler or "the local cluster"
        try:
            n = len(self._client.nthreads())
        except Exception as exc:  # the scheduler itself is gone: any error of the connection
            raise WorkersLostError(
                f"lost the Dask scheduler {where} ({type(exc).__name__})"
            ) from None
        if n:
            return None
        now = time.monotonic()
        if idle_since is None:
            log.warning("the Dask cluster %s has no worker; waiting %.0f s for one", where,
                        DASK_NO_WORKER_S)  # fmt: skip
            return now
        if now - idle_since >= DASK_NO_WORKER_S:
            raise WorkersLostError(
                f"every Dask worker of {where} is gone (none for {DASK_NO_WORKER_S:.0f} s)"
            )
        return idle_since

    def shutdown(self, *, cancel: bool = False) -> None:
        """Close the client, and the local cluster if this executor started it.

        Closing a local cluster races its workers' heartbeats: a heartbeat sent as the scheduler
        closes fails, and the worker logs the failure at ERROR with a traceback (a known race
        of ``distributed``'s shutdown). Unless ``sim -v``, the workers of a local cluster that
        finished its batch are first told to log only CRITICAL messages, so that the batch ends
        without that noise. A batch stopped early (``cancel``: Ctrl-C, lost workers) does not
        wait on its workers for that, and a remote cluster's workers are left as they are.
        """
        client = getattr(self, "_client", None)
        if client is not None:
            if self._cluster is not None and self._quiet.active and not cancel:
                with contextlib.suppress(Exception):  # a cluster already gone has no one to tell
                    client.run(_log_only_critical)
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

    @property
    def active(self) -> bool:
        """Whether ``distributed``'s logging is quieted (``sim`` runs without ``-v``)."""
        return self._level is not None

    def restore(self) -> None:
        """Give the ``distributed`` logger back the level it had."""
        if self._level is not None:
            self._logger.setLevel(self._level)
            self._level = None


def _log_only_critical() -> None:
    """In a worker of the local cluster about to close: log only ``distributed``'s CRITICAL."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _worker_version() -> str:
    """Return the policysim version a Dask worker imports."""
    from sim import __version__

    return __version__
