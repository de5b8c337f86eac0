"""Stage 5, analysis of runs: statistics, sensitivity, targets, validation and calibration.

Nothing here draws; the figures of these analyses are in :mod:`sim.plots`.
"""

from sim.analysis.calibration import calibrate
from sim.analysis.posterior import calibrate_abc
from sim.analysis.sensitivity import analyze_sweep
from sim.analysis.targets import load_targets
from sim.analysis.validation import run_validation

__all__ = [
    "analyze_sweep",
    "calibrate",
    "calibrate_abc",
    "load_targets",
    "run_validation",
]
