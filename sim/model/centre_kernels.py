"""Compiled steps of the centre and the influence network it heads.

A network has a few dozen stakeholders, so a month's NumPy operations on it cost their calls
more than their arithmetic. These kernels do the same IEEE operations in the same order as the
NumPy in :class:`sim.model.influence.InfluenceNetwork` and :class:`sim.model.centre.Centre`
(quoted in each docstring), in one call each; a sum is NumPy's pairwise sum
(:mod:`sim.model.sum_kernels`), and the matrix product stays a NumPy call.
``tests/model/test_centre_kernels.py`` checks them bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels, sum_kernels
from sim.model.kernels import kernel
from sim.model.sum_kernels import BoolArray, FloatArray, IntArray


@kernel
def weights(
    ties: FloatArray, tie_weight: float, clout: FloatArray, salience: FloatArray
) -> tuple[FloatArray, FloatArray, bool]:
    """Return the unnormalised influence matrix, its row sums, and whether every sum is positive.

    Reproduces ``w = ties * tie_weight; w += 1.0; w *= clout * salience; totals =
    w.sum(axis=1, keepdims=True)`` and ``totals.min() > 0``; when every total is positive the rows
    are divided by their totals (``w /= totals``), else ``w`` is returned undivided.
    """
    n = ties.shape[0]
    w = np.empty((n, n))
    voice = np.empty(n)
    for j in range(n):
        voice[j] = clout[j] * salience[j]
    totals = np.empty((n, 1))
    for i in range(n):
        row = w[i]
        for j in range(n):
            row[j] = (ties[i, j] * tie_weight + 1.0) * voice[j]
        totals[i, 0] = sum_kernels.pairwise_sum(row)
    # totals.min() > 0: the minimum is NaN when any total is NaN, and NaN > 0 is false.
    positive = n > 0
    for i in range(n):
        t = totals[i, 0]
        if not t > 0:
            positive = False
    if positive:
        for i in range(n):
            t = totals[i, 0]
            for j in range(n):
                w[i, j] = w[i, j] / t
    return w, totals, positive


@kernel
def step(
    listened: FloatArray, position: FloatArray, anchor: FloatArray, susceptibility: FloatArray,
    ties: FloatArray, state: IntArray, cooptation: float, keep: float,
) -> FloatArray:  # fmt: skip
    """Return the new positions; move ``anchor`` and decay ``ties`` in place.

    Reproduces, with ``listened = w @ position`` and ``lam = susceptibility[:, None]``:
    ``new = lam * listened + (1.0 - lam) * anchor``, its row 0 set back to ``position[0]`` (the
    centre moves by its own rules) and clipped to [0, 1] (``new.clip(0.0, 1.0, out=new)``);
    ``drift = cooptation * np.minimum(ties[:, state].sum(axis=1), 1.0)[:, None]`` with
    ``drift[0] = 0.0``; ``anchor += drift * (new[0] - anchor)``; and ``ties *= keep``.
    """
    n, dims = position.shape
    new = np.empty((n, dims))
    for i in range(n):
        lam = susceptibility[i]
        for d in range(dims):
            new[i, d] = lam * listened[i, d] + (1.0 - lam) * anchor[i, d]
    for d in range(dims):
        new[0, d] = position[0, d]
    for i in range(n):
        for d in range(dims):
            new[i, d] = kernels.clip01(new[i, d])
    for i in range(n):
        # NumPy gives the selected columns in column-major order and sums each row one column
        # after the other, from 0.0 (not pairwise).
        state_ties = 0.0
        for k in range(state.shape[0]):
            state_ties += ties[i, state[k]]
        drift = 0.0 if i == 0 else cooptation * kernels.minimum(state_ties, 1.0)
        for d in range(dims):
            anchor[i, d] = anchor[i, d] + drift * (new[0, d] - anchor[i, d])
    for i in range(n):
        for j in range(ties.shape[1]):
            ties[i, j] = ties[i, j] * keep
    return new


@kernel
def listed_sum(values: FloatArray, listed: BoolArray) -> float:
    """Return ``np.add.reduce(values[listed])``: the listed values, gathered and summed pairwise.

    Only the listed rows of ``values`` are read.
    """
    n_in = 0
    for i in range(listed.shape[0]):
        n_in += listed[i]
    gathered = np.empty(n_in)
    at = 0
    for i in range(listed.shape[0]):
        if listed[i]:
            gathered[at] = values[i]
            at += 1
    return sum_kernels.pairwise_sum(gathered)
