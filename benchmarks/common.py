"""Shared measuring tools of the benchmarks: step timing, the machine, peak memory of a child.

Implementations compared with each other are timed in interleaved rounds in this one process, on
one core (``python -m benchmarks`` limits BLAS to one thread), by the CPU time the process gets
(``time.process_time``), so that time spent waiting while other programs run does not count; each
keeps its best (lowest) round, the usual practice for micro-benchmarks. The ratios between
implementations measured in the same run are the result.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: :data:`sim.experiments.pool_start.BLAS_VARIABLES`, written out: importing policysim here would
#: import NumPy before ``python -m benchmarks`` sets them.
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: The BLAS variables ``python -m benchmarks`` set (to one thread) because the user had not: a
#: child started with ``as_user`` runs without them, as the user's own commands do.
ADDED_BLAS: set[str] = set()
CALIBRATION_STEPS = 5
"""Most timed steps after the warm-up step that size a block in :func:`compare_steps`."""
CALIBRATION_SECONDS = 0.5
"""CPU seconds after which :func:`compare_steps` stops timing steps to size a block."""


@dataclass(frozen=True)
class Throughput:
    """A measured step rate.

    Attributes:
        n_agents: Agents stepped per step.
        steps_per_block: Steps in each timed block.
        blocks: Timed blocks.
        seconds_per_step: Best (lowest) block CPU time per step, seconds.
        median_seconds_per_step: Median block CPU time per step, seconds.
        agent_steps_per_s: ``n_agents / seconds_per_step``.
    """

    n_agents: int
    steps_per_block: int
    blocks: int
    seconds_per_step: float
    median_seconds_per_step: float
    agent_steps_per_s: float

    def as_dict(self) -> dict[str, float]:
        """Return the fields as a plain mapping (for JSON)."""
        return asdict(self)


def compare_steps(
    steps: dict[str, Callable[[], object]],
    n_agents: int,
    *,
    rounds: int = 5,
    block_seconds: float = 0.02,
) -> dict[str, Throughput]:
    """Time several step functions in interleaved rounds; return each one's best rate.

    Each function first runs one warm-up step, then up to :data:`CALIBRATION_STEPS` timed steps
    (fewer once they have taken :data:`CALIBRATION_SECONDS`); the fastest of these sets how many
    steps make a block of about ``block_seconds`` (at least one). A model pays one-time costs in
    its first steps, not only its first (compiled code loaded when a rule first runs, caches
    filled): sized on one early step, a block would be one step long, and each timed step would
    follow another function's block with cold caches. Then, ``rounds`` times, each function runs
    one block in turn, so that whatever else the machine does falls on all of them alike; the
    block with the least CPU time per step counts.

    Args:
        steps: Name -> a function advancing that implementation by one step.
        n_agents: Agents stepped per call, for the agent-steps rate.
        rounds: Timed blocks per function.
        block_seconds: Target duration of a block.

    Returns:
        Name -> its throughput.
    """
    clock = time.process_time
    per_block: dict[str, int] = {}
    for name, step in steps.items():
        step()
        fastest, spent = math.inf, 0.0
        for _ in range(CALIBRATION_STEPS):
            t0 = clock()
            step()
            took = clock() - t0
            fastest, spent = min(fastest, took), spent + took
            if spent >= CALIBRATION_SECONDS:
                break
        per_block[name] = max(int(block_seconds / max(fastest, 1e-9)), 1)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            k = per_block[name]
            t0 = clock()
            for _ in range(k):
                step()
            times[name].append((clock() - t0) / k)
    out = {}
    for name, ts in times.items():
        best = min(ts)
        out[name] = Throughput(n_agents, per_block[name], rounds, best, statistics.median(ts),
                               n_agents / best)  # fmt: skip
    return out


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` and return its result and the wall-clock seconds it took."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _cpuinfo() -> dict[str, str]:
    """Return the first processor's fields in ``/proc/cpuinfo`` (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                if fields:  # the first processor's block is enough
                    break
                continue
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _cpu_model(fields: dict[str, str]) -> str:
    """Return the CPU's name from its :func:`_cpuinfo` ``fields``, else what Python knows."""
    return fields.get("model name") or platform.processor() or platform.machine()


def _cpu_id(fields: dict[str, str]) -> str | None:
    """Return the family and model (``family 25 model 1``) in :func:`_cpuinfo` ``fields``."""
    if "cpu family" not in fields or "model" not in fields:
        return None
    return f"family {fields['cpu family']} model {fields['model']}"


def numpy_simd() -> str | None:
    """Return the SIMD targets NumPy dispatches to on this CPU, and those it lacks.

    ``"X86_V3; not X86_V4, AVX512_ICL, AVX512_SPR"``: what ``numpy.show_runtime()`` lists as found
    and not found. Without AVX-512, NumPy computes float64 ``power``, ``exp`` and ``expm1`` one
    element at a time with the C library, which moves goal 2a's ratio (docs/performance.md).
    """
    umath = None
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # NumPy 2, 1
        try:
            umath = importlib.import_module(name)
            break
        except ImportError:
            continue
    dispatch = getattr(umath, "__cpu_dispatch__", None)
    features = getattr(umath, "__cpu_features__", None)
    if dispatch is None or features is None:
        return None
    found = [f for f in dispatch if features.get(f)]
    lacking = [f for f in dispatch if not features.get(f)]
    text = ", ".join(found) if found else "baseline only"
    return f"{text}; not {', '.join(lacking)}" if lacking else text


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15-minute load averages, rounded (``None`` where there are none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    """Return a description of the machine and software the benchmark ran on."""
    from sim.results.store import git_commit, versions

    cpuinfo = _cpuinfo()
    return {
        "cpu": _cpu_model(cpuinfo),
        "cpu_id": _cpu_id(cpuinfo),
        "numpy_simd": numpy_simd(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "load_average": load_average(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "versions": versions(),
        "git_commit": git_commit(),
    }


def peak_rss_mb() -> float:
    """Return this process's peak resident set size, MB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``, which starts afresh in a new program.
    ``resource.getrusage(...).ru_maxrss``, the fallback elsewhere, is no good in a child process
    on Linux: it carries over the parent's peak across ``fork`` and ``exec``.
    """
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2**20


def run_child(
    code: str, *args: str, timeout: float = 1800.0, as_user: bool = False
) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process (repository on the path); return its JSON output.

    The child must print one JSON object as its last line of standard output.

    Args:
        code: Python source to run with ``-c``.
        *args: Its ``sys.argv[1:]``.
        timeout: Seconds before giving up.
        as_user: Without the BLAS variables the benchmarks set (:data:`ADDED_BLAS`), as a user's
            batch runs.

    Returns:
        The decoded JSON object.

    Raises:
        RuntimeError: When the child fails.
    """
    env = {k: v for k, v in os.environ.items() if not (as_user and k in ADDED_BLAS)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
        env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"benchmark child failed ({proc.returncode}): {tail[0]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
