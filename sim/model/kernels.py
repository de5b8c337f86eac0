"""Compiled loops: how they are declared and compiled, and the element rules they share.

Each kernel fuses a chain of element-wise NumPy operations into one loop over the firms (arrays
read once, not once per operation). For each element, a loop does the same IEEE operations in the
same order as the NumPy expression quoted in its docstring, so its results are bitwise NumPy's:

* ``+ - * /`` and ``sqrt`` are exactly rounded, and Numba without ``fastmath`` neither reorders
  them nor contracts a product and a sum into a fused multiply-add;
* ``np.maximum``, ``np.minimum`` and ``np.clip`` are written with NumPy's comparisons
  (:func:`maximum`, :func:`minimum`, :func:`clip01`): NaN propagates, and a tie between ``0.0``
  and ``-0.0`` gives the element NumPy gives;
* ``np.exp``, ``np.expm1`` and ``np.power`` are not compiled (NumPy's vectorized versions may
  differ from the C library's in the last bit): callers keep each as one NumPy call between two
  kernels. Matrix products (BLAS) stay in NumPy too;
* a sum is NumPy's pairwise summation, reproduced step for step (:mod:`sim.model.sum_kernels`).

A loop over a few firms at a time (a leaf of a pairwise sum, 128 firms at most) reads and writes
the whole arrays at an unsigned index, ``first + j`` with ``first = np.uint64(lo)`` and ``j`` in
``range(np.uint64(m))``. A view of the leaf (``a[lo : lo + m]``) would cost Numba's runtime a
reference count taken and given back, two atomic operations, for every view of every leaf (at
10,000 firms, about 5,900 calls a month: 7% of its time); a signed index, ``a[lo + j]``, makes
Numba check it for a negative value, and the loop no longer vectorizes. Blocks of thousands of
firms (:data:`BLOCK`) keep their views: a few a month.

The kernels are grouped by what they compute: the firm rules (:mod:`sim.model.firm_kernels`), the
sums and the metrics' reductions (:mod:`sim.model.sum_kernels`), the expected-cost pass and the
investors' valuation (:mod:`sim.model.value_kernels`), the regulators' and cities' draws
(:mod:`sim.model.draw_kernels`), and the influence network's and the centre's updates
(:mod:`sim.model.centre_kernels`); this module declares and compiles them all (:func:`kernel`).
Tests (``tests/model/test_kernels.py`` and one file per kernel module) check every kernel against
its NumPy expression bit for bit. Numba is imported at the first kernel call (commands that run
no model do not pay for it), and compiled code is cached on disk (``cache=True``): a new process
loads it instead of compiling.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
P = ParamSpec("P")
R = TypeVar("R")

#: The kernels' Python functions, by module and name, compiled by :func:`compile_kernels`.
_PYTHON: dict[tuple[str, str], Callable[..., Any]] = {}


def kernel(fn: Callable[P, R]) -> Callable[P, R]:
    """Declare ``fn`` a kernel: its first call compiles them all (:func:`compile_kernels`).

    Kernels live in this module and in the others that use this decorator
    (:mod:`sim.model.firm_kernels`, :mod:`sim.model.sum_kernels`, ...); a kernel calls another
    module's kernel through that module (``kernels.maximum``), so that it finds the compiled one.
    """
    _PYTHON[fn.__module__, fn.__name__] = fn

    @functools.wraps(fn)
    def first_call(*args: P.args, **kwargs: P.kwargs) -> R:
        compile_kernels()
        compiled: Callable[P, R] = getattr(sys.modules[fn.__module__], fn.__name__)
        return compiled(*args, **kwargs)

    return first_call


def compile_kernels() -> None:
    """Replace every kernel by its Numba dispatcher (each compiles at its first call).

    ``error_model="numpy"``: a division by zero gives inf or NaN as in NumPy, without a check.
    Each loads from the on-disk cache through :class:`sim.model.kernel_cache.LoadingCache`.
    """
    from numba import njit

    from sim.model import lanes
    from sim.model.kernel_cache import give_loading_cache

    lanes.define()  # the vector sums the kernels call
    jit = njit(cache=True, error_model="numpy")
    for (module, name), fn in _PYTHON.items():
        namespace = vars(sys.modules[module])
        if not hasattr(namespace[name], "py_func"):  # not yet a dispatcher
            namespace[name] = dispatcher = jit(fn)
            give_loading_cache(dispatcher)  # loads without preparing to compile


def contiguous(values: FloatArray) -> FloatArray:
    """Return ``values`` as a contiguous float array (itself when it is one), to pass a kernel."""
    return np.ascontiguousarray(values, dtype=np.float64)


#: Firms per block of a kernel that works a block of firms at a time (its rows stay in the caches).
BLOCK = 4096


@kernel
def maximum(a: float, b: float) -> float:
    """Return ``np.maximum(a, b)`` of one pair: ``a`` if ``a > b`` or ``a`` is NaN, else ``b``."""
    return a if (a > b or a != a) else b


@kernel
def minimum(a: float, b: float) -> float:
    """Return ``np.minimum(a, b)`` of one pair: ``a`` if ``a < b`` or ``a`` is NaN, else ``b``."""
    return a if (a < b or a != a) else b


@kernel
def clip01(x: float) -> float:
    """Return ``np.clip(x, 0.0, 1.0)`` of one element (NaN and ``-0.0`` stay as they are)."""
    y = 0.0 if x < 0.0 else x
    return 1.0 if y > 1.0 else y
