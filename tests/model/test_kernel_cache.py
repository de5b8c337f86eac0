"""Loading kernels from Numba's cache without preparing to compile: sim.model.kernel_cache."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from sim.model import kernel_cache, sum_kernels
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario

TOY = '''
import numpy as np

def running_total(a):
    out = np.empty(a.shape[0])  # an allocation: the loaded code calls Numba's runtime
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
        out[i] = s
    return out
'''

TOY_SCRIPT = '''
import json, sys
import numpy as np
from numba import njit
from sim.model.kernel_cache import LoadingCache, give_loading_cache
import toy_kernels
kernel = njit(cache=True)(toy_kernels.running_total)
given = give_loading_cache(kernel)
values = kernel(np.arange(5.0)).tolist()
hits, misses = sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values())
arrayobj = "numba.np.arrayobj" in sys.modules
# A new argument type compiles in the same process (importing what the compiler needs).
other = kernel(np.arange(5, dtype=np.int64)).tolist()
print(json.dumps({
    "given": given, "values": values, "other": other,
    "loading": type(kernel._cache) is LoadingCache, "hits": hits, "misses": misses,
    "arrayobj": arrayobj,
}))
'''

MODEL_SCRIPT = '''
import hashlib, json, sys
import numpy as np
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario
from sim.model import sum_kernels
from sim.model.kernel_cache import LoadingCache
result = run_scenario(load_scenario("history_2020_2025", ["months=6"]), 4)
digest = hashlib.sha256()
for name, column in result.columns.items():
    digest.update(name.encode())
    digest.update(np.asarray(column).tobytes())
kernel = sum_kernels.metric_sums
print(json.dumps({
    "digest": digest.hexdigest(), "loading": type(kernel._cache) is LoadingCache,
    "hits": sum(kernel.stats.cache_hits.values()),
    "refreshed": "numba.np.random.generator_core" in sys.modules,
    "arrayobj": "numba.np.arrayobj" in sys.modules,
}))
'''


def _run(script: str, cwd: Path, extra_path: Path | None = None) -> dict[str, object]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path),
                                                          env.get("PYTHONPATH")]))  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True, cwd=cwd, env=env)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_function_compiles_when_not_cached_and_loads_the_same_when_cached(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy_kernels.py").write_text(TOY)
    first = _run(TOY_SCRIPT, tmp_path, tmp_path)
    second = _run(TOY_SCRIPT, tmp_path, tmp_path)
    assert first["given"] and first["loading"] == kernel_cache.SUPPORTED
    assert (first["misses"], first["hits"]) == (1, 0)  # compiled, then saved
    assert (second["misses"], second["hits"]) == (0, 1)  # loaded, runtime started first
    assert first["values"] == second["values"] == [0.0, 1.0, 3.0, 6.0, 10.0]
    assert first["other"] == second["other"] == [0.0, 1.0, 3.0, 6.0, 10.0]
    # Loaded, the allocation's helper did not need Numba's array implementation imported.
    assert first["arrayobj"] and second["arrayobj"] != kernel_cache.SUPPORTED


def test_model_kernels_load_from_the_cache_without_preparing_to_compile(tmp_path: Path) -> None:
    # This process compiles (or loads) the kernels and saves them; a new process loads them,
    # without Numba's implementations for compiling, and its run has the same bits.
    result = run_scenario(load_scenario("history_2020_2025", ["months=6"]), 4)
    digest = hashlib.sha256()
    for name, column in result.columns.items():
        digest.update(name.encode())
        digest.update(np.asarray(column).tobytes())
    assert type(sum_kernels.metric_sums._cache) is kernel_cache.LoadingCache  # type: ignore[attr-defined]
    fresh = _run(MODEL_SCRIPT, tmp_path)
    assert fresh["digest"] == digest.hexdigest()
    assert fresh["loading"] and fresh["hits"] == 1
    assert not fresh["refreshed"] and not fresh["arrayobj"]


def test_an_environment_imports_its_module_unless_it_is_numbas_own_and_not_imported() -> None:
    import json as json_module

    from numba.core import environment

    consts = [1.5, "x"]
    env = kernel_cache.rebuild_environment("json", consts, "policysim_test_env_json")
    assert env.globals is vars(json_module)
    missing = "numba.policysim_test_never_imported"
    stub = kernel_cache.rebuild_environment(missing, consts, "policysim_test_env_stub")
    assert stub.globals == {"__name__": missing} and list(stub.consts) == consts
    assert missing not in sys.modules
    assert environment.lookup_environment("policysim_test_env_stub") is stub
    assert kernel_cache.rebuild_environment(missing, [], "policysim_test_env_stub") is stub
    assert stub.__reduce__()[1][0] == missing  # saved again, it names the same module
