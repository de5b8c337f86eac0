"""Numba's runtime made from machine code kept on disk, instead of compiled in every process.

Compiled kernels call Numba's runtime (NRT): its reference counting (with atomic additions), its
memory-info accessors, and a function that stops a call to a symbol never resolved. Numba builds
these few functions as LLVM IR and compiles them in every process, the first time it compiles or
loads anything (``numba.core.runtime.nrt._Runtime.initialize``): about 17 ms of the 0.13 s a
process takes to load the kernels, before its first run.

:func:`initialize` runs Numba's own ``initialize`` with one step changed: the IR is built as Numba
builds it (about 2 ms), and when a file beside the kernels' cache holds machine code compiled from
that same IR, on the same kind of CPU, by the same Numba and llvmlite, the runtime's library is
made from that code, as Numba makes a cached function's library. Otherwise the IR is compiled as
Numba compiles it, and its machine code is written to the file for the next process. The file's
name holds the SHA-256 of what the code was compiled from, and its contents the SHA-256 of the
code: any change (another Numba, CPU or optimization level) names another file, and a file whose
contents do not match their digest is compiled again and replaced. Loaded or compiled, the
library holds the same machine code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llvmlite
import numba
from numba.core import config
from numba.core.compiler_lock import global_compiler_lock
from numba.core.runtime import nrtdynmod, rtsys

from sim.model.cached_library import write_cache_file

__all__ = ["SUPPORTED", "initialize", "runtime_file"]

#: Whether this Numba has what :func:`initialize` relies on.
SUPPORTED = (
    callable(getattr(nrtdynmod, "create_nrt_module", None))
    and callable(getattr(nrtdynmod, "compile_nrt_functions", None))
    and callable(getattr(rtsys, "initialize", None))
    and isinstance(getattr(rtsys, "_init", None), bool)
)

PREFIX = "numba-runtime-"
"""The start of the name of a file of the runtime's machine code (then a digest, ``.nbc``)."""

#: How the runtime's library was made in this process: ``loaded``, ``compiled`` or None (not
#: made here; Numba's own initialize made it, or it was not made yet).
made: str | None = None


def _key(ctx: Any, ir_text: str) -> str:
    """Return the SHA-256 of what the runtime's machine code is compiled from."""
    parts = [numba.__version__, llvmlite.__version__, repr(ctx.codegen().magic_tuple()),
             f"opt={getattr(config, 'OPT', None)}", ir_text]  # fmt: skip
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def runtime_file(folder: str | os.PathLike[str], key: str) -> Path:
    """Return the file of the runtime's machine code compiled from what ``key`` digests."""
    return Path(folder) / f"{PREFIX}{key[:32]}.nbc"


def _read(path: Path) -> Any:
    """Return the serialized library kept in ``path``, or None (missing, unreadable, altered)."""
    try:
        digest, data = pickle.loads(path.read_bytes())  # noqa: S301 (this package's own file)
    except (OSError, ValueError, TypeError, EOFError, pickle.UnpicklingError):
        return None
    if not (isinstance(digest, str) and isinstance(data, bytes)):
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    state = pickle.loads(data)  # noqa: S301 (bytes that match the digest written with them)
    ok = (isinstance(state, tuple) and len(state) == 3 and state[1] == "object"
          and isinstance(state[2], tuple) and len(state[2]) == 2
          and all(isinstance(b, bytes) for b in state[2]))  # fmt: skip
    return state if ok else None


def _write(path: Path, state: Any) -> None:
    """Keep a serialized library in ``path`` (atomically); a folder not writable is left."""
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    write_cache_file(path, pickle.dumps((hashlib.sha256(data).hexdigest(), data)))


def _library(ctx: Any, folder: Path) -> Any:
    """Return the runtime's library: loaded from ``folder`` when kept there, else compiled.

    What ``nrtdynmod.compile_nrt_functions(ctx)`` returns, made from kept machine code when there
    is some for the same IR and target.
    """
    global made
    ir_module, library = nrtdynmod.create_nrt_module(ctx)
    path = runtime_file(folder, _key(ctx, str(ir_module)))
    state = _read(path)
    if state is not None:
        made = "loaded"
        return ctx.codegen().unserialize_library(state)
    library.enable_object_caching()
    library.add_ir_module(ir_module)
    library.finalize()
    _write(path, library.serialize_using_object_code())
    made = "compiled"
    return library


@contextlib.contextmanager
def _compiling_from(folder: Path) -> Iterator[None]:
    """Make ``nrtdynmod.compile_nrt_functions`` use :func:`_library` while in the block."""
    original = nrtdynmod.compile_nrt_functions
    nrtdynmod.compile_nrt_functions = lambda ctx: _library(ctx, folder)
    try:
        yield
    finally:
        nrtdynmod.compile_nrt_functions = original


def initialize(ctx: Any, folder: str | os.PathLike[str]) -> None:
    """Start Numba's runtime (once per process), its library loaded from ``folder`` if kept there.

    Numba's own ``rtsys.initialize(ctx)``, which registers the runtime's C functions and makes its
    library; only the library is made by :func:`_library`. Where this Numba lacks what that
    relies on, Numba's own initialize runs as it is.

    Args:
        ctx: Numba's CPU target context.
        folder: The folder of the kernels' on-disk cache.
    """
    if rtsys._init:
        return
    if not SUPPORTED:
        rtsys.initialize(ctx)
        return
    with global_compiler_lock, _compiling_from(Path(folder)):  # one thread at a time
        rtsys.initialize(ctx)
