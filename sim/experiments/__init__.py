"""Stage 4, experiments: plan batches and sweeps, execute them, rerun a recorded run."""

from sim.experiments.batch import run_batch, run_sweep
from sim.experiments.executors import make_executor
from sim.experiments.plan import Plan, RunSpec, plan_batch, plan_sweep
from sim.experiments.rerun import rerun
from sim.experiments.seeds import spawn_seeds
from sim.experiments.sweep import Sweep, load_sweep

__all__ = [
    "Plan",
    "RunSpec",
    "Sweep",
    "load_sweep",
    "make_executor",
    "plan_batch",
    "plan_sweep",
    "rerun",
    "run_batch",
    "run_sweep",
    "spawn_seeds",
]
