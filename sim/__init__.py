"""policysim: an agent-based simulation of how China's state and its platforms influence each other.

The public API:

* :func:`load_scenario` reads and validates a scenario (by name or file, with overrides);
* :func:`run_scenario` runs one scenario with one seed and returns a :class:`RunResult`.
"""

from sim.errors import PolicysimError, ScenarioError
from sim.runner import RunResult, run_scenario
from sim.scenario import load_scenario

__version__ = "0.1.0"

__all__ = [
    "PolicysimError",
    "RunResult",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "run_scenario",
]
