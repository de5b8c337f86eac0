"""The Python API for many runs: :func:`run_batch` and :func:`run_sweep` plan, then execute.

Planning is :mod:`sim.experiments.plan`, execution :mod:`sim.experiments.execution`; these two
functions join them for users who call policysim from Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.experiments.execution import run_plan
from sim.experiments.plan import plan_batch, plan_sweep
from sim.results.load import Results
from sim.scenario.schema import Scenario


def run_batch(
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    replicates: int = 10,
    seed: int = 0,
    overrides: Sequence[str] = (),
    months: int | None = None,
    posterior: str | Path | None = None,
    **execution: Any,
) -> Results:
    """Run scenarios x replicates into a batch folder and return its results.

    Args:
        scenarios: Names, files or loaded scenarios; None for every scenario on the search path.
        replicates: Runs per scenario; replicate ``k`` uses the same seed in every scenario.
        seed: The master seed.
        overrides: ``path=value`` overrides applied to every scenario.
        months: Months to simulate (overrides every scenario).
        posterior: A ``sim calibrate`` folder to draw each replicate's free parameters from.
        **execution: ``out``, ``executor``, ``workers``, ``scheduler``, ``resume``, ``force``,
            ``fail_fast``, ``progress``: see :func:`sim.experiments.execution.run_plan`.

    Returns:
        The results (``.runs``, ``.summary``, ``.timeseries``... as pandas DataFrames).

    Example:
        >>> import tempfile
        >>> from sim import run_batch
        >>> res = run_batch(["crackdown", "thaw"], replicates=2, months=6, executor="serial",
        ...                 out=tempfile.mkdtemp() + "/cmp")
        >>> res.runs[["scenario", "replicate", "status"]].values.tolist()
        [['crackdown', 0, 'ok'], ['crackdown', 1, 'ok'], ['thaw', 0, 'ok'], ['thaw', 1, 'ok']]
    """
    plan = plan_batch(scenarios, replicates=replicates, seed=seed, overrides=overrides,
                      months=months, posterior=posterior)  # fmt: skip
    return run_plan(plan, **execution)


def run_sweep(
    sweep: str | Path,
    *,
    replicates: int | None = None,
    seed: int = 0,
    overrides: Sequence[str] = (),
    months: int | None = None,
    detail: bool = True,
    **execution: Any,
) -> Results:
    """Run a sweep file's design points x replicates into a sweep folder.

    Args:
        sweep: A sweep file, or the name of one in ``scenarios/sweeps/``.
        replicates: Runs per point (default: the file's ``replicates``).
        seed: The master seed.
        overrides: ``path=value`` overrides applied to the base scenario.
        months: Months to simulate (overrides the base scenario).
        detail: Keep stakeholder positions and the influence network for replicate 0 of each
            point (``False``: time series and summaries only, for large designs).
        **execution: As for :func:`run_batch`.

    Returns:
        The results, with ``.design`` holding the design matrix.
    """
    plan = plan_sweep(
        sweep, replicates=replicates, seed=seed, overrides=overrides, months=months, detail=detail
    )
    return run_plan(plan, **execution)
