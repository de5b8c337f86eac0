"""Cached kernels made ready without parsing their linking bitcode: sim.model.cached_library."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as ll
import pytest
from numba.core.codegen import JitEngine

from sim.model import cached_library, runtime_cache
from sim.model.kernel_cache import _Unpickler
from tests.model.test_kernel_cache import TOY  # the same toy function

pytestmark = pytest.mark.skipif(not cached_library.SUPPORTED, reason="another Numba's internals")

# Loads (or compiles) `running_total`, then compiles a new function that calls it: Numba links
# the cached function's library into the new one.
SCRIPT = '''
import json
import numpy as np
from numba import njit
from sim.model.kernel_cache import give_loading_cache
import toy_kernels
inner = njit(cache=True)(toy_kernels.running_total)
give_loading_cache(inner)
values = inner(np.arange(5.0)).tolist()
library = inner.overloads[inner.signatures[0]].library
unparsed = library._shared_module is None

@njit
def outer(a):
    return inner(a)[-1] * 2.0

print(json.dumps({
    "values": values, "library": type(library).__name__, "unparsed_after_load": unparsed,
    "linked": outer(np.arange(5.0)), "parsed_after_link": library._shared_module is not None,
    "hits": sum(inner.stats.cache_hits.values()),
}))
'''


def _run(folder: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(folder), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300, check=True, cwd=folder, env=env)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _symbols_file(folder: Path) -> Path:
    (found,) = (folder / "__pycache__").glob(f"*.nbc{cached_library.SUFFIX}")
    return found


def test_a_loaded_function_parses_its_bitcode_only_when_a_compilation_links_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy_kernels.py").write_text(TOY)
    compiled, first_load, later_load = _run(tmp_path), _run(tmp_path), _run(tmp_path)
    assert (compiled["hits"], first_load["hits"], later_load["hits"]) == (0, 1, 1)
    # The first load finds no symbols file: it parses the bitcode, as Numba does, and writes one.
    assert not first_load["unparsed_after_load"]
    kept = json.loads(_symbols_file(tmp_path).read_text())
    assert kept["names"] and kept["names"] == sorted(kept["names"])
    # Later loads read the names and leave the bitcode as bytes until the link needs it.
    assert later_load["library"] == "LazyLinkingLibrary"
    assert later_load["unparsed_after_load"] and later_load["parsed_after_link"]
    for out in (compiled, first_load, later_load):
        assert out["values"] == [0.0, 1.0, 3.0, 6.0, 10.0]
        assert out["linked"] == 20.0


def test_a_symbols_file_for_other_bitcode_is_ignored_and_written_again(tmp_path: Path) -> None:
    (tmp_path / "toy_kernels.py").write_text(TOY)
    _run(tmp_path)
    _run(tmp_path)
    path = _symbols_file(tmp_path)
    good = json.loads(path.read_text())
    path.write_text(json.dumps({**good, "bitcode_sha256": "0" * 64, "names": ["nothing"]}))
    stale = _run(tmp_path)
    assert not stale["unparsed_after_load"]  # parsed: the file's digest is not the bitcode's
    assert stale["values"] == [0.0, 1.0, 3.0, 6.0, 10.0] and stale["linked"] == 20.0
    assert json.loads(path.read_text()) == good
    path.write_text("{not json")
    assert not _run(tmp_path)["unparsed_after_load"]
    assert json.loads(path.read_text()) == good


def test_the_names_are_those_numba_adds_for_the_same_bitcode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "toy_kernels.py").write_text(TOY)
    _run(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # the payload names the toy's module
    (data,) = [p for p in (tmp_path / "__pycache__").glob("*.nbc")
               if not p.name.startswith(runtime_cache.PREFIX)]  # the toy's, not the runtime's
    payload = cached_library.with_symbols(_payload(data), data)
    cached = payload[0][2]
    assert isinstance(cached, cached_library.CachedObject)
    module = ll.parse_bitcode(cached.bitcode)
    engine = JitEngine.__new__(JitEngine)  # only its set of defined symbols is used
    engine._defined_symbols = set()
    engine._load_defined_symbols(module)
    assert cached.names == engine._defined_symbols == cached_library.defined_names(module)
    # Any library class other than the lazy one unpacks it as Numba's own data.
    assert tuple(cached) == (cached.object_code, cached.bitcode)


def _payload(data: Path) -> object:
    """Return a cache data file's payload, unpickled as the kernels' cache file does."""
    return _Unpickler(io.BytesIO(data.read_bytes())).load()


@pytest.mark.parametrize("payload", [
    (), ("not a tuple state",), (("name", "bitcode", b"..."),), (("name", "object", (b"x",)),),
    (("name", "object", ("text", b"x")),), [("name", "object", (b"x", b"y"))],
])  # fmt: skip
def test_data_of_another_shape_is_returned_as_it_is(payload: object, tmp_path: Path) -> None:
    assert cached_library.with_symbols(payload, tmp_path / "x.nbc") is payload
    assert not list(tmp_path.iterdir())
