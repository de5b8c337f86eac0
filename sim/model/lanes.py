"""The eight running sums of a pairwise-sum leaf, as the lanes of vector additions.

NumPy sums a leaf of at least 8 elements with eight running sums, 8 elements apart
(:mod:`sim.model.sum_kernels`): running sum ``t`` adds ``a[lo + t]``, ``a[lo + 8 + t]``, ... one
after the other. The eight are independent, so one vector addition of eight lanes does one step
of all eight, each lane's addition the IEEE addition of the scalar one: the same sums, bit for
bit. The eight lanes are two vectors of four (lanes 0-3 and 4-7): four additions an instruction,
two instructions independent of each other. Numba's loop vectorizer does not make these vectors
(it would have to see eight scalar sums as one), so :func:`block_sum` writes them in LLVM's
vector type.

:data:`block_sum` needs Numba: it is made (:func:`define`) when the kernels are compiled, at the
first kernel call (:mod:`sim.model.kernels`), not when this module is imported. Numba's cache of
a compiled kernel follows the kernel's own file only: after a change here, clear the caches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Lanes of the vector: NumPy's running sums of a leaf.
LANES = 8
#: ``block_sum(a, lo, blocks)``: :func:`scalar_block_sum` of a float array, in vector lanes (a
#: C-contiguous array; another layout takes the scalar sums). Made by :func:`define`.
block_sum: Callable[[Any, int, int], float]


def scalar_block_sum(a: Any, lo: int, blocks: int) -> float:
    """Return :func:`block_sum` with eight scalar running sums (an array of any layout).

    Also the definition of :func:`block_sum`'s result: the running sums of
    ``a[lo : lo + 8 * blocks]``, then ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``.
    """
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    for k in range(1, blocks):
        i = lo + LANES * k
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
    return ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))


def _make_block_sum() -> Any:
    """Return the Numba intrinsic :func:`block_sum` (importing Numba)."""
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    i64, f64 = ir.IntType(64), ir.DoubleType()
    half = ir.VectorType(f64, LANES // 2)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        if array_type.layout != "C":  # strided: the scalar running sums
            return context.compile_internal(builder, scalar_block_sum, signature, args)
        data = context.make_array(array_type)(context, builder, args[0]).data
        lo, blocks = args[1], args[2]
        # Lanes 0-3 and 4-7 as two vectors of four, as the loops that write arrays store them
        # (a load of eight over two stores of four would wait for the stores to finish).
        quads = builder.bitcast(builder.gep(data, [lo]), half.as_pointer())

        def load(k: Any, which: int) -> Any:
            at = builder.add(builder.mul(k, ir.Constant(i64, 2)), ir.Constant(i64, which))
            return builder.load(builder.gep(quads, [at]), align=8)

        zero, one = ir.Constant(i64, 0), ir.Constant(i64, 1)
        first = (load(zero, 0), load(zero, 1))
        entry = builder.block
        loop = builder.append_basic_block("lanes.loop")
        done = builder.append_basic_block("lanes.done")
        builder.cbranch(builder.icmp_signed(">", blocks, one), loop, done)
        builder.position_at_end(loop)
        k, acc = builder.phi(i64), (builder.phi(half), builder.phi(half))
        k.add_incoming(one, entry)
        added = []
        for which in (0, 1):
            acc[which].add_incoming(first[which], entry)
            added.append(builder.fadd(acc[which], load(k, which)))
            acc[which].add_incoming(added[which], loop)
        after = builder.add(k, one)
        k.add_incoming(after, loop)
        builder.cbranch(builder.icmp_signed("<", after, blocks), loop, done)
        builder.position_at_end(done)
        sums = (builder.phi(half), builder.phi(half))
        for which in (0, 1):
            sums[which].add_incoming(first[which], entry)
            sums[which].add_incoming(added[which], loop)
        lane = [ir.Constant(ir.IntType(32), t) for t in range(LANES // 2)]
        r = [builder.extract_element(vector, t) for vector in sums for t in lane]
        left = builder.fadd(builder.fadd(r[0], r[1]), builder.fadd(r[2], r[3]))
        right = builder.fadd(builder.fadd(r[4], r[5]), builder.fadd(r[6], r[7]))
        return builder.fadd(left, right)

    def typer(typingctx: Any, a: Any, lo: Any, blocks: Any) -> Any:
        if not (isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float64):
            return None
        if not (isinstance(lo, types.Integer) and isinstance(blocks, types.Integer)):
            return None
        return types.float64(a, types.int64, types.int64), codegen

    typer.__name__ = "block_sum"
    return intrinsic(typer)


def define() -> None:
    """Make :data:`block_sum` (once): :func:`sim.model.kernels.compile_kernels` calls it first."""
    if "block_sum" not in globals():
        globals()["block_sum"] = _make_block_sum()
