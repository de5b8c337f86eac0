"""Compiled steps of the centre and the influence network it heads.

A network has a few dozen stakeholders, so a month's NumPy operations on it cost their calls
more than their arithmetic. These kernels do the same IEEE operations in the same order as the
NumPy in :class:`sim.model.influence.InfluenceNetwork` and :class:`sim.model.centre.Centre`
(quoted in each docstring), in one call each; a sum is NumPy's pairwise sum
(:mod:`sim.model.sum_kernels`), and the matrix products stay NumPy calls between kernels. A
kernel writes its arrays into arrays it is given (an array a kernel returns costs more than a
network's arithmetic), and a month calls as few as it can, with as few arguments: each costs.
``tests/model/test_centre_kernels.py`` checks them bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels, sum_kernels
from sim.model.kernels import kernel
from sim.model.sum_kernels import BoolArray, FloatArray, IntArray


@kernel
def weights(
    ties: FloatArray, tie_weight: float, voice: FloatArray, w: FloatArray, listen: FloatArray
) -> float:
    """Fill ``w`` with the influence matrix and ``listen`` with its row 0 less the centre.

    Reproduces ``w = ties * tie_weight; w += 1.0; w *= voice; totals = w.sum(axis=1,
    keepdims=True)`` (``voice = clout * salience``) and ``np.divide(w, totals, out=np.full_like(w,
    1.0 / n), where=totals > 0)``: a row whose total is not positive (zero, or NaN) is ``1.0 /
    n`` throughout. ``listen`` is ``w[0]`` with ``listen[0] = 0.0`` (whom the centre listens to);
    returns ``listen.sum()``.
    """
    n = ties.shape[0]
    if n == 0:
        return 0.0
    uniform = 1.0 / n
    for i in range(n):
        row = w[i]
        for j in range(n):
            row[j] = (ties[i, j] * tie_weight + 1.0) * voice[j]
        t = sum_kernels.pairwise_sum(row)
        if t > 0:  # false for a NaN total
            for j in range(n):
                row[j] = row[j] / t
        else:
            for j in range(n):
                row[j] = uniform
    for j in range(n):
        listen[j] = w[0, j]
    listen[0] = 0.0
    return sum_kernels.pairwise_sum(listen)


@kernel
def engage(
    ties: FloatArray, rows: IntArray, cols: IntArray, effort: FloatArray, tie: float
) -> None:
    """Add ``tie * effort[j]`` to ``ties[rows[i], cols[j]]`` for every ``i`` and ``j``.

    Reproduces ``ties[np.ix_(rows, cols)] += tie * effort[: len(cols)]`` (rows and columns
    distinct): each element of the block gets one addition of the product.
    """
    for j in range(cols.shape[0]):
        add = tie * effort[j]
        col = cols[j]
        for i in range(rows.shape[0]):
            ties[rows[i], col] += add


@kernel
def step(
    listened: FloatArray, position: FloatArray, anchor: FloatArray, susceptibility: FloatArray,
    ties: FloatArray, state: IntArray, cooptation: float, keep: float,
) -> None:  # fmt: skip
    """Write the new positions into ``position``, move ``anchor`` and decay ``ties``, in place.

    Reproduces, with ``listened = w @ position`` and ``lam = susceptibility[:, None]``:
    ``new = lam * listened + (1.0 - lam) * anchor``, its row 0 set back to ``position[0]`` (the
    centre moves by its own rules) and clipped to [0, 1] (``new.clip(0.0, 1.0, out=new)``);
    ``drift = cooptation * np.minimum(ties[:, state].sum(axis=1), 1.0)[:, None]`` with
    ``drift[0] = 0.0``; ``anchor += drift * (new[0] - anchor)``; ``ties *= keep``; and
    ``position[...] = new``. A row of ``new`` reads only that row of ``position``, so each is
    written in place.
    """
    n, dims = position.shape
    for d in range(dims):
        position[0, d] = kernels.clip01(position[0, d])
    for i in range(1, n):
        lam = susceptibility[i]
        for d in range(dims):
            position[i, d] = kernels.clip01(lam * listened[i, d] + (1.0 - lam) * anchor[i, d])
    for i in range(n):
        # NumPy gives the selected columns in column-major order and sums each row one column
        # after the other, from 0.0 (not pairwise).
        state_ties = 0.0
        for k in range(state.shape[0]):
            state_ties += ties[i, state[k]]
        drift = 0.0 if i == 0 else cooptation * kernels.minimum(state_ties, 1.0)
        for d in range(dims):
            anchor[i, d] = anchor[i, d] + drift * (position[0, d] - anchor[i, d])
    for i in range(n):
        for j in range(ties.shape[1]):
            ties[i, j] = ties[i, j] * keep


@kernel
def outcome_sums(
    revenue: FloatArray, market_value: FloatArray, listed: BoolArray, ai_capability: FloatArray
) -> tuple[float, float, float]:
    """Return ``revenue.sum()``, ``market_value[listed].sum()`` and ``ai_capability.sum()``.

    Each is NumPy's pairwise sum (``revenue`` and ``ai_capability`` contiguous); only the listed
    rows of ``market_value`` are read.
    """
    return (
        sum_kernels.pairwise_sum(revenue),
        listed_sum(market_value, listed),
        sum_kernels.pairwise_sum(ai_capability),
    )


#: Entries of the centre's weights array (:func:`move`), in order.
COEFFICIENTS = (
    "priority_weight", "growth_weight", "jobs_weight", "jobs_growth_norm", "value_weight",
    "ai_weight", "stakeholder_weight", "speed", "priority_drift",
)  # fmt: skip


@kernel
def move(
    position: FloatArray, anchor: FloatArray, heard: FloatArray, total: float,
    coefficients: FloatArray, pulls: FloatArray, growth_gap: float, jobs_growth: float,
    value_fall: float, ai_gap: float, pinned: bool,
) -> float:  # fmt: skip
    """Set the centre's ``pulls``; unless ``pinned``, move its position and anchor; return easing.

    ``heard`` is ``listen @ position`` and ``total`` ``listen.sum()`` (``listen``: whom the
    centre listens to, itself excepted); ``coefficients`` holds the weights named in
    :data:`COEFFICIENTS`. Reproduces, in Python floats, with ``x = position[0]`` and ``a =
    anchor[0]``: ``others = heard / total if total > 0 else x``, ``behind = min(ai_gap, 0.0)`` and
    the pulls' rows ``pw * (a - x)``, ``(gw * growth_gap, 0.0)``, ``(jw * (jobs_growth - norm),
    0.0)``, ``(-vw * value_fall, 0.0)``, ``(aw * behind, -aw * behind)``, ``sw * (others - x)``;
    then, when free, ``new = min(max(x + speed * s, 0.0), 1.0)`` with ``s`` the pulls' rows added
    in order (as ``pulls.sum(axis=0)``), ``position[0] = new``, ``anchor[0] = a + drift * (new -
    a)``, and returns ``x[0] - new[0]`` (0.0 when pinned).
    """
    pw, gw, jw, norm = coefficients[0], coefficients[1], coefficients[2], coefficients[3]
    vw, aw, sw = coefficients[4], coefficients[5], coefficients[6]
    speed, drift = coefficients[7], coefficients[8]
    behind = 0.0 if ai_gap > 0.0 else ai_gap  # Python's min(ai_gap, 0.0): -0.0 stays -0.0
    for d in range(2):
        pulls[0, d] = pw * (anchor[0, d] - position[0, d])
        pulls[1, d] = 0.0
        pulls[2, d] = 0.0
        pulls[3, d] = 0.0
        other = heard[d] / total if total > 0 else position[0, d]
        pulls[5, d] = sw * (other - position[0, d])
    pulls[1, 0] = gw * growth_gap
    pulls[2, 0] = jw * (jobs_growth - norm)
    pulls[3, 0] = -vw * value_fall
    pulls[4, 0] = aw * behind
    pulls[4, 1] = -aw * behind
    if pinned:
        return 0.0
    easing = 0.0
    for d in range(2):
        s = pulls[0, d] + pulls[1, d] + pulls[2, d] + pulls[3, d] + pulls[4, d] + pulls[5, d]
        x, a = position[0, d], anchor[0, d]
        new = kernels.clip01(x + speed * s)  # Python's min(max(v, 0.0), 1.0), as np.clip
        if d == 0:
            easing = x - new
        position[0, d] = new
        anchor[0, d] = a + drift * (new - a)
    return easing


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
