"""Compiled draws: the regulators' targets and the cities' courted firms, as ``rng.choice`` draws.

``rng.choice(n, size, replace=False, p=p)`` builds the cumulative weights ``cdf = np.cumsum(p)``,
divides them by their last element, and finds each uniform ``u`` by
``cdf.searchsorted(u, side="right")``: the first row whose cumulative weight is above ``u``. The
search reads only the entries it probes, so these kernels keep the running sums ``c`` as they are
and divide ``c[i] / c[-1]`` at the probed rows alone (:func:`search`). Dividing by a positive
number is monotone, so the normalised sums are in the same order as ``c``, each probed value has
the bits of the normalised array's, and the row found is the one ``searchsorted`` finds; the pass
of ``n`` divisions that normalised every entry is gone. The weights and their pairwise sum are
one pass too (:func:`target_weights`, :func:`court_weights`), a leaf of the sum at a time
(:mod:`sim.model.sum_kernels`). ``tests/model/test_draw_kernels.py`` checks every kernel against
the NumPy it replaces and against ``rng.choice``, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from sim.model import pcg64, sum_kernels
from sim.model.kernels import kernel
from sim.model.pcg64 import BufferView, StateView
from sim.model.sum_kernels import BoolArray, FloatArray, IntArray


@kernel
def target_weights(
    revenue_power: FloatArray, exposure: FloatArray, compliance: FloatArray, skip: IntArray,
    out: FloatArray,
) -> tuple[float, int]:  # fmt: skip
    """Write a regulator's targeting weights into ``out``; return their sum and positive count.

    Reproduces ``w = revenue_power * exposure * (1.0 - compliance)`` (the product in that order),
    ``w[skip] = 0.0`` (the firms already under investigation), ``np.add.reduce(w)`` and
    ``np.count_nonzero(w > 0)``, a leaf of the pairwise sum at a time. ``exposure`` may be a
    strided column.
    """
    n = revenue_power.shape[0]
    rows = np.sort(skip)
    bounds, ops = sum_kernels.pairwise_leaves(n)
    parts = np.empty((bounds.shape[0] - 1, 1))
    at, positive = 0, 0
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        first = np.uint64(lo)  # the leaf's firms, by unsigned index (sim.model.kernels)
        for j in range(np.uint64(m)):
            i = first + j
            out[i] = revenue_power[i] * exposure[i] * (1.0 - compliance[i])
        while at < rows.shape[0] and rows[at] < lo + m:
            out[rows[at]] = 0.0
            at += 1
        count = 0
        for j in range(np.uint64(m)):
            count += out[first + j] > 0
        positive += count
        parts[k, 0] = sum_kernels.leaf_sum(out, lo, m)
    return sum_kernels.combine(ops, parts)[0], positive


@kernel
def court_weights(
    revenue: FloatArray, alignment: FloatArray, home: BoolArray, home_pull: float, out: FloatArray
) -> float:
    """Write a city's running court weights into ``out``; return the last (the normalising one).

    Reproduces ``w = np.sqrt(revenue) * (1.0 + alignment) * np.where(home, home_pull, 1.0)`` and
    ``np.cumsum(w / np.add.reduce(w))`` (:func:`running_shares`); ``rng.choice`` would also
    divide by the last element, which :func:`search` does at the rows it probes. The home firms
    are read from a mask (a byte a firm, not a float). Without firms, nothing is written and the
    last is 1.0. ``out`` is the caller's (a city keeps one), so that no array is made and returned.
    """
    n = revenue.shape[0]
    bounds, ops = sum_kernels.pairwise_leaves(n)
    parts = np.empty((bounds.shape[0] - 1, 1))
    for k in range(parts.shape[0]):
        lo, m = bounds[k], bounds[k + 1] - bounds[k]
        first = np.uint64(lo)  # the leaf's firms, by unsigned index (sim.model.kernels)
        for j in range(np.uint64(m)):
            i = first + j
            out[i] = math.sqrt(revenue[i]) * (1.0 + alignment[i]) * (home_pull if home[i] else 1.0)
        parts[k, 0] = sum_kernels.leaf_sum(out, lo, m)
    if n == 0:
        return 1.0
    return running_shares(out, sum_kernels.combine(ops, parts)[0], out)


#: Elements a block of :func:`running_shares` divides before adding them up.
SHARES_BLOCK = 64


@kernel
def running_shares(weights: FloatArray, total: float, out: FloatArray) -> float:
    """Write ``np.cumsum(weights / total)`` into ``out`` (it may be ``weights``); return its last.

    ``np.cumsum`` adds one element at a time, the first taken as it is. ``weights`` holds at least
    one element. A block of :data:`SHARES_BLOCK` elements is divided first (the divisions of a
    block are independent: the loop vectorizes) and then added up one after the other: the same
    divisions and additions, and the next block's divisions run while this block's additions
    wait for one another.
    """
    n = weights.shape[0]
    acc = 0.0
    # The block's shares go into an array of their own: were they written over ``weights``
    # (``out`` may be ``weights``), the division's loop would not vectorize.
    shares = np.empty(min(n, SHARES_BLOCK))
    for lo in range(0, n, SHARES_BLOCK):
        m = min(SHARES_BLOCK, n - lo)
        first = np.uint64(lo)  # the block's elements, by unsigned index (sim.model.kernels)
        for j in range(np.uint64(m)):
            shares[j] = weights[first + j] / total
        start = 0
        if lo == 0:
            acc, start = shares[0], 1
            out[0] = acc
        for j in range(np.uint64(start), np.uint64(m)):
            acc = acc + shares[j]
            out[first + j] = acc
    return acc


@kernel
def search(running: FloatArray, last: float, u: float) -> int:
    """Return ``(running / last).searchsorted(u, side="right")``, dividing only probed entries.

    NumPy's order of floats puts NaN above every number (``a < b or (b != b and a == a)``), and
    the search returns the first row whose normalised value is above ``u`` in that order.
    """
    lo, hi = 0, running.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        v = running[mid] / last
        if u < v or (v != v and u == u):
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel
def draw_one(weights: FloatArray, total: float, u: float, out: FloatArray) -> int:
    """Return the row ``rng.choice(n, 1, replace=False, p=weights / total)`` draws with ``u``.

    The running shares go into ``out`` (it may be ``weights``).
    """
    last = running_shares(weights, total, out)
    return search(out, last, u)


@kernel
def draw_rows(
    weights: FloatArray, total: float, found: IntArray, u: FloatArray, running: FloatArray,
    out: IntArray,
) -> None:  # fmt: skip
    """Write in ``out`` the rows one round of ``rng.choice(..., replace=False)`` draws with ``u``.

    Reproduces ``p = weights / total; p[found] = 0; cdf = np.cumsum(p); cdf /= cdf[-1];
    cdf.searchsorted(u, side="right")``: the rows ``found`` of ``weights`` are set to zero
    (``0.0 / total`` is ``0.0``, as ``p``'s) and the running shares go into ``running``. ``out``
    (one entry per uniform) is the caller's: an array handed back would cost it more.
    """
    for i in range(found.shape[0]):
        weights[found[i]] = 0.0
    last = running_shares(weights, total, running)
    for j in range(u.shape[0]):
        out[j] = search(running, last, u[j])


@kernel
def open_targets(
    state: StateView, buffer: BufferView, count: int, revenue_power: FloatArray,
    exposure: FloatArray, compliance: FloatArray, skip: IntArray, low: int, high: int,
    weights: FloatArray, running: FloatArray, rows: IntArray, months: IntArray,
) -> int:  # fmt: skip
    """Draw a regulator's ``count`` new targets and their lengths from the model's generator.

    Reproduces :meth:`sim.model.agents.regulators.Regulator._open`'s draws through NumPy:
    :func:`target_weights` (``weights``); ``count`` falls to the number of positive weights
    (one draw when their total is not above 0 draws nothing); one target is :func:`draw_one` of
    one uniform; more are drawn as ``rng.choice(..., replace=False)`` draws them (rounds of one
    uniform per row still to find, the rows found set to zero, a round's first occurrences kept
    in the order drawn); then each target's length, ``Generator.integers(low, high)`` one after
    the other. Draws come from the views of :func:`sim.model.pcg64.stream`. The targets go to
    ``rows`` and their lengths to ``months`` (``min(count, firms)`` entries each, at least).

    Returns:
        The number of targets, or -1, drawing nothing, when the weights' total is not finite.
    """
    total, positive = target_weights(revenue_power, exposure, compliance, skip, weights)
    if not math.isfinite(total):
        return -1
    if count > 1:
        count = min(count, positive)
    elif not total > 0:
        return 0
    if count == 0:
        return 0
    if count == 1:
        rows[0] = draw_one(weights, total, pcg64.next_double(state), weights)
    else:
        found = 0
        while found < count:
            start = found
            u = np.empty(count - found)
            pcg64.doubles(state, u)  # rng.random(count - found)
            drawn = np.empty(u.shape[0], dtype=np.int64)
            draw_rows(weights, total, rows[:found], u, running, drawn)
            for row in drawn:
                new = True
                for i in range(start, found):
                    if rows[i] == row:
                        new = False
                        break
                if new:
                    rows[found] = row
                    found += 1
    for i in range(count):
        months[i] = pcg64.bounded(state, buffer, low, high)
    return count


def load() -> None:
    """Call each draw once on one firm, so that this process holds them compiled.

    A run makes these draws only when a regulator opens a probe or a city signs a deal, which a
    short run may not do; a process that forks workers calls this first, so that every worker
    starts with them (:func:`sim.experiments.warm_kernels.warm`).
    """
    one, rows = np.ones(1), np.zeros(1, dtype=np.int64)
    target_weights(one, one, np.zeros(1), rows[:0], np.empty(1))
    draw_one(np.ones(1), 1.0, 0.5, np.empty(1))
    draw_rows(np.ones(1), 1.0, rows[:0], np.full(1, 0.5), np.empty(1), np.empty(1, dtype=np.int64))
    views = pcg64.stream(np.random.default_rng(0))
    if views is not None:
        column = np.ones((1, 2))[:, 0]  # an exposure column, strided as the firms' are
        ints = np.empty(1, dtype=np.int64)
        open_targets(*views, 1, one, column, np.zeros(1), rows[:0], 1, 2, np.empty(1),
                     np.empty(1), ints, ints.copy())  # fmt: skip
