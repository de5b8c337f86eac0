"""Confidence signals: each decays by half every ``half_life`` months; the model reads their sum.

A signal (a timeline event, the centre's announcement of an easing) has a strength, a half-life in
months and the month it was heard. Each month the model's ``signal`` is

    sum(strength * 0.5 ** ((month - heard) / half_life) for every signal heard so far)

added one term after another from 0.0, in the order heard. Every signal is kept (a free centre
announces one most months), so the sum is one compiled loop over arrays (:func:`decayed_sum`),
not a Python loop over tuples. Python's own ``sum`` of floats adds the same way up to Python 3.11
and with a compensated sum from 3.12, so the loop also gives every Python version the same bits.
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels import FloatArray, kernel

#: Rows of :attr:`Signals.table`.
STRENGTH, HALF_LIFE, HEARD = 0, 1, 2


@kernel
def decayed_sum(table: FloatArray, count: int, month: float, base: float) -> float:
    """Return ``sum(s * base ** ((month - t0) / hl))`` over ``table``'s first ``count`` signals.

    ``table`` has rows :data:`STRENGTH`, :data:`HALF_LIFE` and :data:`HEARD`; the terms are added
    in order from 0.0.

    ``base`` is an argument, not a constant: the compiler turns a power of a constant power of
    two into ``exp2``, which may differ from ``pow`` in the last bit.
    """
    total = 0.0
    for i in range(count):
        heard = table[HEARD, i]
        total += table[STRENGTH, i] * base ** ((month - heard) / table[HALF_LIFE, i])
    return total


class Signals:
    """The signals heard so far: strength, half-life and month heard, in the order heard."""

    def __init__(self) -> None:
        #: One column per signal (rows :data:`STRENGTH`, :data:`HALF_LIFE`, :data:`HEARD`); the
        #: first :attr:`count` columns are in use.
        self.table: FloatArray = np.empty((3, 16))
        self.count = 0

    def add(self, strength: float, half_life_months: float, month: int) -> None:
        """Keep a signal of ``strength``, heard in ``month``, halving every ``half_life_months``."""
        if self.count == self.table.shape[1]:
            self.table = np.concatenate([self.table, np.empty_like(self.table)], axis=1)
        self.table[:, self.count] = strength, half_life_months, month
        self.count += 1

    def total(self, month: int) -> float:
        """Return the sum of the signals' strengths, each decayed to ``month``."""
        return decayed_sum(self.table, self.count, float(month), 0.5)
