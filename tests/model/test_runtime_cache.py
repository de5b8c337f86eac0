"""Numba's runtime made from machine code kept on disk: sim.model.runtime_cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.model import runtime_cache

pytestmark = pytest.mark.skipif(not runtime_cache.SUPPORTED, reason="another Numba's internals")

# Starts the runtime from a folder, then compiles and runs functions that allocate, take views
# and release them (reference counts, the runtime's atomic additions) and link the runtime.
SCRIPT = """
import json, sys
import numpy as np
from numba import njit
from numba.core.registry import cpu_target
from numba.core.runtime import rtsys
from sim.model import runtime_cache

runtime_cache.initialize(cpu_target.target_context, sys.argv[1])
made = runtime_cache.made

@njit
def leaf_totals(a, leaf):
    out = np.empty(a.shape[0] // leaf)
    for k in range(out.shape[0]):
        view = a[k * leaf : (k + 1) * leaf]
        out[k] = view.sum()
    return out

values = leaf_totals(np.arange(12.0), 3).tolist()
abort = rtsys.library.get_pointer_to_function("nrt_unresolved_abort")
print(json.dumps({"made": made, "values": values, "abort": bool(abort)}))
"""


def _run(folder: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], capture_output=True,
                         text=True, timeout=300, check=True, env=os.environ.copy())  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _kept(folder: Path) -> Path:
    (found,) = folder.glob(f"{runtime_cache.PREFIX}*.nbc")
    return found


def test_the_runtime_is_compiled_once_then_loaded_and_runs_alike(tmp_path: Path) -> None:
    first, second = _run(tmp_path), _run(tmp_path)
    assert (first["made"], second["made"]) == ("compiled", "loaded")
    kept = _kept(tmp_path)
    for out in (first, second):
        assert out["values"] == [3.0, 12.0, 21.0, 30.0]
        assert out["abort"]
    assert _kept(tmp_path) == kept  # loading does not write


@pytest.mark.parametrize("damage", ["truncated", "altered", "not a pickle"])
def test_a_damaged_file_is_compiled_again_and_replaced(tmp_path: Path, damage: str) -> None:
    _run(tmp_path)
    path = _kept(tmp_path)
    good = path.read_bytes()
    bad = {"truncated": good[: len(good) // 2],
           "altered": good[:-40] + bytes(40),
           "not a pickle": b"{not a pickle"}[damage]  # fmt: skip
    path.write_bytes(bad)
    again = _run(tmp_path)
    assert again["made"] == "compiled" and again["values"] == [3.0, 12.0, 21.0, 30.0]
    assert path.read_bytes() == good  # the same machine code, written anew
    assert _run(tmp_path)["made"] == "loaded"


def test_a_folder_that_cannot_be_written_leaves_the_runtime_compiled(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    out = _run(blocked / "cache")
    assert out["made"] == "compiled" and out["values"] == [3.0, 12.0, 21.0, 30.0]


def test_the_file_name_follows_what_the_code_is_compiled_from(tmp_path: Path) -> None:
    assert runtime_cache.runtime_file(tmp_path, "ab" * 32).name == (
        f"{runtime_cache.PREFIX}{'ab' * 16}.nbc"
    )
    assert runtime_cache._read(tmp_path / "missing.nbc") is None
