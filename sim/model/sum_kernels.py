"""Compiled sums: NumPy's pairwise summation, and the firm sums of a month's metrics in one pass.

``np.add.reduce`` of a contiguous float64 array of ``n`` elements returns ``0.0 + S(0, n)``,
where ``S`` sums a range pairwise: a range of at most 128 elements is a *leaf*, summed with eight
running partial sums (fewer than 8 elements: one after the other from ``-0.0``); a longer range
is split at half its length rounded down to a multiple of 8, and its sum is the sum of its two
halves' sums. :func:`pairwise_leaves` gives the leaves of ``n`` elements and the order in which
their sums are added, :func:`leaf_sum` sums a leaf, and :func:`combine` adds the leaves' sums in
that order; a kernel that sums several derived arrays computes each leaf's values as it goes (a
leaf of each stays in the CPU's first cache) instead of writing the arrays out, and every sum it
returns has NumPy's bits. ``tests/model/test_kernels.py`` checks them against NumPy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import lanes
from sim.model.kernels import kernel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: NumPy's pairwise block: the largest range summed as one leaf.
LEAF = 128
#: Partial sums pending at once in :func:`combine` (a tree of 2**62 elements needs fewer).
DEPTH = 128
#: What :func:`metric_sums` returns, by position (sums of firm arrays, then counts, then the HHI).
METRIC_SUMS = (
    "compliance", "alignment", "expansion_revenue", "revenue", "rd_spend", "ai_capability",
    "compute_foreign", "compute_domestic", "compute_total", "effective_domestic",
    "effective_total", "rate_listed_value", "listed_weight", "listed_value", "unlisted_value",
    "freezes", "golden_shares", "hhi",
)  # fmt: skip
N_SUMS = len(METRIC_SUMS)


@kernel
def pairwise_leaves(n: int) -> tuple[IntArray, NDArray[np.int8]]:
    """Return the leaves of NumPy's pairwise sum of ``n`` elements and the order of its additions.

    Returns:
        ``bounds`` (leaf ``k`` is ``[bounds[k], bounds[k + 1])``; one empty leaf when ``n`` is 0)
        and ``ops``, the sum in postfix order: 1 pushes the next leaf's sum, 0 replaces the two
        sums on top by their sum (the lower one plus the upper one).
    """
    most = n // 64 + 1  # a leaf of a split range holds at least 64 elements
    starts = np.empty(most + 1, dtype=np.int64)
    if n <= LEAF:  # one leaf, without walking the ranges
        ops = np.ones(1, dtype=np.int8)
        starts[0], starts[1] = 0, n
        return starts[:2], ops[:1]
    ops = np.empty(2 * most, dtype=np.int8)
    # The ranges being split, outermost first: start, length, and halves already visited.
    lo_, n_, seen = np.empty(DEPTH, np.int64), np.empty(DEPTH, np.int64), np.empty(DEPTH, np.int64)
    lo_[0], n_[0], seen[0] = 0, n, 0
    top, leaves, n_ops = 1, 0, 0
    while top > 0:
        lo, m, k = lo_[top - 1], n_[top - 1], seen[top - 1]
        half = m // 2
        half -= half % 8
        if m <= LEAF or k == 2:
            if m <= LEAF:
                starts[leaves] = lo
                leaves += 1
            ops[n_ops] = 1 if m <= LEAF else 0
            n_ops += 1
            top -= 1
        else:
            seen[top - 1] = k + 1
            lo_[top], n_[top], seen[top] = (lo, half, 0) if k == 0 else (lo + half, m - half, 0)
            top += 1
    starts[leaves] = n
    return starts[: leaves + 1], ops[:n_ops]


@kernel
def leaf_sum(a: FloatArray, lo: int, m: int) -> float:
    """Return NumPy's sum of the leaf ``a[lo : lo + m]`` (``m <= 128``), as in ``pairwise_sum``."""
    if m < 8:
        res = -0.0
        for i in range(lo, lo + m):
            res += a[i]
        return res
    # Eight running sums, 8 apart, as the lanes of one vector (sim.model.lanes).
    blocks = m // 8
    res = lanes.block_sum(a, lo, blocks)
    for i in range(lo + 8 * blocks, lo + m):
        res += a[i]
    return res


@kernel
def combine(ops: NDArray[np.int8], parts: FloatArray) -> FloatArray:
    """Add the leaves' sums ``parts`` (shape (leaves, k)) in the order ``ops``; return k sums.

    Each result is ``0.0 + `` the pairwise sum, as ``np.add.reduce`` starts from 0.0.
    """
    k = parts.shape[1]
    if ops.shape[0] == 1:  # one leaf: its sums, each added to 0.0
        out = np.empty(k)
        for j in range(k):
            out[j] = 0.0 + parts[0, j]
        return out
    stack = np.empty((DEPTH, k))
    top, leaf = 0, 0
    for op in ops:
        if op == 1:
            stack[top] = parts[leaf]
            leaf += 1
            top += 1
        else:
            top -= 1
            for j in range(k):
                stack[top - 1, j] = stack[top - 1, j] + stack[top, j]
    out = np.empty(k)
    for j in range(k):
        out[j] = 0.0 + stack[0, j]
    return out


@kernel
def pairwise_sum(a: FloatArray) -> float:
    """Return ``np.add.reduce(a)`` of a contiguous float array, bit for bit.

    The ranges split as :func:`pairwise_leaves` splits them (the first half rounded down to a
    multiple of 8), walked depth first with a stack of ranges: no list of leaves is built.
    """
    n = a.shape[0]
    if n <= LEAF:
        return 0.0 + leaf_sum(a, 0, n)
    # Per range on the stack: start, length, halves done; and its first half's sum.
    frames = np.empty((DEPTH, 3), dtype=np.int64)
    left = np.empty(DEPTH)
    frames[0, 0], frames[0, 1], frames[0, 2] = 0, n, 0
    top, done = 1, 0.0  # ``done``: the sum of the range just finished
    while top > 0:
        lo, m, stage = frames[top - 1, 0], frames[top - 1, 1], frames[top - 1, 2]
        if m <= LEAF:
            done = leaf_sum(a, lo, m)
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        frames[top - 1, 2] = stage + 1
        if stage == 0:
            frames[top, 0], frames[top, 1], frames[top, 2] = lo, half, 0
            top += 1
        elif stage == 1:
            left[top - 1] = done
            frames[top, 0], frames[top, 1], frames[top, 2] = lo + half, m - half, 0
            top += 1
        else:
            done = left[top - 1] + done
            top -= 1
    return 0.0 + done


@kernel
def sector_sums(
    sector: IntArray, revenue: FloatArray, n_sectors: int
) -> tuple[FloatArray, FloatArray]:
    """Return each sector's revenue and sum of squared revenue shares, as ``FirmPopulation.hhi``.

    Reproduces ``rev = np.bincount(sector, weights=revenue, minlength=n_sectors)`` and
    ``np.bincount(sector, weights=(revenue / rev[sector]) ** 2, minlength=n_sectors)``:
    ``np.bincount`` adds the weights into their bins in order, from zeros.
    """
    rev, squares = np.zeros(n_sectors), np.zeros(n_sectors)
    n = sector.shape[0]
    if n == 0:
        return rev, squares
    # The running sum of a bin stays in a register while the bin repeats: the same additions
    # in the same order, without waiting for each one's store to load the next.
    current, acc = sector[0], 0.0
    for i in range(n):
        if sector[i] != current:
            rev[current], current = acc, sector[i]
            acc = rev[current]
        acc += revenue[i]
    rev[current] = acc
    current, acc = sector[0], 0.0
    for i in range(n):
        if sector[i] != current:
            squares[current], current = acc, sector[i]
            acc = squares[current]
        share = revenue[i] / rev[sector[i]]
        acc += share * share
    squares[current] = acc
    return rev, squares


@kernel
def hhi(sector: IntArray, revenue: FloatArray, n_sectors: int) -> float:
    """Return the revenue-weighted mean HHI of sectors, as ``FirmPopulation.hhi``.

    Reproduces, with ``rev, squares = sector_sums(sector, revenue, n_sectors)``,
    ``10_000.0 * np.add.reduce(rev / np.add.reduce(rev) * squares)``.
    """
    rev, squares = sector_sums(sector, revenue, n_sectors)
    weighted = rev / pairwise_sum(rev) * squares
    return 10_000.0 * pairwise_sum(weighted)


@kernel
def metric_sums(
    compliance: FloatArray, alignment: FloatArray, expansion: FloatArray, revenue: FloatArray,
    rd_spend: FloatArray, ai_capability: FloatArray, foreign: FloatArray, domestic: FloatArray,
    domestic_weight: float, market_value: FloatArray, discount_rate: FloatArray,
    listed: BoolArray, golden_share: BoolArray, freeze_until: IntArray, month: int,
    sector: IntArray, n_sectors: int, gathered: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    """Write the firm sums the metrics read in ``out``, in the order of :data:`METRIC_SUMS`.

    Each sum is ``np.add.reduce`` of (``w`` is ``domestic_weight``, ``lv`` is
    ``market_value * listed``): ``compliance``, ``alignment``, ``expansion * revenue``,
    ``revenue``, ``rd_spend``, ``ai_capability``, ``foreign``, ``domestic``,
    ``foreign + domestic``, ``domestic * w``, ``foreign + domestic * w``,
    ``discount_rate * lv``, ``lv``, ``market_value[listed]`` and ``market_value[~listed]``;
    then ``np.count_nonzero(freeze_until > month)`` (``freeze_until`` has a row per firm),
    ``np.count_nonzero(golden_share)`` and :func:`hhi`. ``gathered`` (two floats per firm,
    overwritten) holds the listed values, from its start, and the unlisted ones, from its middle.
    ``out`` has :data:`N_SUMS` entries (the caller's: an array handed back costs it more).

    Two passes over the firms, then the counts. The first walks the leaves of the pairwise sums in
    order (as :func:`pairwise_sum`, the 13 sums at once), and adds each firm's revenue to its
    sector's (:func:`sector_sums`); the second gathers the listed and the unlisted values and adds
    each firm's squared revenue share to its sector's. A pass's additions to a sector's running
    sum wait for one another, and the pass's other work fills that wait.
    """
    n = compliance.shape[0]
    n_rows = 13
    rev, squares = np.zeros(n_sectors), np.zeros(n_sectors)
    buf = np.empty((6, LEAF))
    b0, b1, b2, b3, b4, b5 = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]
    # Per range on the stack: start, length, halves done; the sums of the leaves and halves done.
    frames = np.empty((DEPTH, 3), dtype=np.int64)
    pending = np.empty((DEPTH, n_rows))
    frames[0, 0], frames[0, 1], frames[0, 2] = 0, n, 0
    top, n_pending = 1, 0
    current, acc = (sector[0], 0.0) if n else (0, 0.0)  # the sector being added, and its sum
    while top > 0:
        lo, m, stage = frames[top - 1, 0], frames[top - 1, 1], frames[top - 1, 2]
        if m > LEAF:
            half = m // 2
            half -= half % 8
            frames[top - 1, 2] = stage + 1
            if stage < 2:  # the first half, then the second
                frames[top, 0] = lo if stage == 0 else lo + half
                frames[top, 1] = half if stage == 0 else m - half
                frames[top, 2] = 0
                top += 1
            else:  # both halves summed: their sums make the range's
                n_pending -= 1
                for j in range(n_rows):
                    pending[n_pending - 1, j] = pending[n_pending - 1, j] + pending[n_pending, j]
                top -= 1
            continue
        # A leaf: its derived values (the firms by unsigned index: sim.model.kernels), then its
        # sums. With each sector's revenue, added in order (np.bincount), its running sum kept
        # while the sector repeats.
        first, size = np.uint64(lo), np.uint64(m)
        for j in range(size):
            at = first + j
            b0[j] = expansion[at] * revenue[at]
            if sector[at] != current:
                rev[current], current = acc, sector[at]
                acc = rev[current]
            acc += revenue[at]
        for j in range(size):
            b1[j] = foreign[first + j] + domestic[first + j]
        for j in range(size):
            b2[j] = domestic[first + j] * domestic_weight
        for j in range(size):
            b3[j] = foreign[first + j] + b2[j]
        for j in range(size):
            b5[j] = market_value[first + j] * (1.0 if listed[first + j] else 0.0)
        for j in range(size):
            b4[j] = discount_rate[first + j] * b5[j]
        row = n_pending
        pending[row, 0] = leaf_sum(compliance, lo, m)
        pending[row, 1] = leaf_sum(alignment, lo, m)
        pending[row, 3] = leaf_sum(revenue, lo, m)
        pending[row, 4] = leaf_sum(rd_spend, lo, m)
        pending[row, 5] = leaf_sum(ai_capability, lo, m)
        pending[row, 6] = leaf_sum(foreign, lo, m)
        pending[row, 7] = leaf_sum(domestic, lo, m)
        pending[row, 2] = leaf_sum(b0, 0, m)
        pending[row, 8] = leaf_sum(b1, 0, m)
        pending[row, 9] = leaf_sum(b2, 0, m)
        pending[row, 10] = leaf_sum(b3, 0, m)
        pending[row, 11] = leaf_sum(b4, 0, m)
        pending[row, 12] = leaf_sum(b5, 0, m)
        n_pending += 1
        top -= 1
    if n:
        rev[current] = acc
    for j in range(n_rows):
        out[j] = 0.0 + pending[0, j]
    # The second pass. Each value is written at the next place of both selections; the next
    # value of its own selection is written past it.
    at_in, at_out = 0, 0
    current, acc = (sector[0], 0.0) if n else (0, 0.0)
    for i in range(n):
        value, inside = market_value[i], listed[i]
        gathered[at_in] = value
        gathered[n + at_out] = value
        at_in += inside
        at_out += 1 - inside
        if sector[i] != current:
            squares[current], current = acc, sector[i]
            acc = squares[current]
        share = revenue[i] / rev[sector[i]]
        acc += share * share
    if n:
        squares[current] = acc
    out[n_rows] = pairwise_sum(gathered[:at_in])
    out[n_rows + 1] = pairwise_sum(gathered[n : n + at_out])
    # The counts, each in a loop of its own (a loop of comparisons and additions vectorizes).
    freezes, golden = 0, 0
    for k in range(freeze_until.shape[1]):
        for i in range(n):
            freezes += 1 if freeze_until[i, k] > month else 0
    for i in range(n):
        golden += golden_share[i]
    out[n_rows + 2], out[n_rows + 3] = freezes, golden
    weighted = rev / pairwise_sum(rev) * squares
    out[n_rows + 4] = 10_000.0 * pairwise_sum(weighted)
