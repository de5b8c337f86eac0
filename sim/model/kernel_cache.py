"""Loading compiled kernels from Numba's on-disk cache without first preparing to compile.

Before Numba's cache (``cache=True``) loads a compiled function, it refreshes the CPU target:
it imports and registers every implementation Numba has (strings, dictionaries, sets, random
generators, polynomials, datetimes, ...). A compiler needs them; machine code read from the cache
does not, since it calls only Numba's runtime (its allocator) and the helpers it was linked with.
In a process that starts a batch, the refresh is about 0.07 s of the 0.3 s that loading the
kernels takes, and every batch, serial or on a pool, waits for it before its first run.

:class:`LoadingCache` is Numba's own :class:`numba.core.caching.FunctionCache` with that one step
changed: before loading, it starts Numba's runtime, which the loaded code calls, and nothing
else (the runtime's own machine code kept beside the kernels': :mod:`sim.model.runtime_cache`).
A function that is not in the cache (a first run, edited source, a new argument type) is compiled
exactly as before: Numba's compiler refreshes the target itself before it compiles
(``numba.core.compiler.CompilerBase``), and loaded and compiled code are the same machine code.

Each cached function also carries an environment for every function linked into it, and Numba
rebuilds each from the name of the module that function was written in, importing the module
for its globals. Most helpers the kernels link come from Numba's array implementation,
``numba.np.arrayobj``, whose import (with the modules it pulls in) is another 0.09 s. Code
compiled in nopython mode never reads those globals: only object-mode code does
(``numba.core.pylowering``), and Numba's own implementation modules hold none. So
:class:`LoadingCacheFile` reads a cached function as Numba does, except that an environment whose
module is one of Numba's and not yet imported gets ``{"__name__": module}`` for its globals
(:func:`rebuild_environment`) instead of the imported module's. Its constants, which machine code
does read (to raise an exception, to box a value), are restored as Numba restores them.

:func:`give_loading_cache` checks that this Numba has the internals these classes rely on; where
it has not (another Numba version), a dispatcher keeps Numba's cache and loads as before. This
module imports Numba: :func:`sim.model.kernels.compile_kernels` imports it when it compiles.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from typing import Any

from numba.core import environment
from numba.core.caching import FunctionCache, IndexDataCacheFile
from numba.core.runtime import rtsys

from sim.model import runtime_cache
from sim.model.cached_library import use_lazy_linking, with_symbols

#: Whether this Numba has what :class:`LoadingCache` and :class:`LoadingCacheFile` call.
SUPPORTED = (
    all(callable(getattr(FunctionCache, name, None))
        for name in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors"))
    and all(callable(getattr(IndexDataCacheFile, name, None))
            for name in ("_load_data", "_data_path"))
    and callable(getattr(rtsys, "initialize", None))
    and all(callable(getattr(environment, name, None))
            for name in ("_rebuild_env", "lookup_environment"))
    and hasattr(environment.Environment, "_memo")
)  # fmt: skip


def rebuild_environment(modname: str, consts: list[Any], env_name: str) -> Any:
    """Rebuild a cached function's environment, importing its module only when it may be read.

    What ``numba.core.environment._rebuild_env`` does, except for a module of Numba's own that is
    not yet imported: its environment gets ``{"__name__": modname}`` for globals, which
    nopython code never reads, and the same constants and name as Numba would give it.

    Args:
        modname: The module the function was written in.
        consts: The environment's constants.
        env_name: The environment's unique name (environments are shared by name).

    Returns:
        The environment.
    """
    if modname in sys.modules or not modname.startswith("numba."):
        return environment._rebuild_env(modname, consts, env_name)
    env = environment.lookup_environment(env_name)
    if env is None:
        env = environment.Environment({"__name__": modname})
        env.consts[:] = consts
        env.env_name = env_name
        environment.Environment._memo[env_name] = env
    return env


class _Unpickler(pickle.Unpickler):
    """Numba's unpickling of a cached function, with :func:`rebuild_environment`."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "numba.core.environment" and name == "_rebuild_env":
            return rebuild_environment
        return super().find_class(module, name)


class LoadingCacheFile(IndexDataCacheFile):
    """Numba's cache file, reading a function's environments with :func:`rebuild_environment`."""

    def _load_data(self, name: str) -> Any:
        path = self._data_path(name)
        with open(path, "rb") as f:
            return with_symbols(_Unpickler(io.BytesIO(f.read())).load(), path)


class LoadingCache(FunctionCache):
    """Numba's function cache, loading without refreshing the target first."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """Load the compiled function for ``sig``; None if it is not in the cache.

        Args:
            sig: The argument types.
            target_context: Numba's CPU target.
        """
        # The runtime the loaded code calls, started once (its machine code kept beside ours).
        folder = getattr(self, "_cache_path", None)
        if isinstance(folder, str | os.PathLike):
            runtime_cache.initialize(target_context, folder)
        else:  # a Numba whose cache keeps its folder elsewhere: its own start
            rtsys.initialize(target_context)
        use_lazy_linking(target_context.codegen())  # bitcode parsed only when linked
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def give_loading_cache(dispatcher: Any) -> bool:
    """Make ``dispatcher`` load from its on-disk cache through :class:`LoadingCache`.

    The dispatcher's cache object and its cache file stay the same objects (the classes add no
    state): only their classes change.

    Args:
        dispatcher: A Numba dispatcher made with ``cache=True``.

    Returns:
        Whether it now loads through :class:`LoadingCache` (False: it keeps Numba's cache).
    """
    cache = getattr(dispatcher, "_cache", None)
    if not SUPPORTED or type(cache) is not FunctionCache:
        return False
    if type(getattr(cache, "_cache_file", None)) is not IndexDataCacheFile:
        return False
    cache.__class__ = LoadingCache
    cache._cache_file.__class__ = LoadingCacheFile
    return True
