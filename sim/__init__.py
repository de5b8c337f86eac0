"""policysim: an agent-based simulation of how China's state and its platforms influence each other.

The public API:

* :func:`load_scenario` reads and validates a scenario (by name or file, with overrides);
* :func:`run_scenario` runs one scenario with one seed and returns a :class:`RunResult`;
* :func:`run_batch` and :func:`run_sweep` run many (scenarios or a sweep's design points x
  replicates) into a results folder, and :func:`load_results` reads such a folder back.
"""

from typing import Any

from sim.errors import PolicysimError, ScenarioError
from sim.model.runner import RunResult, run_scenario
from sim.scenario.loader import load_scenario

__version__ = "0.1.0"

_LAZY = {
    "run_batch": "sim.experiments.batch",
    "run_sweep": "sim.experiments.batch",
    "load_results": "sim.results.load",
}


def __getattr__(name: str) -> Any:
    """Import the batch API on first use, so that ``import sim`` stays light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


__all__ = [
    "PolicysimError",
    "RunResult",
    "ScenarioError",
    "__version__",
    "load_results",
    "load_scenario",
    "run_batch",
    "run_scenario",
    "run_sweep",
]
