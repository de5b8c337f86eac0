"""Loads the compiled kernels in the worker server, before it forks any worker.

The worker server (:func:`sim.experiments.executors.process_context`) imports the modules it
preloads and then forks every worker from itself. Importing this module runs one month of the
``baseline`` scenario, which loads Numba and the model's compiled kernels
(:mod:`sim.model.kernels`, from the on-disk cache, or compiled once if there is none), so each
worker starts with them instead of paying for them at its first run.
"""

from __future__ import annotations

from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario

run_scenario(load_scenario("baseline", ["months=1"]), 0)
