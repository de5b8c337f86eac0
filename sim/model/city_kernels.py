"""Compiled month of the cities: perceived growth, budgets, deal rates and lobbying, all at once.

A city's month is a handful of float operations on its own numbers and on three numbers every
city reads alike (GDP growth, the centre's stance, the confidence signal); only its deals draw
from the generator and touch other agents. :func:`city_month` does the arithmetic of every city
in one call, before the cities offer their deals in the month's random order: nothing a deal
changes (a firm's cash and growth, ties, a fund's stakes, a city's own budget) is read by the
arithmetic. Each rule does the operations of the Python it replaced, in the same order, on the
same IEEE doubles (``min``/``max`` written as the comparisons Python's make), so the numbers are
the same bit for bit; ``tests/model/test_city_kernels.py`` checks them against that Python.

The table's rows are :data:`SEEN`, :data:`BUDGET` and :data:`REFILLED` (the state) and the
constants' rows :data:`MEMORY` ... :data:`LOBBY_STRENGTH`, one column a city.
"""

from __future__ import annotations

from sim.model.kernels import kernel
from sim.model.sum_kernels import FloatArray, IntArray

#: Rows of the cities' state: perceived growth, deal budget, budget refilled since the start.
SEEN, BUDGET, REFILLED = 0, 1, 2
N_STATE = 3
#: Rows of the cities' constants.
MEMORY, REFILL, CAP, TARGET, GAP_SCALE, CAUTION, THRESHOLD, DEAL_RATE, IDEAL, LOBBY_STRENGTH = (
    range(10)
)
N_CONSTANTS = 10


@kernel
def support(caution: float, threshold: float, stance: float, signal: float) -> float:
    """Return how supportive the centre looks to a city, in [0, 1].

    ``min(max(1.0 - caution * stance / threshold + 0.5 * max(signal, 0.0), 0.0), 1.0)``, as
    comparisons (NaN and -0.0 as Python's ``max`` and ``min`` keep them: the first argument
    unless the second is greater, or less).
    """
    raw = 1.0 - caution * stance / threshold
    if signal < 0.0:
        signal = 0.0
    value = raw + 0.5 * signal
    if value < 0.0:
        value = 0.0
    if value > 1.0:
        value = 1.0
    return value


@kernel
def lobby_anchor(ideal: float, lobby_strength: float, gap: float) -> float:
    """Return a city's anchor on platform stringency: ``clip(ideal - strength * max(gap, 0))``."""
    if gap < 0.0:
        gap = 0.0
    anchor = ideal - lobby_strength * gap
    if anchor < 0.0:
        anchor = 0.0
    if anchor > 1.0:
        anchor = 1.0
    return anchor


@kernel
def city_month(
    gdp_growth: float, stance: float, signal: float, constants: FloatArray, state: FloatArray,
    anchor: FloatArray, rows: IntArray, first: int, stop: int, rate: FloatArray,
) -> None:  # fmt: skip
    """Do the month's arithmetic of cities ``first`` to ``stop - 1``; write their deal rates.

    For each city: ``seen += (gdp_growth - seen) / memory``; ``refilled = min(budget + refill,
    cap)``, booked in ``state[REFILLED]`` as ``refilled - budget`` and made the budget; ``gap =
    target - seen``; the deal rate ``deal_rate * min(share, 1.0) * support`` when ``share = gap /
    gap_scale`` is above 0 (else 0.0; a NaN share gives 0.0 too), into ``rate``; and the city's
    anchor (:func:`lobby_anchor`) into ``anchor[rows[i], 0]``.

    Args:
        gdp_growth: This month's GDP growth.
        stance: The centre's stance on platform stringency (its position, row 0, column 0).
        signal: The confidence signal.
        constants: The cities' constants, shape (:data:`N_CONSTANTS`, cities).
        state: The cities' state, shape (:data:`N_STATE`, cities), updated in place.
        anchor: The influence network's anchors; the cities' rows of column 0 are written.
        rows: Each city's row in the network.
        first: The first city.
        stop: One past the last city.
        rate: Each city's deal rate (Poisson mean), written for these cities.
    """
    for i in range(first, stop):
        seen = state[SEEN, i]
        seen = seen + (gdp_growth - seen) / constants[MEMORY, i]
        state[SEEN, i] = seen
        budget = state[BUDGET, i]
        refilled = budget + constants[REFILL, i]
        cap = constants[CAP, i]
        if cap < refilled:  # min(budget + refill, cap)
            refilled = cap
        state[REFILLED, i] = state[REFILLED, i] + (refilled - budget)
        state[BUDGET, i] = refilled
        gap = constants[TARGET, i] - seen
        share = gap / constants[GAP_SCALE, i]
        value = 0.0
        if share > 0.0:
            if share > 1.0:
                share = 1.0
            value = (
                constants[DEAL_RATE, i]
                * share
                * support(constants[CAUTION, i], constants[THRESHOLD, i], stance, signal)
            )
        rate[i] = value
        anchor[rows[i], 0] = lobby_anchor(constants[IDEAL, i], constants[LOBBY_STRENGTH, i], gap)
