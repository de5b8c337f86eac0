"""Cached machine code made ready to run without reading its linking bitcode.

Numba caches a compiled function as its machine code and, beside it, the function's LLVM bitcode,
kept in case a later compilation links the function in. Loading, Numba parses that bitcode at
once, then walks it for the names of the symbols it defines, which it adds to the engine's set of
defined symbols (the engine asks the set before it looks a symbol up). For the model's 35 kernels
the bitcode is about 1 MB: parsing it takes about 33 ms and the walk 21 ms of the 0.13 s the
kernels take to load, in every process that runs a model.

Here the names are read from a small file written beside the cache's data file, ``<data
file>.symbols``: the SHA-256 of the bitcode and the names it defines, written the first time a
process loads the function (by walking the parsed bitcode, as Numba does). A file whose digest does
not match the bitcode (the function was compiled again) is ignored and written anew. The bitcode is
kept as bytes and parsed only when a compilation links the function in
(:meth:`LazyLinkingLibrary._get_module_for_linking`), so the set of defined symbols and the module
a compilation links are exactly those Numba would have.

:mod:`sim.model.kernel_cache` hands the cached data here (:func:`with_symbols`) and puts
:class:`LazyLinkingLibrary` in the code generator (:func:`use_lazy_linking`). Data that did not
come through :func:`with_symbols` is unserialized as Numba does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llvmlite.binding as ll
from numba.core.codegen import CPUCodeLibrary, JITCodeLibrary, JitEngine

log = logging.getLogger(__name__)

__all__ = [
    "SUPPORTED", "CachedObject", "LazyLinkingLibrary", "use_lazy_linking", "with_symbols",
    "write_cache_file",
]  # fmt: skip

#: Whether this Numba has the internals :class:`LazyLinkingLibrary` relies on.
SUPPORTED = (
    all(callable(getattr(JITCodeLibrary, name, None))
        for name in ("_unserialize", "_get_module_for_linking", "enable_object_caching",
                     "_set_compiled_object", "_finalize_final_module"))
    and callable(getattr(JitEngine, "_load_defined_symbols", None))
)  # fmt: skip

SUFFIX = ".symbols"
"""Added to a cache data file's name for the file of its symbols."""


@dataclass(frozen=True)
class CachedObject:
    """A cached function's machine code, its linking bitcode and the symbols that defines.

    Attributes:
        object_code: The machine code (an object file).
        bitcode: The LLVM bitcode kept for linking.
        names: The names of the functions and global variables the bitcode defines.
        module: The bitcode parsed, when it was parsed to find the names (else None).
    """

    object_code: bytes
    bitcode: bytes
    names: frozenset[str]
    module: Any = None

    def __iter__(self) -> Iterator[bytes]:
        """Unpack as Numba's own data, ``(object_code, bitcode)``, for any other library class."""
        return iter((self.object_code, self.bitcode))


def defined_names(module: Any) -> frozenset[str]:
    """Return the names of what an LLVM module defines (Numba's ``_load_defined_symbols``)."""
    return frozenset(gv.name for gsets in (module.functions, module.global_variables)
                     for gv in gsets if not gv.is_declaration)  # fmt: skip


def _read_names(path: Path, digest: str) -> frozenset[str] | None:
    """Return the names kept in ``path`` for bitcode of ``digest``, or None."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("bitcode_sha256") != digest:
        return None
    names = kept.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def write_cache_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, making its folder; a folder not writable is left.

    For the files kept beside the kernels' cache: a process that cannot write one finds what it
    holds again the next time (and logs why at debug level).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        log.debug("cannot write %s", path, exc_info=True)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        log.debug("cannot write %s", path, exc_info=True)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write_names(path: Path, digest: str, names: frozenset[str]) -> None:
    """Keep ``names`` in ``path`` (atomically); a cache folder that cannot be written is left."""
    text = json.dumps({"bitcode_sha256": digest, "names": sorted(names)})
    write_cache_file(path, text.encode("utf-8"))


def with_symbols(payload: Any, data_path: str | os.PathLike[str]) -> Any:
    """Return a cached function's payload with its library's symbols read beside its data file.

    Args:
        payload: What Numba's cache file holds for the function (its library's serialized state
            first); any other shape is returned as it is.
        data_path: The cache data file it was read from.

    Returns:
        The payload, its library state's data a :class:`CachedObject` when the library was cached
        as machine code.
    """
    if not (SUPPORTED and isinstance(payload, tuple) and payload):
        return payload
    state = payload[0]
    if not (isinstance(state, tuple) and len(state) == 3 and state[1] == "object"):
        return payload
    name, kind, data = state
    if not (isinstance(data, tuple) and len(data) == 2
            and all(isinstance(d, bytes) for d in data)):  # fmt: skip
        return payload
    object_code, bitcode = data
    digest = hashlib.sha256(bitcode).hexdigest()
    path = Path(os.fspath(data_path) + SUFFIX)
    names = _read_names(path, digest)
    module = None
    if names is None:
        module = ll.parse_bitcode(bitcode)
        names = defined_names(module)
        _write_names(path, digest, names)
    cached = CachedObject(object_code, bitcode, names, module)
    return ((name, kind, cached), *payload[1:])


class LazyLinkingLibrary(JITCodeLibrary):
    """Numba's JIT code library, its linking bitcode parsed when a compilation first links it.

    Libraries compiled in this process, and cached ones whose data is not a
    :class:`CachedObject`, are Numba's in every respect.
    """

    _linking_bitcode: bytes | None = None

    @classmethod
    def _unserialize(cls, codegen: Any, state: Any) -> CPUCodeLibrary:
        """Make a cached library ready to run; its bitcode stays unparsed when names are given."""
        name, kind, data = state
        if kind != "object" or not isinstance(data, CachedObject):
            return super()._unserialize(codegen, state)
        self = codegen.create_library(name)
        self.enable_object_caching()
        self._set_compiled_object(data.object_code)
        self._shared_module = data.module
        self._linking_bitcode = data.bitcode if data.module is None else None
        self._finalize_final_module()
        engine = codegen._engine
        defined = getattr(engine, "_defined_symbols", None)
        if isinstance(defined, set):
            defined |= data.names  # what _load_defined_symbols adds, without walking the module
        else:
            engine._load_defined_symbols(self._get_module_for_linking())
        return self

    def _get_module_for_linking(self) -> Any:
        """Return the module a compilation links in (parsing the cached bitcode first)."""
        if self._shared_module is None and self._linking_bitcode is not None:
            self._shared_module = ll.parse_bitcode(self._linking_bitcode)
            self._linking_bitcode = None
        return super()._get_module_for_linking()


def use_lazy_linking(codegen: Any) -> bool:
    """Make ``codegen`` create :class:`LazyLinkingLibrary` libraries; return whether it does.

    Only a code generator that creates Numba's :class:`~numba.core.codegen.JITCodeLibrary` is
    changed (one with another library class keeps it).
    """
    if not SUPPORTED:
        return False
    current = getattr(codegen, "_library_class", None)
    if current is JITCodeLibrary:
        codegen._library_class = LazyLinkingLibrary
    return getattr(codegen, "_library_class", None) is LazyLinkingLibrary
