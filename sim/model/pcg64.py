"""The model's generator inside compiled code: NumPy's PCG64 stream, advanced in place.

A model draws from one ``numpy.random.Generator`` (``model.rng``), by default on a PCG64 bit
generator. Its state lives in C memory: a 128-bit state and a 128-bit increment, then the
half of a 64-bit draw kept for the next 32-bit draw (``has_uint32``, ``uinteger``). This module
gives compiled code two NumPy views of that memory (:func:`stream`), and kernels that draw from
them what NumPy's own functions draw: the next 64 bits (a step of the 128-bit linear
congruential generator and its XSL-RR output), a double, a bounded integer
(``Generator.integers``: Lemire's method on 32 or 64 bits) and a Poisson count
(``Generator.poisson``: multiplication below a mean of 10, transformed rejection from 10). The
views are the generator's memory, not a copy, so a kernel's draws advance ``model.rng`` and a
NumPy call after them goes on from there: a kernel can make, in one call, draws that would be
many NumPy calls, and the stream is the one NumPy would have drawn, bit for bit.

:func:`stream` hands out views only when they are sure to be right: for a PCG64 bit generator
whose memory has the layout checked against its ``state`` (little-endian 128-bit integers),
and only after the kernels have drawn, once in the process, what NumPy draws from the same seed
(:func:`agrees`). Otherwise it returns None and callers draw through NumPy, as before:
``tests/model/test_pcg64.py`` checks the kernels against NumPy, and the regulators' draws
through both paths.
"""

from __future__ import annotations

import ctypes
import logging
import math

import numpy as np
from numpy.typing import NDArray

from sim.model.kernels import kernel

logger = logging.getLogger(__name__)

StateView = NDArray[np.uint64]
BufferView = NDArray[np.uint32]

#: PCG64's multiplier, the high and low 64 bits of a 128-bit constant.
MULTIPLIER_HIGH = np.uint64(2549297995355413924)
MULTIPLIER_LOW = np.uint64(4865540595714422341)
_LOW32 = np.uint64(0xFFFFFFFF)
_UINT32_MAX = np.uint64(0xFFFFFFFF)
_UINT64_MAX = np.uint64(0xFFFFFFFFFFFFFFFF)
#: 2 ** -53: a double from the top 53 bits of a draw.
_DOUBLE_UNIT = 1.0 / 9007199254740992.0


@kernel
def multiply_high(a: np.uint64, b: np.uint64) -> np.uint64:
    """Return the high 64 bits of the 128-bit product ``a * b``."""
    a_lo, a_hi = a & _LOW32, a >> np.uint64(32)
    b_lo, b_hi = b & _LOW32, b >> np.uint64(32)
    lo_lo, hi_lo = a_lo * b_lo, a_hi * b_lo
    lo_hi, hi_hi = a_lo * b_hi, a_hi * b_hi
    cross = (lo_lo >> np.uint64(32)) + (hi_lo & _LOW32) + lo_hi
    return (hi_lo >> np.uint64(32)) + (cross >> np.uint64(32)) + hi_hi


@kernel
def next_uint64(state: StateView) -> np.uint64:
    """Advance the state (``state * multiplier + increment``, mod 2**128); return its output.

    ``state`` holds the state's low and high 64 bits, then the increment's. The output is
    XSL-RR: the two halves of the new state xor-ed, rotated right by its top six bits.
    """
    lo, hi = state[0], state[1]
    new_lo = lo * MULTIPLIER_LOW
    new_hi = multiply_high(lo, MULTIPLIER_LOW) + lo * MULTIPLIER_HIGH + hi * MULTIPLIER_LOW
    out_lo = new_lo + state[2]
    carry = np.uint64(1) if out_lo < new_lo else np.uint64(0)
    out_hi = new_hi + state[3] + carry
    state[0], state[1] = out_lo, out_hi
    x = out_hi ^ out_lo
    rotation = out_hi >> np.uint64(58)
    return (x >> rotation) | (x << ((np.uint64(64) - rotation) & np.uint64(63)))


@kernel
def next_uint32(state: StateView, buffer: BufferView) -> np.uint64:
    """Return 32 random bits: the kept high half of the last 64-bit draw, else a new draw's low.

    ``buffer`` holds ``has_uint32`` and ``uinteger``, as NumPy's PCG64 keeps them.
    """
    if buffer[0]:
        buffer[0] = np.uint32(0)
        return np.uint64(buffer[1])
    draw = next_uint64(state)
    buffer[0] = np.uint32(1)
    buffer[1] = np.uint32(draw >> np.uint64(32))
    return draw & _LOW32


@kernel
def next_double(state: StateView) -> float:
    """Return a double in [0, 1): the top 53 bits of a draw (``Generator.random()``)."""
    return float(next_uint64(state) >> np.uint64(11)) * _DOUBLE_UNIT


@kernel
def bounded(state: StateView, buffer: BufferView, low: int, high: int) -> int:
    """Return ``Generator.integers(low, high)`` (int64, ``high`` excluded; ``low < high``).

    Lemire's method: the span's draw times the span, the high half kept, a draw that would bias
    it drawn again; a span of at most 2**32 values draws 32 bits at a time.
    """
    span = np.uint64(high - 1) - np.uint64(low)  # the largest offset, as NumPy's uint64
    offset = np.uint64(low)
    if span == np.uint64(0):
        return low
    if span == _UINT32_MAX:
        return np.int64(offset + next_uint32(state, buffer))
    if span < _UINT32_MAX:
        width = span + np.uint64(1)
        product = next_uint32(state, buffer) * width
        leftover = product & _LOW32
        if leftover < width:
            threshold = (_UINT32_MAX - span) % width
            while leftover < threshold:
                product = next_uint32(state, buffer) * width
                leftover = product & _LOW32
        return np.int64(offset + (product >> np.uint64(32)))
    if span == _UINT64_MAX:
        return np.int64(offset + next_uint64(state))
    width = span + np.uint64(1)
    draw = next_uint64(state)
    leftover = draw * width
    if leftover < width:
        threshold = (_UINT64_MAX - span) % width
        while leftover < threshold:
            draw = next_uint64(state)
            leftover = draw * width
    return np.int64(offset + multiply_high(draw, width))


#: The coefficients of NumPy's log-gamma series (SPECFUN's), highest order last.
_LOGGAM = (
    8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
    -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
    6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
    -1.39243221690590e00,
)  # fmt: skip


@kernel
def log_gamma(x: float) -> float:
    """Return NumPy's ``log(Gamma(x))`` of the Poisson draw: its series, its operations in order."""
    x0 = x
    n = 0
    if x == 1.0 or x == 2.0:
        return 0.0
    if x <= 7.0:
        n = int(7 - x)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    series = _LOGGAM[9]
    for k in range(8, -1, -1):
        series *= x2
        series += _LOGGAM[k]
    gl = series / x0 + 0.5 * math.log(2 * math.pi) + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@kernel
def poisson(state: StateView, lam: float) -> int:
    """Return ``Generator.poisson(lam)`` (``0 <= lam``, finite).

    Below 10, the product of uniforms until it falls to ``exp(-lam)``; from 10, Hoermann's
    transformed rejection (PTRS).
    """
    if lam >= 10:
        root, log_lam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * root
        a = -0.059 + 0.02483 * b
        inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = next_double(state) - 0.5
            v = next_double(state)
            us = 0.5 - abs(u)
            k = np.int64(math.floor((2 * a / us + b) * u + lam + 0.43))
            if us >= 0.07 and v <= v_r:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b)) <= (
                -lam + k * log_lam - log_gamma(float(k + 1))
            ):
                return k
    if lam == 0:
        return 0
    limit = math.exp(-lam)
    count = 0
    product = 1.0
    while True:
        product *= next_double(state)
        if product > limit:
            count += 1
        else:
            return count


@kernel
def doubles(state: StateView, out: NDArray[np.float64]) -> None:
    """Fill ``out`` with :func:`next_double` draws (``Generator.random(out.size)``)."""
    for i in range(out.shape[0]):
        out[i] = next_double(state)


#: The bit generator :func:`stream` saw last and its views (a strong reference: its memory
#: cannot be freed and reused while its views are handed out).
_last: tuple[object, tuple[StateView, BufferView] | None] = (None, None)
#: Whether the kernels draw what NumPy draws in this process (None: not checked yet).
_agrees: bool | None = None


def stream(rng: np.random.Generator) -> tuple[StateView, BufferView] | None:
    """Return views of ``rng``'s PCG64 state and 32-bit buffer, or None to draw through NumPy.

    The views of the last generator asked for are kept (a run asks many times a month).
    """
    global _last  # noqa: PLW0603 (one entry per process)
    bit_generator = rng.bit_generator
    last = _last
    if last[0] is bit_generator:
        return last[1]
    views = _views(bit_generator) if agrees() else None
    _last = (bit_generator, views)
    return views


def _views(bit_generator: object) -> tuple[StateView, BufferView] | None:
    """Return views of a PCG64 bit generator's memory, None if not one or not laid out as read."""
    if type(bit_generator) is not np.random.PCG64:
        return None
    address = bit_generator.ctypes.state_address  # {pcg64_random_t *; int has_uint32; uint32}
    pointer = ctypes.c_void_p.from_address(address).value
    if pointer is None:
        return None
    state = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(pointer))
    buffer = np.ctypeslib.as_array((ctypes.c_uint32 * 2).from_address(address + 8))
    read = bit_generator.state
    words = [int(w) for w in state]
    if (
        words[0] | words[1] << 64 != read["state"]["state"]
        or words[2] | words[3] << 64 != read["state"]["inc"]
        or int(buffer[0]) != read["has_uint32"]
        or int(buffer[1]) != read["uinteger"]
    ):
        return None
    return state, buffer


def agrees() -> bool:
    """Return whether the kernels draw what NumPy draws here, checked once a process.

    Both draw, from the same seed, doubles, Poisson counts on both sides of 10, and bounded
    integers of 32- and 64-bit spans interleaved with them; their values and the generators'
    states after must be equal. A disagreement (another NumPy's algorithms, another layout) is
    logged once and the model draws through NumPy.
    """
    global _agrees  # noqa: PLW0603 (one answer per process)
    if _agrees is None:
        _agrees = _check()
        if not _agrees:
            logger.warning("compiled draws differ from NumPy's here; drawing through NumPy")
    return _agrees


def _check() -> bool:
    """Draw through the kernels and through NumPy from one seed; return whether all agree."""
    ours, theirs = np.random.default_rng(20261202), np.random.default_rng(20261202)
    views = _views(ours.bit_generator)
    if views is None:
        return False
    state, buffer = views
    same = True
    for lam in (0.0, 0.7, 4.0, 9.5, 10.0, 33.3, 250.0):
        for _ in range(8):
            same &= poisson(state, lam) == theirs.poisson(lam)
            same &= next_double(state) == theirs.random()
    for low, high in ((3, 4), (1, 13), (0, 7), (-5, 2**32 - 5), (0, 2**40), (-(2**62), 2**62)):
        for _ in range(8):
            same &= bounded(state, buffer, low, high) == theirs.integers(low, high)
    return bool(same) and ours.bit_generator.state == theirs.bit_generator.state
