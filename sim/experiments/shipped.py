"""Scenarios sent to worker processes: encoded once, rebuilt once per worker.

A batch hands its runs to worker processes in chunks, and each chunk's runs carry their scenario.
Pickled plainly, every chunk would arrive with a new copy of the scenario object: encoding and
rebuilding it costs milliseconds a chunk, and the model keeps what it builds per scenario
(:mod:`sim.model.start_cache`) for the same scenario *object* only, so each chunk's first run would
solve its start again. Here a scenario is pickled once in the sending process and travels as its
bytes with their SHA-256; a worker rebuilds each distinct scenario once (by its bytes' digest) and
hands the same object to every later run of it. Equal bytes are an equal scenario, so the runs and
their results are exactly those of a plainly pickled scenario.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

__all__ = ["encoded", "received"]

#: The most scenarios each side keeps (the oldest is dropped first).
MAX_KEPT = 64

#: Sending side: scenario's id -> (scenario, its digest, its pickled bytes).
_sent: dict[int, tuple[Scenario, str, bytes]] = {}
#: Receiving side: digest -> the scenario rebuilt from those bytes.
_rebuilt: dict[str, Scenario] = {}
_lock = threading.Lock()


def encoded(scenario: Scenario) -> tuple[str, bytes]:
    """Return a scenario's digest and pickled bytes, pickling each scenario object once.

    Args:
        scenario: The scenario to send.

    Returns:
        ``(digest, data)``: the SHA-256 of ``data``, and ``data``, the same bytes object each time
        (so a pickle of many runs of the scenario holds its bytes once).
    """
    kept = _sent.get(id(scenario))
    if kept is None or kept[0] is not scenario:
        data = pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL)
        kept = (scenario, hashlib.sha256(data).hexdigest(), data)
        with _lock:
            if len(_sent) >= MAX_KEPT:
                del _sent[next(iter(_sent))]
            _sent[id(scenario)] = kept
    return kept[1], kept[2]


def received(digest: str, data: bytes) -> Scenario:
    """Return the scenario of ``data``, the same object for every run sent with these bytes.

    Args:
        digest: The SHA-256 of ``data`` (from :func:`encoded`).
        data: The scenario's pickled bytes.
    """
    kept = _rebuilt.get(digest)
    if kept is None:
        kept = pickle.loads(data)  # noqa: S301 (bytes this package pickled for its own workers)
        with _lock:
            if len(_rebuilt) >= MAX_KEPT:
                del _rebuilt[next(iter(_rebuilt))]
            _rebuilt[digest] = kept
    return kept
