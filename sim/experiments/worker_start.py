"""Starting worker processes that never run the user's main script again.

With the ``forkserver`` and ``spawn`` start methods, :mod:`multiprocessing` runs the parent's main
script again in every new process (as ``__mp_main__``) so that functions defined there can be
found. A script that calls :func:`sim.run_batch` without an ``if __name__ == "__main__":`` guard
would then start a batch inside every worker, and the workers die; a script piped to ``python -``
has no file that could be run again at all. Batch workers need nothing from the main script: the
task (:func:`sim.experiments.chunks.execute_chunk`) and its arguments live in ``sim``. The
contexts here start processes exactly as the standard ones do, except that the child is not told
about the main module.

The standard ``_launch`` of each start method is reused as it is: its code object is rebound to
globals in which ``spawn`` is :class:`_SpawnWithoutMain`, so nothing of the standard library is
copied or patched.
"""

from __future__ import annotations

import sys
import types
from multiprocessing import context, spawn
from typing import Any

__all__ = ["without_main"]


class _SpawnWithoutMain:
    """:mod:`multiprocessing.spawn`, its preparation data never naming the main module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(spawn, name)

    @staticmethod
    def get_preparation_data(name: str) -> dict[str, Any]:
        """Return what a new process needs to start, without the main module to run again."""
        data = spawn.get_preparation_data(name)
        data.pop("init_main_from_name", None)
        data.pop("init_main_from_path", None)
        return data


def _rebound(method: Any, module: types.ModuleType) -> Any:
    """Return ``method`` with the globals of ``module``, its ``spawn`` replaced."""
    namespace = {**vars(module), "spawn": _SpawnWithoutMain()}
    return types.FunctionType(method.__code__, namespace, method.__name__, method.__defaults__,
                              method.__closure__)  # fmt: skip


if sys.platform != "win32":
    from multiprocessing import popen_forkserver, popen_spawn_posix

    class _ForkServerPopen(popen_forkserver.Popen):
        """Starts a process through the fork server without the main module."""

        _launch = _rebound(popen_forkserver.Popen._launch, popen_forkserver)  # type: ignore[attr-defined]

    class _SpawnPopen(popen_spawn_posix.Popen):
        """Spawns a fresh interpreter without the main module."""

        _launch = _rebound(popen_spawn_posix.Popen._launch, popen_spawn_posix)  # type: ignore[attr-defined]

    class ForkServerProcess(context.ForkServerProcess):
        """A fork-server process that does not run the main script again."""

        @staticmethod
        def _Popen(process_obj: Any) -> Any:  # noqa: N802 (the standard library's name)
            return _ForkServerPopen(process_obj)

    class SpawnProcess(context.SpawnProcess):
        """A spawned process that does not run the main script again."""

        @staticmethod
        def _Popen(process_obj: Any) -> Any:  # noqa: N802 (the standard library's name)
            return _SpawnPopen(process_obj)

    class ForkServerContext(context.ForkServerContext):
        """The ``forkserver`` context, its processes started without the main module."""

        Process = ForkServerProcess

    class SpawnContext(context.SpawnContext):
        """The ``spawn`` context, its processes started without the main module."""

        Process = SpawnProcess

    _CONTEXTS: dict[str, type[context.BaseContext]] = {
        "forkserver": ForkServerContext,
        "spawn": SpawnContext,
    }
else:  # Windows starts processes differently; there the main-module guard stays needed.
    _CONTEXTS = {}


def without_main(ctx: context.BaseContext) -> context.BaseContext:
    """Return a context like ``ctx`` whose processes do not run the main script again.

    Args:
        ctx: A ``forkserver`` or ``spawn`` context (any other is returned as it is).

    Returns:
        The context to give :class:`concurrent.futures.ProcessPoolExecutor`.
    """
    factory = _CONTEXTS.get(ctx.get_start_method())
    return factory() if factory is not None else ctx
