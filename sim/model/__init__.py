"""Stage 2, the model: :class:`PolicyModel`, its agents, influence, timeline and metrics.

:func:`run_scenario` is the one pure entry point every later stage runs the model through.
"""

from sim.model.metrics import METRICS, Metric, numeric_outcomes, summary_types
from sim.model.policy_model import PolicyModel
from sim.model.runner import RunResult, run_scenario

__all__ = [
    "METRICS",
    "Metric",
    "PolicyModel",
    "RunResult",
    "numeric_outcomes",
    "run_scenario",
    "summary_types",
]
