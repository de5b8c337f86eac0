"""Loading the compiled kernels into a process before it forks workers.

A worker forked from a process that holds the model's compiled kernels (:mod:`sim.model.kernels`)
starts with them; one forked from a process that does not loads them at its first run (Numba
imported, each kernel read from the on-disk cache: about half a second of CPU), every worker
of every pool again. :func:`warm` loads them once per process. A forking pool
(:func:`sim.experiments.pool_start.process_context`) calls it before it forks its workers, so a
script that runs many batches pays the load once, and the worker server imports this module,
which calls it, before it forks any worker.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)


@functools.cache
def warm() -> None:
    """Load the compiled kernels into this process (the first call; later calls do nothing).

    One month of the shipped ``baseline`` scenario (the file itself, not a scenario of that name
    earlier on the search path) calls every kernel a run calls in its first month, and
    :func:`sim.model.draw_kernels.load` the draws of probes and deals, which come later. It only
    saves time: if it fails, the workers load the kernels at their first run, as they would
    without it.

    Loading builds tens of thousands of objects (Numba's) that live as long as the process; it
    runs with the collector's passes made rare (:func:`sim.experiments.heap.fewer_collections`).
    At the default threshold, a load sometimes set off a full collection, a walk of every object
    the process holds (about 55 ms in a process that has planned a 400-run batch).
    """
    from sim.experiments.heap import fewer_collections
    from sim.model import draw_kernels
    from sim.model.runner import run_scenario
    from sim.scenario.loader import load_scenario
    from sim.scenario.search import PACKAGE_SCENARIOS

    shipped = PACKAGE_SCENARIOS / "baseline.yaml"
    try:
        with fewer_collections():
            run_scenario(load_scenario(shipped if shipped.is_file() else "baseline",
                                       ["months=1"]), 0)  # fmt: skip
            draw_kernels.load()
    except Exception:  # noqa: BLE001 (a warm-up only: the runs load what they need themselves)
        log.debug("loading the compiled kernels before forking workers failed", exc_info=True)


warm()
