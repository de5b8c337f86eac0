"""The decayed sum of the signals has the bits of the Python loop it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.signals import Signals
from tests.model.test_kernels import same_bits


def _python_sum(signals: list[tuple[float, float, int]], month: int) -> float:
    total = 0.0  # one term after another from 0.0, as Python's sum of floats up to 3.11
    for s, hl, t0 in signals:
        total += s * 0.5 ** ((month - t0) / hl)
    return total


@pytest.mark.parametrize("seed", range(8))
def test_total_is_the_python_sum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    signals = Signals()
    heard: list[tuple[float, float, int]] = []
    for month in range(150):
        for _ in range(int(rng.integers(0, 3))):
            strength = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.0, 1.0))
            half_life = float(rng.integers(1, 40)) if rng.random() < 0.5 else rng.uniform(0.3, 60)
            signals.add(strength, half_life, month)
            heard.append((strength, half_life, month))
        same_bits(np.array(signals.total(month)), np.array(_python_sum(heard, month)))
    assert signals.count == len(heard)


def test_no_signal_sums_to_zero() -> None:
    assert Signals().total(5) == 0.0
