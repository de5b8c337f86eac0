"""The master seed and the seeds derived from it.

One master seed gives every run's seed: ``SeedSequence(master).spawn(replicates)`` one per
replicate (:func:`spawn_seeds`), and two-entry spawn keys a seed for each other purpose (the ABC
sampler's generations, posterior draws: :func:`derived_seed`), so that the two never coincide.
"""

from __future__ import annotations

import numpy as np


def spawn_seeds(master: int, n: int) -> list[int]:
    """Return ``n`` per-replicate seeds spawned from one master seed.

    Args:
        master: The master seed (non-negative integer).
        n: Number of replicates.

    Returns:
        Seeds in ``[0, 2**63 - 1]``, the same for the same ``master`` whatever ``n`` is extended to.

    Example:
        >>> spawn_seeds(1, 3)[:2] == spawn_seeds(1, 2)
        True
    """
    children = np.random.SeedSequence(master).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]


def derived_seed(master: int, stream: int, index: int = 0) -> int:
    """Return a 32-bit seed for one purpose, derived from the master seed by SeedSequence.

    The spawn key ``(stream, index)`` has two entries, so these seeds never coincide with the
    per-replicate seeds of :func:`spawn_seeds` (spawn keys of one entry).

    Args:
        master: The master seed.
        stream: What the seed is for (e.g. :data:`POSTERIOR_STREAM`).
        index: Which one of that purpose (e.g. a generation).

    Returns:
        A seed in ``[0, 2**32)`` (what ``numpy.random.seed`` accepts).

    Example:
        >>> derived_seed(0, 1, 2) == derived_seed(0, 1, 2) != derived_seed(0, 1, 3)
        True
    """
    seq = np.random.SeedSequence(master, spawn_key=(stream, index))
    return int(seq.generate_state(1, dtype=np.uint32)[0])


SAMPLER_STREAM = 1
"""Stream of the seeds of the ABC sampler, one per generation (``sim calibrate``)."""
PREDICTIVE_STREAM = 2
"""Stream of the posterior draws of the predictive check (``sim calibrate``)."""
POSTERIOR_STREAM = 3
"""Stream of the posterior draws of a batch (``sim batch --posterior``)."""
