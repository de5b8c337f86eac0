"""Loading compiled kernels from Numba's on-disk cache without first preparing to compile.

Before Numba's cache (``cache=True``) loads a compiled function, it refreshes the CPU target:
it imports and registers every implementation Numba has (strings, dictionaries, sets, random
generators, polynomials, datetimes, ...). A compiler needs them; machine code read from the cache
does not, since it calls only Numba's runtime (its allocator) and the helpers it was linked with.
In a process that starts a batch, the refresh is about 0.07 s of the 0.3 s that loading the
kernels takes, and every batch, serial or on a pool, waits for it before its first run.

:class:`LoadingCache` is Numba's own :class:`numba.core.caching.FunctionCache` with that one step
changed: before loading, it starts Numba's runtime, which the loaded code calls, and nothing
else. A function that is not in the cache (a first run, edited source, a new argument type) is
compiled exactly as before: Numba's compiler refreshes the target itself before it compiles
(``numba.core.compiler.CompilerBase``), and loaded and compiled code are the same machine code.

:func:`give_loading_cache` checks that this Numba has the internals the class relies on; where
it has not (another Numba version), a dispatcher keeps Numba's cache and loads as before. This
module imports Numba: :func:`sim.model.kernels.compile_kernels` imports it when it compiles.
"""

from __future__ import annotations

from typing import Any

from numba.core.caching import FunctionCache
from numba.core.runtime import rtsys

#: Whether this Numba has what :class:`LoadingCache` calls.
SUPPORTED = all(
    callable(getattr(FunctionCache, name, None))
    for name in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors")
) and callable(getattr(rtsys, "initialize", None))


class LoadingCache(FunctionCache):
    """Numba's function cache, loading without refreshing the target first."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """Load the compiled function for ``sig``; None if it is not in the cache.

        Args:
            sig: The argument types.
            target_context: Numba's CPU target.
        """
        rtsys.initialize(target_context)  # the runtime the loaded code calls (started once)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def give_loading_cache(dispatcher: Any) -> bool:
    """Make ``dispatcher`` load from its on-disk cache through :class:`LoadingCache`.

    The dispatcher's cache object stays the same object (the class adds no state): only its
    class changes.

    Args:
        dispatcher: A Numba dispatcher made with ``cache=True``.

    Returns:
        Whether it now loads through :class:`LoadingCache` (False: it keeps Numba's cache).
    """
    cache = getattr(dispatcher, "_cache", None)
    if not SUPPORTED or type(cache) is not FunctionCache:
        return False
    cache.__class__ = LoadingCache
    return True
